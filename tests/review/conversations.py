"""Realistic conversations written with Rasa's own SQLTrackerStore (so the ``events`` schema is real).

Each conversation mirrors what the assistant does (domain.yml rules, actions/): the event types,
the parse data of the NLU pipeline (incl. the red-flag override's ``classifier_intent`` and
``red_flags``), bot metadata from custom actions (``topic``, ``fact_ids``, ``utter_action``) and the
slots set by the actions (``handoff_requested``, ``personal_question``, ``callback_request``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
DAY = 86400.0

XSS_TEXT = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes"'
PHONE = "0151 2345 6789"
CONTACT_TEXT = "please email me at jane.doe@example.com or ring +44 20 7946 0958"


def _parse(text: str, intent: str, conf: float, ranking: Optional[List[tuple]] = None, **extra: Any) -> Dict[str, Any]:
    ranking = ranking or [(intent, conf)]
    data = {
        "text": text,
        "intent": {"name": intent, "confidence": conf},
        "entities": [],
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        "red_flags": [],
    }
    data.update(extra)
    return data


def sample_events(now: Optional[float] = None) -> Dict[str, List[Any]]:
    """sender_id -> list of Rasa events."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

    now = now or time.time()

    def user(t, text, intent, conf, ranking=None, metadata=None, message_id=None, **extra):
        return UserUttered(
            text,
            intent={"name": intent, "confidence": conf},
            parse_data=_parse(text, intent, conf, ranking, **extra),
            timestamp=t,
            input_channel="rest",
            metadata=metadata or {},
            message_id=message_id,
        )

    def act(t, name, policy="RulePolicy", conf=1.0):
        return ActionExecuted(name, policy=policy, confidence=conf, timestamp=t)

    def bot(t, text, utter_action=None, buttons=None, custom=None, **meta):
        metadata = dict(meta)
        if utter_action:
            metadata["utter_action"] = utter_action
        return BotUttered(text, data={"buttons": buttons, "custom": custom}, metadata=metadata, timestamp=t)

    def start(t):
        return [
            ActionExecuted("action_session_start", timestamp=t),
            SessionStarted(timestamp=t),
            ActionExecuted("action_listen", timestamp=t),
        ]

    convs: Dict[str, List[Any]] = {}
    t = now - 1 * DAY
    convs["conv-emergency"] = start(t) + [
        user(
            t + 1,
            "I suddenly can't feel my legs and I can't control my bladder",
            "report_emergency",
            1.0,
            [("report_emergency", 1.0), ("ask_recovery_time", 0.41)],
            classifier_intent={"name": "ask_recovery_time", "confidence": 0.41},
            red_flags=[{"flag": "cauda_equina", "matched": "can't control my bladder"}],
        ),
        act(t + 2, "utter_emergency"),
        bot(
            t + 2,
            "This could be a medical emergency. Please call your local emergency number now.",
            "utter_emergency",
            custom={"emergency": True},
        ),
        act(t + 3, "action_listen"),
    ]
    t = now - 2 * DAY
    convs["conv-callback"] = start(t) + [
        user(t + 1, "can I talk to a real person", "request_human", 0.93),
        act(t + 2, "action_handoff"),
        bot(t + 2, "Of course. I don't have the contact details of the clinic yet.", "utter_handoff_no_contact"),
        bot(
            t + 2,
            "Would you like the clinic to call you back?",
            "utter_offer_callback",
            buttons=[{"title": "Yes, call me back", "payload": "/affirm"}],
        ),
        SlotSet("handoff_requested", True, timestamp=t + 2),
        act(t + 3, "action_listen"),
        user(t + 10, "yes please", "affirm", 0.97),
        act(t + 11, "callback_form"),
        bot(t + 11, "What name should the clinic ask for?", "utter_ask_callback_name"),
        act(t + 12, "action_listen"),
        user(t + 20, "Maria Lopez", "greet", 0.45),
        SlotSet("callback_name", "Maria Lopez", timestamp=t + 21),
        bot(t + 21, "Which phone number should they call?", "utter_ask_callback_phone"),
        user(t + 30, PHONE, "greet", 0.40),
        SlotSet("callback_phone", PHONE, timestamp=t + 31),
        user(t + 40, "weekday mornings", "ask_recovery_time", 0.52),
        SlotSet("callback_time", "weekday mornings", timestamp=t + 41),
        act(t + 42, "action_submit_callback"),
        bot(
            t + 42,
            f"Thank you, Maria Lopez. The clinic's staff will call you at {PHONE} (weekday mornings).",
            "utter_callback_submitted",
        ),
        SlotSet(
            "callback_request",
            {
                "name": "Maria Lopez",
                "phone": PHONE,
                "preferred_time": "weekday mornings",
                "consent": True,
                "requested_at": "2026-11-23T10:00:42+00:00",
            },
            timestamp=t + 42,
        ),
        SlotSet("callback_name", None, timestamp=t + 42),
        act(t + 43, "action_listen"),
    ]
    t = now - 3 * DAY
    convs["conv-personal"] = start(t) + [
        user(t + 1, "I'm 67 and diabetic, am I a candidate for this?", "ask_personal_advice", 0.88),
        act(t + 2, "action_defer_personal"),
        bot(
            t + 2,
            "Thank you for telling me about your situation. I can't say what is right for you.",
            "utter_personal_defer",
        ),
        SlotSet("personal_question", True, timestamp=t + 2),
    ]
    t = now - 3.5 * DAY
    convs["conv-lowconf"] = start(t) + [
        user(
            t + 1,
            "what about the thingy with the nerve",
            "nlu_fallback",
            0.30,
            [("ask_indications", 0.31), ("ask_what_is_endoscopy", 0.22)],
        ),
        act(t + 2, "action_default_fallback", "RulePolicy", 1.0),
        bot(
            t + 2,
            "Sorry, I am not sure I understood. Could you say it another way, or pick a topic?",
            "utter_ask_rephrase",
        ),
        user(t + 20, "how much does it cost", "ask_cost", 0.42, [("ask_cost", 0.42), ("ask_recovery_time", 0.2)]),
        act(t + 21, "action_answer_topic", "RulePolicy", 1.0),
        bot(t + 21, "The information sheet does not give a price.", topic="ask_cost", fact_ids=["cost_1"]),
    ]
    t = now - 4 * DAY
    convs["conv-oos"] = start(t) + [
        user(t + 1, "what's the weather tomorrow", "out_of_scope", 0.95),
        act(t + 2, "utter_out_of_scope"),
        bot(
            t + 2,
            "Sorry, I can only answer general questions about spinal endoscopy at this clinic.",
            "utter_out_of_scope",
        ),
    ]
    t = now - 4.5 * DAY
    convs["conv-xss"] = start(t) + [
        user(t + 1, XSS_TEXT, "out_of_scope", 0.62),
        act(t + 2, "utter_default"),
        bot(t + 2, "Sorry, I can't help with that here.", "utter_default"),
    ]
    t = now - 5 * DAY
    convs["conv-answer"] = start(t) + [
        user(t + 1, "how long is recovery?", "ask_recovery_time", 0.97),
        act(t + 2, "action_answer_topic", "RulePolicy", 1.0),
        bot(
            t + 2,
            "Most people go home the same day or the next day.",
            topic="ask_recovery_time",
            fact_ids=["recovery_1", "recovery_2"],
        ),
        bot(t + 2, "Would you like to know more about this?", "utter_offer_more"),
        user(t + 30, '=HYPERLINK("http://evil")', "deny", 0.81),
        act(t + 31, "utter_ok"),
        bot(t + 31, "All right. Is there anything else you would like to know?", "utter_ok"),
    ]
    t = now - 5.5 * DAY
    convs["conv-feedback"] = start(t) + [
        user(t + 1, "is the scar big", "ask_scarring", 0.91, message_id="m-scar-0001"),
        act(t + 2, "action_answer_topic", "RulePolicy", 1.0),
        bot(t + 2, "The cut is small, about one centimetre.", topic="ask_scarring", fact_ids=["scar_1"]),
        # the widget's thumbs-down, as the patient channel stores it (clinic_channel/patient.py)
        SlotSet("feedback", {"message_id": "m-scar-0001", "rating": "down"}, timestamp=t + 10),
        user(t + 20, "that did not answer my question", "deny", 0.77),
        act(t + 21, "utter_ok"),
        bot(t + 21, "All right. Is there anything else you would like to know?", "utter_ok"),
    ]
    t = now - 6 * DAY
    convs["conv-contact"] = start(t) + [
        user(t + 1, CONTACT_TEXT, "request_human", 0.71),
        act(t + 2, "action_handoff"),
        bot(t + 2, "Of course. You can reach a person at the clinic here:", "utter_handoff_intro"),
        SlotSet("handoff_requested", True, timestamp=t + 2),
    ]
    t = now - 6.5 * DAY
    convs["conv-dup"] = start(t) + [
        user(t + 1, "  What about the THINGY with the   nerve ", "nlu_fallback", 0.28),
        act(t + 2, "action_default_fallback", "RulePolicy", 1.0),
        bot(t + 2, "Sorry, I am not sure I understood.", "utter_ask_rephrase"),
    ]
    t = now - 400 * DAY
    convs["conv-old"] = start(t) + [
        user(t + 1, "what does it cost", "ask_cost", 0.96),
        act(t + 2, "action_answer_topic", "RulePolicy", 1.0),
        bot(t + 2, "The information sheet does not give a price.", topic="ask_cost", fact_ids=["cost_1"]),
    ]
    return convs


