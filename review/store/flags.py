"""What the stored events mean: the flags a patient message, action, reply or slot raises.

Reads the JSON ``data`` of Rasa's events (:func:`load_data`), the intent and its confidence, the
patient's ratings and the safe replies sent after a failed action. Intent, response and form names
come from :mod:`clinic_vocabulary`.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Set, Tuple

from clinic_vocabulary import (
    CALLBACK_FORM,
    FOLLOW_UP_KEY,
    NOT_ENGLISH_INTENT,
    OWN_CASE_KEY,
    TRIAGE_INTENTS,
    TRIAGE_RESPONSES,
)
from review.store.schema import OTHER_URGENCY, URGENCY_ORDER


# Triage level -> flag, from the intent the triage sets, the response that answers it, or the level
# recorded on the message (clinic_vocabulary has the names).
TRIAGE_INTENT_FLAGS = {intent: level for level, intent in TRIAGE_INTENTS.items()}
TRIAGE_LEVELS = frozenset(TRIAGE_INTENTS)  # the escalated levels (crisis, emergency, urgent): flags with a reason
TRIAGE_ACTION_FLAGS = {response: level for level, response in TRIAGE_RESPONSES.items()}
HANDOFF_INTENTS = {"request_human"}
HANDOFF_ACTIONS = {"action_handoff"}
PERSONAL_INTENTS = {"ask_personal_advice"}
PERSONAL_ACTIONS = {"action_defer_personal"}
FALLBACK_INTENTS = {"nlu_fallback"}
FALLBACK_ACTIONS = {"action_default_fallback", "action_two_stage_fallback"}
OUT_OF_SCOPE_INTENTS = {"out_of_scope"}
OUT_OF_SCOPE_ACTIONS = {"utter_out_of_scope"}
# A message written in another language (clinic_nlu/language_component.py): the assistant read it
# as "I read English only"; a person should read it (help in the patient's language, a red flag the
# English rules could not read). Its parse data holds ``not_english`` = {replaced, language}.
NOT_ENGLISH_KEY = "not_english"
NOT_ENGLISH_INTENTS = {NOT_ENGLISH_INTENT}
# Text addressed to the assistant's programming or markup, set aside before classification
# (clinic_nlu/instructions_component.py): the parts under ``instructions_set_aside``; a message that
# was nothing but markup is also marked ``instructions_only`` (= {replaced}: read as not understood).
# Raises the "security" flag, whatever the message was read as (a form answer too).
SET_ASIDE_KEY = "instructions_set_aside"
NOTHING_LEFT_KEY = "instructions_only"
SET_ASIDE_CAP = 10  # set-aside parts kept for the transcript, each at most REASON_CAP characters
# Rule components that replaced the classifier's reading, each under its own key of the parse data
# with the reading under ``replaced`` (clinic_nlu/switchable.py): shown to staff in this order.
OVERRIDE_KEYS = (NOT_ENGLISH_KEY, NOTHING_LEFT_KEY, OWN_CASE_KEY, FOLLOW_UP_KEY)
NEGATIVE_FEEDBACK = {"down", "negative", "thumbs_down", "-1"}
# A patient message that the callback form took as a detail (name, phone number, time) is form input,
# not a question: the flags that come from the intent classifier's reading of it, and its confidence,
# are not counted (a name is not "out of scope"). Its triage flags always are. A message is form
# input when the first action after it is the form.
FORM_ACTIONS = {CALLBACK_FORM}
CLASSIFIER_FLAGS = {"handoff", "personal", "fallback", "out_of_scope", "not_english"}
# Slots the callback form fills from the patient's own words (name, phone number, time).
FORM_DETAIL_SLOTS = {"callback_name", "callback_phone", "callback_time"}


def load_data(data: Optional[str]) -> Dict[str, Any]:
    """The JSON ``data`` of a stored event as a dict ({} when empty, invalid or not an object)."""
    if not data:
        return {}
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def intent_of(data: Dict[str, Any]) -> Tuple[Optional[str], Optional[float]]:
    """The intent name and confidence a patient message was read as (None where missing)."""
    parse = data.get("parse_data") or {}
    intent = parse.get("intent") or {}
    conf = intent.get("confidence")
    try:
        conf = float(conf) if conf is not None else None
    except (TypeError, ValueError):
        conf = None
    return intent.get("name"), conf


def negative_value(value: Any) -> bool:
    """A negative rating: "down" (or negative / thumbs_down / -1), bare or as {rating|value: ...}."""
    if isinstance(value, dict):
        value = value.get("rating") or value.get("value")
    return value is not None and str(value).strip().lower() in NEGATIVE_FEEDBACK


def negative_feedback(data: Dict[str, Any]) -> bool:
    """Negative feedback carried on a patient message's own metadata."""
    meta = data.get("metadata") or {}
    return isinstance(meta, dict) and negative_value(meta.get("feedback"))


