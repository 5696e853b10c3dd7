"""Several questions in one message, over real HTTP: the real Rasa and action servers, the trained
model in models/, the REST channel. The messages are the held-out tests/data/multi_topic.yml (never
trained or tuned on) and the single questions of tests/nlu_test.yml; the recurrence cases are that
file's `recurrence` and `own_recurrence` lists (feature cases, not held out)."""

from __future__ import annotations

import uuid
from typing import Iterator, List

import pytest
import requests
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from actions.facts import FactBook
from clinic_vocabulary import RECURRENCE_RESPONSE, RECURRENCE_TOPIC
from tests.conftest import ROOT
from tests.support.not_covered import stated_facts
from tests.support.servers import Servers, running_servers

pytestmark = pytest.mark.integration

HELDOUT = yaml.safe_load((ROOT / "tests" / "data" / "multi_topic.yml").read_text(encoding="utf-8"))["messages"]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def response_text(name: str) -> str:
    return DOMAIN["responses"][name][0]["text"]


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[Servers]:
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    with running_servers(tmp_path_factory.mktemp("servers"), extra_env={"CLINIC_PHONE": "", "CLINIC_EMAIL": ""}) as s:
        yield s


@pytest.fixture(scope="module")
def webhook(servers: Servers) -> str:
    return servers.webhook


def say(webhook: str, sender: str, text: str) -> List[str]:
    r = requests.post(webhook, json={"sender": sender, "message": text}, timeout=30)
    assert r.status_code == 200
    return [m.get("text", "") for m in r.json()]


def first_turn(webhook: str, text: str) -> List[str]:
    return say(webhook, f"mt-{uuid.uuid4()}", text)


def leads_in(book: FactBook, reply: str) -> List[str]:
    """The topics whose lead line the reply contains, in the order they appear."""
    found = [(reply.index(t.lead), name) for name, t in book.topics.items() if t.lead in reply]
    return [name for _, name in sorted(found)]


def test_the_heldout_set_is_big_enough_and_names_real_topics(book):
    two = [m for m in HELDOUT if len(m["topics"]) == 2]
    assert len(two) >= 60
    assert all(book.has_topic(t) for m in HELDOUT for t in m["topics"])


# The target is 90 %; measured 96.8 % (60/62) since session 7 (BENCHMARKS.md). The gate sits one
# message below what is reached, so a regression of one more message fails.
MIN_BOTH_TOPICS_ANSWERED = 0.95  # 59/62


def test_both_topics_are_answered_in_at_least_95_percent(webhook, book):
    answered, in_order, misses = 0, 0, []
    two = [m for m in HELDOUT if len(m["topics"]) == 2]
    for m in two:
        reply = "\n".join(first_turn(webhook, m["text"]))
        found = leads_in(book, reply)
        if set(m["topics"]) <= set(found):
            answered += 1
            in_order += [t for t in found if t in m["topics"]] == m["topics"]
        else:
            misses.append((m["text"], m["topics"], found))
    rate = answered / len(two)
    assert rate >= MIN_BOTH_TOPICS_ANSWERED, f"both topics answered in {rate:.1%}; missed: {misses}"
    assert in_order >= 0.9 * answered, "topics should come in the order asked"


def test_three_topic_messages_get_at_least_two_topics(webhook, book):
    three = [m for m in HELDOUT if len(m["topics"]) == 3]
    assert three
    for m in three:
        found = leads_in(book, "\n".join(first_turn(webhook, m["text"])))
        assert len(set(found) & set(m["topics"])) >= 2, (m["text"], found)


def test_at_least_95_percent_of_single_questions_are_not_split(webhook):
    singles = [e.get("text") for e in load_data(str(ROOT / "tests" / "nlu_test.yml")).training_examples]
    intro = response_text("utter_multi_topic_intro")
    split = [t for t in singles if intro in first_turn(webhook, t)]
    rate = len(split) / len(singles)
    assert rate <= 0.05, f"{rate:.1%} of {len(singles)} single questions got a several-topic answer: {split}"


def test_a_red_flag_anywhere_gets_only_the_escalation(webhook, book):
    reply = first_turn(
        webhook,
        "how long is the recovery and what does it cost? also since this morning i can't control my bladder and my "
        "groin is numb",
    )
    # The emergency response's custom payload (its level, for the widget) comes as a message without text.
    assert [t for t in reply if t] == [response_text("utter_emergency")]


def test_a_follow_up_after_two_topics_still_works(webhook, book):
    sender = f"mt-{uuid.uuid4()}"
    first = "\n".join(say(webhook, sender, "how big is the scar and will i be asleep?"))
    assert leads_in(book, first) == ["ask_scarring", "ask_anesthesia"]
    assert response_text("utter_multi_topic_intro") in first
    follow_up = "\n".join(say(webhook, sender, "and the cost?"))
    assert leads_in(book, follow_up) == ["ask_cost"]
    assert response_text("utter_multi_topic_intro") not in follow_up


def test_the_risk_deferral_comes_first(webhook, book):
    reply = first_turn(webhook, "how much does it cost and is it safe?")
    assert reply[0] == response_text("utter_risk_defer")
    assert leads_in(book, "\n".join(reply)) == ["ask_cost", "ask_safety"]


def test_a_question_about_the_patients_own_case_is_deferred_first(webhook, book):
    reply = first_turn(webhook, "what does it cost? and i have diabetes and a bad heart, am i a good candidate for it?")
    assert reply[0] == response_text("utter_personal_defer")
    assert "ask_indications" not in leads_in(book, "\n".join(reply))


