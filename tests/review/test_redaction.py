"""review.store.redact: contact details and dates of birth are masked, ordinary text is kept."""

from __future__ import annotations

import pytest

from review.store import redact

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "text, expected",
    [
        ("call me on +41 44 123 45 67", "call me on [phone]"),
        ("mail anna.meier@example.org please", "mail [email] please"),
        ("i was born 12/03/1975", "i was born [date]"),
        ("dob 1975-03-12", "dob [date]"),
        ("born on 3 March 1975", "born on [date]"),
        ("born March 3rd, 1975 in Zurich", "born [date] in Zurich"),
        ("date of birth: 3.3.75", "date of birth: [date]"),
    ],
)
def test_personal_details_are_masked(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "the pain started 3 weeks ago",
        "i had surgery in 2019",
        "is 7 mm a big cut",
        "L4/L5 disc",
        "back to work after 3 to 6 weeks",
    ],
)
def test_ordinary_medical_text_is_kept(text):
    assert redact(text) == text
