"""review.store: a button click is indexed as the title the patient saw, not its payload, in the
lists (the last patient message, the worst message of Open items, the search text), also when the
offer and the click are folded in separate indexing passes."""

from __future__ import annotations

import time

import pytest

from review import store
from review.settings import load_settings
from tests.review.conversations import write_conversations

pytestmark = pytest.mark.integration


def _events(t: float):
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

    def user(text, intent):
        parse = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []}
        return UserUttered(text, intent=parse["intent"], parse_data=parse, timestamp=t, input_channel="rest")

    buttons = [{"title": "Yes, call me back", "payload": "/affirm"}, {"title": "No, thanks", "payload": "/deny"}]
    offer = [
        ActionExecuted("action_listen", timestamp=t),
        user("I want to talk to a person", "request_human"),
        ActionExecuted("utter_offer_callback", timestamp=t),
        BotUttered("Would you like the clinic to call you back?", data={"buttons": buttons}, timestamp=t),
        ActionExecuted("action_listen", timestamp=t),
    ]
    request = {"name": "Jo", "phone": "030 1234 5678", "preferred_time": "mornings"}
    click = [
        user("/affirm", "affirm"),
        ActionExecuted("callback_form", timestamp=t),
        SlotSet("callback_request", request, timestamp=t),
    ]
    return offer, click


def _summary(engine, settings, sender):
    store.index_new_events(engine, settings, wait=30.0)
    return store.get_summary(engine, sender, settings.low_confidence_threshold)


@pytest.mark.parametrize("passes", ["one pass", "offer and click in separate passes"])
def test_a_button_click_is_listed_as_the_title_the_patient_saw(tmp_path, passes):
    url = f"sqlite:///{tmp_path / 'rasa.db'}"
    settings = load_settings({"DATABASE_URL": url})
    engine = store.make_engine(settings)
    store.create_schema(engine)
    offer, click = _events(time.time() - 60)
    if passes != "one pass":
        write_conversations(url, {"c": offer})
        assert _summary(engine, settings, "c")["last_user_text"] == "I want to talk to a person"
    write_conversations(url, {"c": offer + click})
    summary = _summary(engine, settings, "c")
    assert summary["last_user_text"] == "Yes, call me back"
    assert (summary["worst_flag"], summary["worst_text"]) == ("callback", "Yes, call me back")
    assert "/affirm" not in summary["search_text"]
