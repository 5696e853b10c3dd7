"""Headless Chromium for the browser tests: Debian's package, driven by Playwright.

The widget's tests (``tests/browser``) and the staff app's (``tests/review``) launch it the same way.
A missing browser fails the run instead of skipping it: ``make setup`` installs it.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

# CHROMIUM names another binary; REVIEW_TEST_CHROMIUM is the staff app tests' older name for it.
_CONFIGURED = os.environ.get("CHROMIUM") or os.environ.get("REVIEW_TEST_CHROMIUM") or "/usr/bin/chromium"

# Without the background-networking switches Chromium hangs on a closed network.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def executable() -> str:
    """The Chromium binary to launch; raises when there is none (the tests cannot run without it)."""
    path = _CONFIGURED if os.path.exists(_CONFIGURED) else shutil.which("chromium")
    if not path:
        raise RuntimeError("Chromium is missing: `make setup` installs Debian's chromium (apt-get install chromium)")
    return path


def launch(playwright: Any) -> Any:
    """A headless Chromium browser from a started ``sync_playwright()`` object."""
    return playwright.chromium.launch(executable_path=executable(), args=ARGS, headless=True)
