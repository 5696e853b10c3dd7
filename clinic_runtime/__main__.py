"""``python -m clinic_runtime <rasa arguments>``: the ``rasa`` command with the runtime layer installed.

What ``make run``, ``make run-cluster``, the container images and ``make stories`` start, so that the
server (or the story test) runs with the same patches whatever channels are configured.
``CLINIC_RASA_PATCHES=off`` gives plain Rasa. Example::

    python -m clinic_runtime run --model models --credentials credentials.yml --endpoints endpoints.yml
"""

from __future__ import annotations

import logging
import sys


def main() -> None:
    import clinic_runtime

    # Rasa sets up logging only when its command runs; the layer's lines come before that.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-8s %(name)s - %(message)s"))
    log = logging.getLogger("clinic_runtime")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    clinic_runtime.install()

    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
