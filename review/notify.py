"""Alerts for new crisis and emergency conversations: a webhook and/or a local command, both optional.

The indexer (``store.index_new_events``) hands over each conversation that has just become a crisis or
emergency, once. An alert carries no patient text: only the level, a link to the conversation in the
review app and the time of the message (ISO 8601, in the configured time zone). It is sent from a
thread of its own, so a slow receiver never holds up indexing. Failures are logged by kind only
(exception type, HTTP status, exit code): never the payload, the URL (it may hold a token) or any id.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any, Dict, List, Sequence
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from review.settings import Settings

log = logging.getLogger("review.notify")
TIMEOUT_SECONDS = 10
# Only arrivals: a conversation whose alarming message is older than this (e.g. a first index of old
# data) is not announced.
MAX_AGE_SECONDS = 6 * 3600


def payload(settings: Settings, sender_id: str, level: str, ts: float) -> Dict[str, Any]:
    """What an alert says: level, link, time (no patient text)."""
    when = datetime.fromtimestamp(ts, tz=ZoneInfo(settings.timezone))
    return {
        "level": level,
        "conversation": f"{settings.base_url}/conversation?{urlencode({'id': sender_id})}",
        "time": when.isoformat(timespec="seconds"),
    }


def _post(url: str, body: bytes) -> None:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", "User-Agent": "review-alert"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as resp:  # noqa: S310 (configured URL)
            resp.read(1024)
    except urllib.error.HTTPError as error:
        log.error("alert webhook failed: HTTP %s", error.code)
    except Exception as error:  # noqa: BLE001 - any failure is logged, never raised into the indexer
        log.error("alert webhook failed: %s", type(error).__name__)


def _run(command: Sequence[str], body: bytes) -> None:
    try:
        result = subprocess.run(
            list(command),
            input=body,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except Exception as error:  # noqa: BLE001
        log.error("alert command failed: %s", type(error).__name__)
        return
    if result.returncode != 0:
        log.error("alert command failed: exit code %d", result.returncode)


def deliver(settings: Settings, alerts: Sequence[Any]) -> None:
    """Send ``alerts`` (objects with sender_id, level, ts) now, one message each, to every configured target."""
    for alert in alerts:
        body = json.dumps(payload(settings, alert.sender_id, alert.level, alert.ts)).encode("utf-8")
        if settings.alert_webhook:
            _post(settings.alert_webhook, body)
        if settings.alert_command:
            _run(settings.alert_command, body)


def send_alerts(settings: Settings, alerts: Sequence[Any]) -> None:
    """Send the recent ones of ``alerts`` in a background thread (not a daemon: a command-line index
    waits for it before exiting). Nothing happens when no target is configured."""
    if not (settings.alert_webhook or settings.alert_command):
        return
    now = time.time()
    recent: List[Any] = [a for a in alerts if now - a.ts <= MAX_AGE_SECONDS]
    if recent:
        threading.Thread(target=deliver, args=(settings, recent), name="review-alerts", daemon=False).start()
