"""The review app's settings: read from the environment in one place, refused when invalid."""

from __future__ import annotations

import pytest

from review.settings import load_settings

pytestmark = pytest.mark.unit


def test_the_time_zone_defaults_to_utc_and_takes_an_iana_name() -> None:
    assert load_settings({}).timezone == "UTC"
    assert load_settings({"REVIEW_TIMEZONE": " Europe/London "}).timezone == "Europe/London"


@pytest.mark.parametrize("bad", ["Mars/Olympus", "GMT+25", "../etc/passwd"])
def test_an_unknown_time_zone_is_refused_by_name(bad: str) -> None:
    with pytest.raises(ValueError, match="REVIEW_TIMEZONE"):
        load_settings({"REVIEW_TIMEZONE": bad})


@pytest.mark.parametrize("key,value", [("LOW_CONFIDENCE_THRESHOLD", "1.5"), ("RETENTION_DAYS", "0")])
def test_out_of_range_numbers_are_refused(key: str, value: str) -> None:
    with pytest.raises(ValueError, match=key):
        load_settings({key: value})


def test_alert_targets_and_live_poll_are_read_here() -> None:
    s = load_settings(
        {
            "REVIEW_ALERT_WEBHOOK": " https://hooks.example/x ",
            "REVIEW_LIVE_POLL_SECONDS": "2",
            "REVIEW_ALERT_COMMAND": "mail -s 'New emergency' nurse@clinic.example",
            "REVIEW_PUBLIC_URL": "https://review.clinic.example/",
        }
    )
    assert s.alert_webhook == "https://hooks.example/x" and s.live_poll_seconds == 2.0
    assert s.alert_command == ("mail", "-s", "New emergency", "nurse@clinic.example")
    assert s.base_url == "https://review.clinic.example"
    defaults = load_settings({})
    assert (
        defaults.alert_webhook == "" and defaults.alert_command == () and defaults.base_url == "http://127.0.0.1:8081"
    )


@pytest.mark.parametrize(
    "key,value",
    [
        ("REVIEW_ALERT_WEBHOOK", "file:///etc/passwd"),
        ("REVIEW_LIVE_POLL_SECONDS", "0"),
        ("REVIEW_PUBLIC_URL", "review.example"),
    ],
)
def test_bad_alert_and_poll_settings_are_refused(key: str, value: str) -> None:
    with pytest.raises(ValueError, match=key):
        load_settings({key: value})