def failed_action_of(data: Dict[str, Any]) -> Optional[str]:
    """The action named in a bot message's ``metadata.failed_action`` (the safe reply sent because
    that action failed), else None."""
    meta = data.get("metadata") or {}
    name = meta.get("failed_action") if isinstance(meta, dict) else None
    return str(name)[:255] if name else None


REASON_CAP = 400  # characters of a stored reason (descriptions of the red flags one message raised)


def triage_reason(data: Dict[str, Any]) -> Optional[str]:
    """Why a patient message was escalated, in the rules' words: the descriptions of the red flags that
    counted (``parse_data.red_flags``), in order, each once. Events stored before the descriptions were
    recorded give the flags' names. None when nothing counted."""
    parse = data.get("parse_data") or {}
    found = parse.get("red_flags") if isinstance(parse, dict) else None
    if not isinstance(found, list):
        return None
    reasons = [
        str(f.get("description") or str(f.get("flag") or "").replace("_", " ")).strip()
        for f in found
        if isinstance(f, dict)
    ]
    reasons = list(dict.fromkeys(r for r in reasons if r))
    return "; ".join(reasons)[:REASON_CAP] or None


def set_aside_parts(data: Dict[str, Any]) -> List[str]:
    """The instruction-like parts and markup set aside from a patient message before it was read
    (``parse_data.instructions_set_aside``), as plain strings, capped; [] when none."""
    parse = data.get("parse_data") or {}
    parts = parse.get(SET_ASIDE_KEY) if isinstance(parse, dict) else None
    if not isinstance(parts, list):
        return []
    return [str(p)[:REASON_CAP] for p in parts if str(p).strip()][:SET_ASIDE_CAP]


LANGUAGE_CAP = 16  # characters of a stored language code (review_conversations / review_messages.language)


def language_of(data: Dict[str, Any]) -> Optional[str]:
    """The language code the not-English check recorded on a patient message (``parse_data.not_english
    .language``, e.g. "fr"), the one the transcript shows by name; None when the message was not read
    as another language or no language was named."""
    parse = data.get("parse_data") or {}
    why = parse.get(NOT_ENGLISH_KEY) if isinstance(parse, dict) else None
    code = str(why.get("language") or "").strip() if isinstance(why, dict) else ""
    return code[:LANGUAGE_CAP] or None


