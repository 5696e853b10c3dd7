"""The dashboard's "most common unanswered questions" and the group headings of "What the bot
couldn't answer" show a long unanswered message shortened: one pasted story (up to 500 characters
kept in the index) must not fill the at-a-glance card. Its full text stays among the examples."""

from __future__ import annotations

import html
import re
import time

import pytest

from tests.review.conftest import seeded_database
from tests.review.conversations import write_conversations
from tests.support.review_app import logged_in_staff

pytestmark = pytest.mark.integration

STORY = " ".join(["my neighbour told me about her cousin whose back surgery went wrong in another town"] * 6)
SHOWN_AT_MOST = 200


def _events():
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    t = time.time() - 3600
    parse = {"text": STORY, "intent": {"name": "nlu_fallback", "confidence": 0.2}, "entities": []}
    return [
        ActionExecuted("action_listen", timestamp=t),
        UserUttered(STORY, intent=parse["intent"], parse_data=parse, timestamp=t, input_channel="rest"),
        ActionExecuted("utter_default", timestamp=t + 0.1),
        BotUttered("Sorry, I did not understand that.", metadata={"utter_action": "utter_default"}, timestamp=t + 0.1),
        ActionExecuted("action_listen", timestamp=t + 0.1),
    ]


def _seed(url: str) -> None:
    write_conversations(url, {"long": _events()})


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def test_a_long_unanswered_message_is_shortened_in_the_headings_not_in_the_examples(tmp_path):
    with seeded_database("sqlite", tmp_path, _seed) as url, logged_in_staff(url, tmp_path / "server.log") as staff:
        top = re.search(r'<ol class="top-unanswered">(.*?)</ol>', staff.get("/").text, re.S)
        assert top, "the dashboard lists no unanswered question"
        (item,) = re.findall(r"<q>(.*?)</q>", top.group(1), re.S)
        assert len(_text(item)) <= SHOWN_AT_MOST and _text(item).startswith("my neighbour told me")
        page = staff.get("/unanswered").text
        (heading,) = re.findall(r'<h2 id="group-1">(.*?)</h2>', page, re.S)
        assert len(_text(heading)) <= SHOWN_AT_MOST
        assert STORY[:400] in html.unescape(page)  # the example itself, in full (as indexed)
