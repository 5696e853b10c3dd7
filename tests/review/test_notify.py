"""Alerts for new crisis / emergency conversations, sent to a real local HTTP receiver."""

from __future__ import annotations

import pytest

import json
import logging
import time

from review.notify import MAX_AGE_SECONDS, deliver, payload, send_alerts
from review.settings import load_settings
from review.store import Alert
from tests.review.helpers import Receiver

pytestmark = pytest.mark.integration


def test_an_alert_carries_level_link_and_local_time_only() -> None:
    settings = load_settings({"REVIEW_PUBLIC_URL": "https://review.example", "REVIEW_TIMEZONE": "Europe/Berlin"})
    body = payload(settings, "web:a&b", "crisis", 1_800_000_000.0)
    assert body == {
        "level": "crisis",
        "conversation": "https://review.example/conversation?id=web%3Aa%26b",
        "time": "2027-01-15T09:00:00+01:00",
    }


def test_recent_alerts_are_posted_and_old_ones_are_not() -> None:
    receiver = Receiver()
    try:
        settings = load_settings({"REVIEW_ALERT_WEBHOOK": receiver.url + "/hook"})
        now = time.time()
        send_alerts(
            settings, [Alert("old-one", "emergency", now - MAX_AGE_SECONDS - 60), Alert("new-one", "crisis", now)]
        )
        receiver.wait_until(lambda: receiver.alerts(), "the alert")
        alerts = receiver.alerts()
        assert [a["conversation"].rsplit("=", 1)[1] for a in alerts] == ["new-one"]
        send_alerts(settings, [Alert("next-one", "emergency", time.time())])  # sent in order: the old one never came
        receiver.wait_until(lambda: len(receiver.alerts()) == 2, "the second alert")
        assert "old-one" not in json.dumps(receiver.alerts())
    finally:
        receiver.close()


def test_a_failure_is_logged_by_kind_only(caplog) -> None:
    receiver = Receiver()
    receiver.close()  # nothing listens there any more
    settings = load_settings({"REVIEW_ALERT_WEBHOOK": receiver.url + "/hook?token=secret"})
    with caplog.at_level(logging.ERROR, logger="review.notify"):
        deliver(settings, [Alert("patient-jane", "emergency", time.time())])
    assert [r.getMessage() for r in caplog.records] == ["alert webhook failed: URLError"]
    assert "secret" not in caplog.text and "patient-jane" not in caplog.text
