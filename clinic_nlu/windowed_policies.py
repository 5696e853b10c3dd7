"""Rasa's RulePolicy and MemoizationPolicy, predicting from the recent turns of a long conversation.

Rasa 3.6 rebuilds the dialogue state of *every* earlier turn for every prediction
(``DialogueStateTracker.past_states``), several times per turn, so turn 200 of a conversation costs
far more than turn 1 (bench/profile_turns.py). Both policies only ever look at the last few turns
(rules are a few turns long; memoization uses ``max_history``), so for a long conversation these
subclasses predict from a *window*: the last ``window_turns`` patient turns, started with the
slots (and active form) the conversation had at that point. The prediction is the same as with
the whole history (tests/test_windowed_policies.py compares them turn by turn); the cost stays flat.

The window always holds more dialogue states than the policy can look at: for RulePolicy, more
than its longest rule; for MemoizationPolicy, more than ``max_history`` of the states it uses
(it skips rule-only turns, so its window may reach further back). It is not used when the
conversation is short (``window_min_events``), when a form was active at the window's start (a
form's history is folded by Rasa in ways that look further back), or when there is no such turn
boundary. The state at the window's start is kept on the
tracker object and moved forward incrementally (the tracker store hands out the same object on
every turn, see clinic_store), so building the window costs only the new events.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any, Dict, List, Optional, Text, Tuple, Type

from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

WINDOW_DEFAULTS = {"window_turns": 8, "window_min_events": 120}
# The "_clinic_" prefix puts the cache under the runtime layer's tracker-cache contract (a tracker's
# copy starts without it; clinic_runtime/__init__.py).
_CACHE = "_clinic_window_cache"


def _cut_index(events: List[Event], turns: int, min_states: int, min_visible: int) -> Optional[int]:
    """Index of the ``action_listen`` before a patient message such that the events from it on hold
    at least ``turns`` patient turns, ``min_states`` actions and ``min_visible`` actions that were not
    rule-only turns; None if there is no such point."""
    seen = states = visible = 0
    for i in range(len(events) - 1, 0, -1):
        event = events[i]
        if isinstance(event, ActionExecuted):
            states += 1
            visible += not event.hide_rule_turn
        elif isinstance(event, UserUttered):
            before = events[i - 1]
            if isinstance(before, ActionExecuted) and before.action_name == ACTION_LISTEN_NAME:
                seen += 1
                if seen >= turns and states >= min_states and visible >= min_visible:
                    return i - 1
    return None


def _states_in_key(key: str, compressed: bool) -> int:
    """How many dialogue states a memoization / rule lookup key encodes."""
    text = zlib.decompress(base64.b64decode(key)).decode("utf-8") if compressed else key
    depth = count = 0
    for char in text:
        if char == "{":
            depth += 1
            count += depth == 1
        elif char == "}":
            depth -= 1
    return count


def _needed_states(policy: Any) -> Tuple[int, int]:
    """(actions, non-rule-only actions) a window must hold for this policy to see all it can use."""
    cached = policy.__dict__.get("_clinic_needed")
    if cached is None:
        if isinstance(policy, RulePolicy):
            rules = policy.lookup.get("rules", {})
            compressed = bool(policy.config.get("enable_feature_string_compression"))
            longest = max((_states_in_key(k, compressed) for k in rules), default=0)
            cached = (longest + 2, 0)
        else:
            history = policy.config.get("max_history")
            cached = (0, history + 2) if history else (-1, -1)  # unbounded history: never windowed
        policy.__dict__["_clinic_needed"] = cached
    return cached


class _WindowState:
    """The conversation's state just before ``events[cut]``, moved forward as the cut moves."""

    def __init__(self, tracker: DialogueStateTracker) -> None:
        self.state = DialogueStateTracker(tracker.sender_id, tracker.slots.values())
        self.cut = 0
        self.anchor: Optional[Event] = None  # events[cut - 1], to notice a history that changed
        self.window: Optional[DialogueStateTracker] = None
        self.window_len = -1

    def advance(self, events: List[Event], cut: int) -> bool:
        """Replay events up to ``cut``; False if the history is not the one this state was built on."""
        if cut < self.cut or (self.cut and events[self.cut - 1] is not self.anchor):
            return False
        for event in events[self.cut : cut]:
            self.state.update(event)
        self.cut, self.anchor = cut, events[cut - 1]
        return True


def windowed(
    tracker: DialogueStateTracker, turns: int, min_events: int, min_states: int = 0, min_visible: int = 0, key: str = ""
) -> DialogueStateTracker:
    """The tracker a policy should predict from (the tracker itself when no window applies)."""
    events = list(tracker.events)
    if len(events) < min_events or turns < 1 or min_states < 0:
        return tracker
    cut = _cut_index(events, turns, min_states, min_visible)
    if cut is None or cut == 0:
        return tracker
    cache: Optional[_WindowState] = tracker.__dict__.get(_CACHE + key)
    if cache is not None and cache.window_len == len(events) and cache.cut == cut:
        return cache.window or tracker
    if cache is None or not cache.advance(events, cut):
        cache = _WindowState(tracker)
        cache.advance(events, cut)
        tracker.__dict__[_CACHE + key] = cache
    state = cache.state
    if state.active_loop_name:
        window = None  # see module doc: forms are predicted from the whole history
    else:
        prefix: List[Event] = [
            SlotSet(slot.name, slot.value) for slot in state.slots.values() if slot.value != slot.initial_value
        ]
        window = DialogueStateTracker.from_events(tracker.sender_id, prefix + events[cut:], tracker.slots.values())
    cache.window, cache.window_len = window, len(events)
    return window or tracker


def _predict(
    policy: Any,
    parent: Type[Policy],
    tracker: DialogueStateTracker,
    domain: Domain,
    rule_only_data: Optional[Dict[Text, Any]],
    **kwargs: Any,
) -> PolicyPrediction:
    min_states, min_visible = _needed_states(policy)
    view = windowed(
        tracker,
        int(policy.config["window_turns"]),
        int(policy.config["window_min_events"]),
        min_states,
        min_visible,
        key=type(policy).__name__,
    )
    return parent.predict_action_probabilities(policy, view, domain, rule_only_data, **kwargs)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class WindowedRulePolicy(RulePolicy):
    """RulePolicy predicting from the recent turns of a long conversation (see module doc)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**RulePolicy.get_default_config(), **WINDOW_DEFAULTS}

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        return _predict(self, RulePolicy, tracker, domain, rule_only_data, **kwargs)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class WindowedMemoizationPolicy(MemoizationPolicy):
    """MemoizationPolicy predicting from the recent turns of a long conversation (see module doc)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**MemoizationPolicy.get_default_config(), **WINDOW_DEFAULTS}

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        return _predict(self, MemoizationPolicy, tracker, domain, rule_only_data, **kwargs)
