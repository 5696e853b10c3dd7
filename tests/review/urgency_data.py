"""Conversations of every urgency level (for the Open items order, worst message and live count tests)."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

# Expected Open items order: worst level first, then the longest waiting.
URGENCY_IDS = [
    "urg-crisis-early",
    "urg-emergency-old",
    "urg-emergency-new",
    "urg-urgent",
    "urg-callback",
    "urg-feedback",
    "urg-other",
    "urg-lowconf",
]
CRISIS_TEXT = "some days I think everyone would be better off without me"
HARMLESS_TEXT = "thanks for the chat, all good now"
EMERGENCY_TEXT = "I can't feel my legs, call me on 0151 2345 6789"
# What the triage recorded as each level's reason (the rules' descriptions); urgent as an event
# stored before descriptions were recorded: the flag's name stands in.
REASONS = {"crisis": "Thoughts of self-harm, said indirectly", "emergency": "Weakness or numbness in both legs"}


def _user(
    text: str, ts: float, intent: str, conf: float = 1.0, level: Optional[str] = None, message_id: Optional[str] = None
):
    from rasa.shared.core.events import UserUttered

    parse: Dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": conf},
        "entities": [],
        "intent_ranking": [{"name": intent, "confidence": conf}],
        "red_flags": [],
    }
    if level:
        parse["triage"] = {"level": level, "flags": [f"{level}_flag"], "findings": []}
        parse["red_flags"] = [{"flag": f"{level}_flag", "matched": text, "description": REASONS.get(level)}]
    return UserUttered(
        text, intent=parse["intent"], parse_data=parse, timestamp=ts, input_channel="rest", message_id=message_id
    )


def _triage_reply(level: str, ts: float) -> list:
    from rasa.shared.core.events import ActionExecuted, BotUttered

    response = f"utter_{level}"
    return [
        ActionExecuted(response, policy="RulePolicy", confidence=1.0, timestamp=ts),
        BotUttered(
            "(triage reply)", data={"custom": {"triage": level}}, metadata={"utter_action": response}, timestamp=ts
        ),
    ]


def triage_conversation(level: str, text: str, ts: float) -> list:
    """One patient message graded ``level`` (crisis / emergency / urgent) and the assistant's reply."""
    intent = f"report_{level}"
    return [_user(text, ts, intent, 1.0, level), *_triage_reply(level, ts + 0.1)]


def urgency_conversations(now: Optional[float] = None) -> Dict[str, List[Any]]:
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet

    now = now or time.time()
    return {
        # the crisis message came first; the last message looks harmless
        "urg-crisis-early": [
            *triage_conversation("crisis", CRISIS_TEXT, now - 3000),
            _user(HARMLESS_TEXT, now - 100, "thank", 0.96),
            BotUttered("You're welcome.", metadata={"utter_action": "utter_welcome"}, timestamp=now - 99),
        ],
        "urg-emergency-old": triage_conversation("emergency", EMERGENCY_TEXT, now - 2000),
        "urg-emergency-new": triage_conversation("emergency", "my bladder stopped working today", now - 1000),
        "urg-urgent": triage_conversation("urgent", "the painkillers are not working", now - 2500),
        "urg-callback": [
            _user("please call me back", now - 2600, "request_human", 0.9),
            SlotSet(
                "callback_request",
                {"name": "Ann Example", "phone": "0151 1111 2222", "preferred_time": "afternoons", "consent": True},
                timestamp=now - 2599,
            ),
        ],
        "urg-feedback": [
            _user("is the scar big", now - 2700, "ask_scarring", 0.95, message_id="m-urg-1"),
            BotUttered("The cut is small.", metadata={"topic": "ask_scarring"}, timestamp=now - 2699),
            SlotSet("feedback", {"message_id": "m-urg-1", "rating": "down"}, timestamp=now - 2690),
        ],
        "urg-other": [
            _user("what's the weather", now - 2800, "out_of_scope", 0.95),
            ActionExecuted("utter_out_of_scope", policy="RulePolicy", confidence=1.0, timestamp=now - 2799),
        ],
        "urg-lowconf": [_user("hm the thing", now - 2900, "ask_cost", 0.2)],
        # a button click: the patient saw the title, the tracker stores the payload
        "urg-button": [
            _user("how long is recovery?", now - 5000, "ask_recovery_time", 0.97),
            BotUttered(
                "Would you like to know more?",
                data={
                    "buttons": [
                        {"title": "Yes, tell me more", "payload": "/affirm"},
                        {"title": "No, thanks", "payload": "/deny"},
                    ]
                },
                metadata={"utter_action": "utter_offer_more"},
                timestamp=now - 4999,
            ),
            _user("/affirm", now - 4990, "affirm", 1.0),
        ],
    }