@pytest.mark.parametrize(
    "text, held_back_words, answered_topic",
    [
        ("how long is recovery and how much does it cost? my back still hurts is that ok?", "recovery", "ask_cost"),
        ("my scar itches, normal? and when can i drive", "drive", None),
    ],
)
def test_a_topic_held_back_after_an_own_symptom_is_said_not_dropped(
    webhook, book, text, held_back_words, answered_topic
):
    """The deferral first; the general question that could read as an answer about the person is
    quoted and left to the team rather than silently dropped; an allowed topic is still answered."""
    reply = first_turn(webhook, text)
    assert reply[0] == response_text("utter_personal_defer")
    before, after = response_text("utter_multi_topic_held_back").split("{question}")
    assert any(t.startswith(before) and t.endswith(after) and held_back_words in t for t in reply), reply
    assert book.topics["ask_recovery_time"].lead not in "\n".join(reply)
    if answered_topic:
        assert book.topics[answered_topic].lead in "\n".join(reply)


def said_not_covered(text: str, question_words: str) -> bool:
    """Whether ``text`` is utter_multi_topic_not_covered quoting a question with ``question_words``."""
    before, after = response_text("utter_multi_topic_not_covered").split("{question}")
    return text.startswith(before) and text.endswith(after) and question_words in text.lower()


@pytest.mark.parametrize(
    "text, topic, question_words, topic_first",
    [
        ("how long is recovery and who is the surgeon?", "ask_recovery_time", "surgeon", True),
        ("who is going to do my operation, which doctor? and how much does it cost", "ask_cost", "doctor", False),
        ("Will I have a big scar? Also what should I bring with me to the hospital", "ask_scarring", "bring", True),
    ],
)
def test_a_part_the_sheet_does_not_answer_is_said_in_order_then_the_callback_is_offered(
    servers, book, text, topic, question_words, topic_first
):
    sender = f"mt-{uuid.uuid4()}"
    r = requests.post(servers.webhook, json={"sender": sender, "message": text}, timeout=30)
    assert r.status_code == 200
    messages = r.json()
    texts = [m.get("text", "") for m in messages]
    lead = next(i for i, t in enumerate(texts) if book.topics[topic].lead in t)
    said = next(i for i, t in enumerate(texts) if said_not_covered(t, question_words))
    assert (lead < said) == topic_first, texts
    assert texts[0] == response_text("utter_multi_topic_intro")
    # The callback offer, with its buttons, ends the reply; only the answered topic's facts are stated.
    assert texts[-1] == response_text("utter_offer_callback") and messages[-1].get("buttons")
    topic_facts = {f.id for f in book.facts_for(topic)}
    stated = [i for f in stated_facts(servers.db, sender) for i in f["fact_ids"]]
    assert stated and set(stated) <= topic_facts, stated
    # A yes starts the callback form, as after a single question the sheet does not answer.
    assert say(servers.webhook, sender, "yes please") == [response_text("utter_ask_callback_name")]


MULTI_TOPIC_DATA = yaml.safe_load((ROOT / "tests" / "data" / "multi_topic.yml").read_text(encoding="utf-8"))
RECURRENCE_CASES = MULTI_TOPIC_DATA["recurrence"]
OWN_RECURRENCE = MULTI_TOPIC_DATA["own_recurrence"]


def answers_in(book: FactBook, texts: List[str]) -> List[str]:
    """The topics the reply answers in order: each topic's lead line, and ``recurrence_question``
    where utter_recurrence_not_covered is said."""
    recurrence = response_text(RECURRENCE_RESPONSE)
    out: List[str] = []
    for text in texts:
        if text == recurrence:
            out.append(RECURRENCE_TOPIC)
        out += leads_in(book, text)
    return out


@pytest.mark.parametrize("case", RECURRENCE_CASES, ids=[c["text"][:40] for c in RECURRENCE_CASES])
def test_a_recurrence_part_is_answered_at_its_place_then_the_callback_is_offered(servers, book, case):
    """'how long is recovery and can the hernia come back?': the recovery facts, then at its place what
    the sheet does not say about the problem coming back (no fact for it), then the callback offer."""
    sender = f"mt-{uuid.uuid4()}"
    r = requests.post(servers.webhook, json={"sender": sender, "message": case["text"]}, timeout=30)
    assert r.status_code == 200
    messages = r.json()
    texts = [m.get("text", "") for m in messages]
    assert answers_in(book, texts) == case["answers"], texts
    assert response_text("utter_multi_topic_intro") in texts
    assert texts[-1] == response_text("utter_offer_callback") and messages[-1].get("buttons")
    topics = [t for t in case["answers"] if t != RECURRENCE_TOPIC]
    allowed = {f.id for t in topics for f in book.facts_for(t)}
    stated = [i for f in stated_facts(servers.db, sender) for i in f["fact_ids"]]
    assert stated and set(stated) <= allowed, stated


def test_yes_after_a_recurrence_part_starts_the_callback_form(webhook):
    sender = f"mt-{uuid.uuid4()}"
    say(webhook, sender, RECURRENCE_CASES[0]["text"])
    assert say(webhook, sender, "yes please") == [response_text("utter_ask_callback_name")]


@pytest.mark.parametrize("text", OWN_RECURRENCE)
def test_an_own_recurrence_beside_other_questions_gets_the_deferral_never_the_recurrence_answer(webhook, text):
    reply = first_turn(webhook, text)
    assert reply[0] == response_text("utter_personal_defer"), reply
    assert response_text(RECURRENCE_RESPONSE) not in reply


def test_a_red_flag_beside_a_recurrence_part_gets_only_the_escalation(webhook):
    reply = first_turn(
        webhook, "how long is recovery and can the hernia come back? since yesterday i cant control my bladder"
    )
    assert [t for t in reply if t] == [response_text("utter_emergency")]
