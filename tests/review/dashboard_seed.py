"""A few weeks of conversations for the dashboard tests, described first as plain specs (:class:`Spec`)
and then written as real Rasa events. The tests compute the figures they expect from the specs
alone (local day, kind, reply delay), never from the app's code.

Kinds: ``answered``, ``emergency``, ``crisis``, ``urgent``, ``fallback``, ``not_covered``,
``low_confidence``, ``thumbs_down`` (an answer rated down), ``callback`` (handoff, the callback form's
name and phone answers, then the request). Unanswered kinds take their wording from the held-out
labelled set, so the groups on the page are known.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

import yaml

from tests.review.conversations import _parse

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = yaml.safe_load((ROOT / "tests" / "data" / "unanswered" / "heldout.yml").read_text())["groups"]
UNANSWERED_KINDS = ("fallback", "not_covered", "low_confidence", "thumbs_down")
# held-out group -> which of its messages are sent (indices; repeats are the same question asked again)
SEEDED_GROUPS = {
    "intimacy": [0, 1, 2, 3, 4, 5, 6, 0, 1],
    "scans": [0, 1, 2, 3, 4, 5, 6],
    "desk_job": [0, 1, 2, 3, 5],
    "fasting": [0, 4],
    "blood_thinners": [0],
}
PHONE_TEXT = "please ring me on 0151 2345 6789 about my sciatica"
ANSWERS = [
    ("how long is recovery?", "ask_recovery_time"),
    ("is the scar big", "ask_scarring"),
    ("what is spinal endoscopy", "ask_what_is_endoscopy"),
    ("how much does it cost", "ask_cost"),
    ("does it hurt", "ask_pain"),
]


@dataclass
class Spec:
    sender_id: str
    start: float  # UTC timestamp of the first patient message
    kind: str
    text: str
    intent: str
    delay: float  # seconds to the first reply
    group: Optional[str] = None  # the held-out group of an unanswered message

    def local_day(self, tz: str) -> date:
        return datetime.fromtimestamp(self.start, ZoneInfo(tz)).date()


def make_specs(tz: str, today: date, days: int = 20, seed: int = 7) -> List[Spec]:
    """Conversations on each of the ``days`` days before ``today`` (local), 2 to 6 a day, of every kind.

    The three most frequent unanswered groups are, by construction: intimacy (9), scans (7), desk_job (5).
    """
    rng = random.Random(seed)
    zone = ZoneInfo(tz)
    unanswered: List[Tuple[str, str]] = []
    for group, picks in SEEDED_GROUPS.items():
        texts = HELDOUT[group]
        unanswered += [(group, texts[i]) for i in picks]
    rng.shuffle(unanswered)
    kinds = (
        ["answered"] * 30
        + ["emergency"] * 4
        + ["crisis"] * 2
        + ["urgent"] * 3
        + ["callback"] * 3
        + ["answered_button"] * 3
    )
    for i, _ in enumerate(unanswered):
        kinds.append(UNANSWERED_KINDS[i % len(UNANSWERED_KINDS)])
    rng.shuffle(kinds)
    plan = kinds
    specs: List[Spec] = []
    per_day = max(1, -(-len(plan) // days))
    u = 0
    for n, kind in enumerate(plan):
        day = today - timedelta(days=1 + n // per_day)
        minute = rng.randrange(8 * 60, 20 * 60)
        local = datetime.combine(day, dtime(minute // 60, minute % 60), zone)
        delay = rng.choice([0.5, 1.0, 1.5, 2.0, 3.0, 6.0])
        sender = f"dash-{n:03d}-{kind}"
        if kind in UNANSWERED_KINDS:
            group, text = unanswered[u]
            u += 1
            intent = {
                "fallback": "nlu_fallback",
                "not_covered": "ask_not_covered",
                "low_confidence": "ask_recovery_time",
                "thumbs_down": "ask_recovery_time",
            }[kind]
            specs.append(Spec(sender, local.timestamp(), kind, text, intent, delay, group))
        else:
            text, intent = {
                "emergency": ("I suddenly can't feel my legs", "report_emergency"),
                "crisis": ("I don't want to be alive any more", "report_crisis"),
                "urgent": ("my wound is red and hot since yesterday", "report_urgent"),
                "callback": ("can I talk to a real person", "request_human"),
            }.get(kind, ANSWERS[n % len(ANSWERS)])
            specs.append(Spec(sender, local.timestamp(), kind, text, intent, delay))
    # one conversation just before local midnight: UTC has it on the next day in America/* zones
    late_day = today - timedelta(days=2)
    late = datetime.combine(late_day, dtime(23, 50), zone)
    specs.append(Spec("dash-late-evening", late.timestamp(), "answered", "is the scar big", "ask_scarring", 1.0))
    # an unanswered question with a phone number in it: shown masked like everywhere in the app
    when = datetime.combine(today - timedelta(days=3), dtime(10, 0), zone)
    specs.append(Spec("dash-phone", when.timestamp(), "fallback", PHONE_TEXT, "nlu_fallback", 2.0))
    return specs


def spec_events(spec: Spec) -> List[Any]:
    """The Rasa events one spec stands for."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

    t = spec.start

    def user(ts, text, intent, conf, message_id=None, **extra):
        return UserUttered(
            text,
            intent={"name": intent, "confidence": conf},
            parse_data=_parse(text, intent, conf, **extra),
            timestamp=ts,
            input_channel="patient",
            message_id=message_id,
        )

    def bot(ts, text, **meta):
        return BotUttered(text, data={}, metadata=meta, timestamp=ts)

    ev: List[Any] = [
        ActionExecuted("action_session_start", timestamp=t - 5),
        SessionStarted(timestamp=t - 5),
        ActionExecuted("action_listen", timestamp=t - 5),
    ]
    r = t + spec.delay
    kind = spec.kind
    if kind in ("emergency", "crisis", "urgent"):
        ev += [
            user(t, spec.text, spec.intent, 1.0, triage={"level": kind}),
            ActionExecuted(f"utter_{kind}", timestamp=r),
            bot(r, "Please get help now.", utter_action=f"utter_{kind}"),
        ]
    elif kind == "fallback":
        ev += [
            user(t, spec.text, "nlu_fallback", 0.31),
            ActionExecuted("action_default_fallback", timestamp=r),
            bot(r, "Sorry, I am not sure I understood.", utter_action="utter_ask_rephrase"),
        ]
    elif kind == "not_covered":
        ev += [
            user(t, spec.text, "ask_not_covered", 0.88),
            ActionExecuted("utter_not_covered", timestamp=r),
            bot(r, "The information sheet does not say.", utter_action="utter_not_covered"),
        ]
    elif kind == "low_confidence":
        ev += [
            user(t, spec.text, spec.intent, 0.35),
            ActionExecuted("action_answer_topic", timestamp=r),
            bot(r, "Most people go home the same day.", topic=spec.intent),
        ]
    elif kind == "thumbs_down":
        mid = f"m-{spec.sender_id}"
        ev += [
            user(t, spec.text, spec.intent, 0.81, message_id=mid),
            ActionExecuted("action_answer_topic", timestamp=r),
            bot(r, "Most people go home the same day.", topic=spec.intent),
            SlotSet("feedback", {"message_id": mid, "rating": "down"}, timestamp=r + 30),
        ]
    elif kind == "callback":
        ev += [
            user(t, spec.text, spec.intent, 0.93),
            ActionExecuted("action_handoff", timestamp=r),
            bot(r, "Would you like the clinic to call you back?"),
            SlotSet("handoff_requested", True, timestamp=r),
            user(r + 10, "Sam Smith", "greet", 0.30),
            SlotSet("callback_name", "Sam Smith", timestamp=r + 11),
            bot(r + 11, "Which phone number should they call?"),
            user(r + 20, "0151 2345 6789", "greet", 0.25),
            SlotSet("callback_phone", "0151 2345 6789", timestamp=r + 21),
            ActionExecuted("action_submit_callback", timestamp=r + 22),
            bot(r + 22, "Thank you."),
            SlotSet(
                "callback_request", {"name": "Sam Smith", "phone": "0151 2345 6789", "consent": True}, timestamp=r + 22
            ),
        ]
    else:  # answered (optionally followed by a button click)
        ev += [
            user(t, spec.text, spec.intent, 0.95),
            ActionExecuted("action_answer_topic", timestamp=r),
            bot(r, "An answer from the sheet.", topic=spec.intent),
        ]
        if kind == "answered_button":
            ev += [
                user(r + 15, "/affirm", "affirm", 1.0),
                ActionExecuted("utter_ok", timestamp=r + 16),
                bot(r + 16, "All right."),
            ]
    ev.append(ActionExecuted("action_listen", timestamp=r + 40))
    return ev


def patient_messages(spec: Spec) -> List[Dict[str, Any]]:
    """The patient messages of a spec with what they are (for expected counts): text, own words or not."""
    if spec.kind == "callback":
        return [{"own": True, "text": spec.text}, {"own": False}, {"own": False}]
    if spec.kind == "answered_button":
        return [{"own": True, "text": spec.text}, {"own": False}]
    return [{"own": True, "text": spec.text}]


def write_specs(db_url: str, specs: List[Spec]) -> None:
    from tests.review.conversations import write_conversations

    write_conversations(db_url, {s.sender_id: spec_events(s) for s in specs})
