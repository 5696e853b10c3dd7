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
