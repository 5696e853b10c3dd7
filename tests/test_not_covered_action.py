"""actions.not_covered: the honest answer, the one related fact only where facts.yml names it, the offer."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet

from actions.not_covered import ActionAnswerNotCovered
from tests.conftest import make_tracker, response_names

pytestmark = pytest.mark.unit


@pytest.mark.asyncio
async def test_no_fact_is_given_where_none_is_related(dispatcher):
    events = await ActionAnswerNotCovered().run(
        dispatcher, make_tracker("ask_not_covered", text="what is the success rate?"), {}
    )
    assert response_names(dispatcher) == ["utter_not_covered", "utter_offer_callback"]
    assert not any(m.get("fact_ids") for m in dispatcher.messages)
    assert SlotSet("fact_ids", []) in events and SlotSet("last_topic", None) in events


@pytest.mark.asyncio
async def test_the_one_related_fact_comes_attributed_between_the_answer_and_the_offer(dispatcher, book):
    await ActionAnswerNotCovered().run(dispatcher, make_tracker("ask_not_covered", text="which camera do you use"), {})
    assert [m.get("response") for m in dispatcher.messages] == [
        "utter_not_covered",
        "utter_not_covered_related",
        None,
        "utter_offer_callback",
    ]
    fact = dispatcher.messages[2]
    assert fact["fact_ids"] == ["what.endoscope"] and book.fact("what.endoscope").answer in fact["text"]
    assert "The clinic's sheet says" in fact["text"]


def test_related_words_match_whole_words_only(book):
    assert book.related_fact("is the endoscope flexible") is not None
    assert book.related_fact("my telescope broke") is None
    assert book.related_fact("who is the surgeon") is None


def test_every_related_entry_names_a_real_fact(book):
    for entry in book.related:
        assert book.fact(entry.fact).id == entry.fact and entry.words


def test_the_shared_names_are_the_domains(domain):
    from clinic_vocabulary import CALLBACK_FORM, NOT_COVERED_ACTION, NOT_COVERED_INTENT, NOT_COVERED_RESPONSE

    assert NOT_COVERED_INTENT in domain["intents"]
    assert NOT_COVERED_ACTION in domain["actions"] and NOT_COVERED_RESPONSE in domain["responses"]
    assert CALLBACK_FORM in domain["forms"]