# Newest first, as the list shows them.
SAMPLE_ORDER = [
    "conv-emergency",
    "conv-callback",
    "conv-personal",
    "conv-lowconf",
    "conv-oos",
    "conv-xss",
    "conv-answer",
    "conv-feedback",
    "conv-contact",
    "conv-dup",
    "conv-old",
]
SAMPLE_IDS = set(SAMPLE_ORDER)
EXPECTED_FLAGS = {
    "emergency": {"conv-emergency"},
    "handoff": {"conv-callback", "conv-contact"},
    "personal": {"conv-personal"},
    "fallback": {"conv-lowconf", "conv-callback", "conv-dup"},
    "low_confidence": {"conv-lowconf", "conv-callback", "conv-dup"},
    "out_of_scope": {"conv-oos", "conv-xss"},
    "feedback": {"conv-feedback"},
    "callback": {"conv-callback"},
}
# Training data the test servers use (REVIEW_NLU_FILE): corrections of these texts are not exported.
NLU_FIXTURE = """version: "3.1"
nlu:
- intent: ask_cost
  examples: |
    - How much does it cost
    - price?
"""


def write_conversations(db_url: str, convs: Dict[str, List[Any]]) -> None:
    """Save with Rasa's SQLTrackerStore (creates ``events`` exactly as the Rasa server does)."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load(str(ROOT / "domain.yml"))
    store = SQLTrackerStore(domain=domain, host=db_url)

    async def save_all() -> None:
        for sender, evts in convs.items():
            await store.save(DialogueStateTracker.from_events(sender, evts, slots=domain.slots))

    try:
        # in a thread of its own: callers (e.g. Playwright's sync API) may have an event loop running
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, save_all()).result()
    finally:
        store.engine.dispose()


def write_samples(db_url: str, now: Optional[float] = None) -> Dict[str, List[Any]]:
    convs = sample_events(now)
    write_conversations(db_url, convs)
    return convs
