"""Container HEALTHCHECK: exit 0 when the URL answers 200, else 1 (the slim images have no curl).

python deploy/healthcheck.py http://127.0.0.1:5005/webhooks/patient/health
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request


def healthy(url: str, timeout: float = 4.0) -> bool:
    """True when ``url`` answers ``200`` within ``timeout`` seconds."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


if __name__ == "__main__":
    sys.exit(0 if len(sys.argv) == 2 and healthy(sys.argv[1]) else 1)
