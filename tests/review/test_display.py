"""How times and conversation ids are shown: local zone with its name, waiting times, short names."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from review.display import duration, local_time, short_name

pytestmark = pytest.mark.unit


def test_local_time_is_in_the_zone_with_its_abbreviation() -> None:
    winter = datetime(2026, 12, 1, 14, 0, 5, tzinfo=timezone.utc).timestamp()
    summer = datetime(2026, 7, 1, 14, 0, 5, tzinfo=timezone.utc).timestamp()
    assert local_time(winter, "Europe/Berlin") == "2026-12-01 15:00:05 CET"
    assert local_time(summer, "Europe/Berlin") == "2026-07-01 16:00:05 CEST"
    assert local_time(winter, "UTC") == "2026-12-01 14:00:05 UTC"
    assert local_time(None, "UTC") == "" and local_time(winter, "UTC", seconds=False) == "2026-12-01 14:00 UTC"


@pytest.mark.parametrize(
    "seconds,text",
    [
        (-5, "0 s"),
        (45, "45 s"),
        (60, "1 min"),
        (3599, "59 min"),
        (3600, "1 h"),
        (3725, "1 h 2 min"),
        (86400, "1 day"),
        (2 * 86400 + 4 * 3600 + 59, "2 days 4 h"),
    ],
)
def test_waiting_times_read_as_people_say_them(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_short_names_are_stable_readable_and_spread() -> None:
    sender = "a3f9c2e1" * 9  # a 72-character hash, as the widget's ids look
    name = short_name(sender)
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", name) and len(name) <= 24
    assert short_name(sender) == name  # stable: derived from the id, nothing stored
    names = {short_name(f"conv-{i}") for i in range(1000)}
    assert len(names) >= 995  # different ids get different names, nearly always