def overrides(data: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The readings a rule component replaced on a patient message (OVERRIDE_KEYS order): for each,
    ``key``, the classifier's ``intent`` and ``confidence``, and what the rule recorded about why
    (``language``, ``about``, ``symptom``, ``question``) when it did."""
    parse = data.get("parse_data") or {}
    found: List[Dict[str, Any]] = []
    for key in OVERRIDE_KEYS:
        why = parse.get(key) if isinstance(parse, dict) else None
        if not isinstance(why, dict):
            continue
        replaced: Dict[str, Any] = why["replaced"] if isinstance(why.get("replaced"), dict) else {}
        conf = replaced.get("confidence")
        try:
            conf = float(conf) if conf is not None else None
        except (TypeError, ValueError):
            conf = None
        details = {k: str(why[k])[:REASON_CAP] for k in ("language", "about", "symptom", "question") if why.get(k)}
        found.append({"key": key, "intent": replaced.get("name"), "confidence": conf, **details})
    return found


def event_flags(type_name: str, data: Dict[str, Any]) -> Set[str]:
    """The flags one stored event raises (low confidence is judged separately, by threshold)."""
    flags: Set[str] = set()
    if type_name == "user":
        intent, _ = intent_of(data)
        parse = data.get("parse_data") or {}
        level = (parse.get("triage") or {}).get("level") if isinstance(parse.get("triage"), dict) else None
        if level in TRIAGE_INTENTS:
            flags.add(level)
        elif "triage" not in parse and parse.get("red_flags"):
            flags.add("emergency")  # stored before graded triage: every red flag was an emergency
        if intent in TRIAGE_INTENT_FLAGS:
            flags.add(TRIAGE_INTENT_FLAGS[intent])
        if intent in HANDOFF_INTENTS:
            flags.add("handoff")
        if intent in PERSONAL_INTENTS:
            flags.add("personal")
        if intent in FALLBACK_INTENTS:
            flags.add("fallback")
        if intent in OUT_OF_SCOPE_INTENTS:
            flags.add("out_of_scope")
        if intent in NOT_ENGLISH_INTENTS or isinstance(parse.get(NOT_ENGLISH_KEY), dict):
            flags.add("not_english")
        if set_aside_parts(data) or parse.get(NOTHING_LEFT_KEY):
            flags.add("security")
        if negative_feedback(data):
            flags.add("feedback")
    elif type_name == "action":
        name = data.get("name")
        if name in TRIAGE_ACTION_FLAGS:
            flags.add(TRIAGE_ACTION_FLAGS[name])
        for names, flag in (
            (HANDOFF_ACTIONS, "handoff"),
            (PERSONAL_ACTIONS, "personal"),
            (FALLBACK_ACTIONS, "fallback"),
            (OUT_OF_SCOPE_ACTIONS, "out_of_scope"),
        ):
            if name in names:
                flags.add(flag)
    elif type_name == "bot":
        custom = (data.get("data") or {}).get("custom") or {}
        if isinstance(custom, dict) and custom.get("triage") in TRIAGE_INTENTS:
            flags.add(custom["triage"])
        elif isinstance(custom, dict) and custom.get("emergency"):
            flags.add("emergency")
        if failed_action_of(data):
            flags.add("failed_action")
    elif type_name == "slot":
        name, value = data.get("name"), data.get("value")
        if name == "handoff_requested" and value is True:
            flags.add("handoff")
        elif name == "personal_question" and value is True:
            flags.add("personal")
        elif name == "callback_request" and isinstance(value, dict) and value:
            flags.add("callback")
        elif name == "feedback" and negative_value(value):
            # the patient channel stores a widget rating as slot feedback = {message_id, rating}
            flags.add("feedback")
    return flags


def urgency_rank(flag: str) -> int:
    """Where a flag sorts in Open items: its place in URGENCY_ORDER, else OTHER_URGENCY."""
    return URGENCY_ORDER.index(flag) if flag in URGENCY_ORDER else OTHER_URGENCY


def buttons_offered(data: Dict[str, Any]) -> Dict[str, str]:
    """payload -> title of the buttons under one stored assistant message.

    A click sends the payload (``/affirm``) as the patient's text; staff should read the title the
    patient saw ("Yes, call me back"), in the transcript and in the lists alike."""
    payload = data.get("data") or {}
    buttons = payload.get("buttons") if isinstance(payload, dict) else None
    return {
        str(b.get("payload")).strip(): str(b.get("title"))
        for b in (buttons or [])
        if isinstance(b, dict) and b.get("payload") and b.get("title")
    }
