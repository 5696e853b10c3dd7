"""Everything that changes Rasa's behaviour at run time, in one package, installed in one call.

Rasa 3.6.21 is used as a library; a few of its internals are replaced in the running server, each
for a measured reason (BENCHMARKS.md) and each tested to give Rasa's results:

======================  =====================================================================
patch                   what it changes
======================  =====================================================================
action_timeout          the seconds the server waits for a custom action (Rasa: 300)
safe_reply              a failed action becomes a stored, flagged "could not answer" reply
cached_validation       the action server's answer is validated with a schema built once
short_action_calls      the action server gets the events since the patient's latest message
kept_alive_requests     connections to the action server are reused across calls
sequential_runner       the prediction graph runs in order, without dask
tracker_speedups        tracker copies and applied events without replaying the conversation
parse_offload           a message's NLU parse runs on a worker thread when others are waiting
event_lookup            stored events are turned back into classes by a table lookup
======================  =====================================================================

:func:`install` is called wherever a Rasa server starts: by ``python -m clinic_runtime`` (the
entry point ``make run``, ``make run-cluster``, the images and ``make stories`` use, whatever channels
are configured) and again, idempotently, by the project's input channels. It

- checks the Rasa version the patches were written against and, on any other, installs nothing
  and says so in one log line (a patched internal may have changed);
- is switched off with ``CLINIC_RASA_PATCHES=off``: plain Rasa, the same answers, slower (to rule
  the patches out when something goes wrong);
- logs each patch it installs, and can be undone (:func:`uninstall`, for tests).

Contract for caches kept on Rasa objects, owned by :mod:`tracker_speedups`: a module that caches on
a tracker (``tracker.__dict__``) names its key with the prefix ``tracker_speedups.CACHE_PREFIX``
(``_clinic_``) and checks the cache against the events it was built from before using it; the fast
copy gives a copy none of these caches, so a cache object never belongs to two trackers.
"""

from __future__ import annotations

from clinic_runtime.layer import (
    PATCHES_ENV,
    RASA_VERSION,
    install,
    installed,
    patch_names,
    uninstall,
)

__all__ = ["PATCHES_ENV", "RASA_VERSION", "install", "installed", "patch_names", "uninstall"]
