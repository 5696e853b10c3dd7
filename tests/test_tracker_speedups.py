"""clinic_runtime/tracker_speedups.py: the fast copy and the incremental applied_events give Rasa's results."""

from __future__ import annotations

import copy
import random
from typing import Any, Dict, List

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    Event,
    FollowupAction,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

from clinic_runtime import tracker_speedups
from tests.conftest import ROOT

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def rasa_methods():
    tracker_speedups.uninstall()
    yield
    tracker_speedups.uninstall()


def random_events(rng: random.Random, domain: Domain, n: int) -> List[Event]:
    intents = list(domain.intents)
    actions = [a for a in domain.user_actions if not a.startswith("utter_")][:6] + ["utter_greet", "action_listen"]
    forms = list(domain.form_names) or ["callback_form"]
    slots = [s.name for s in domain.slots]
    makers = [
        lambda: UserUttered("text", {"name": rng.choice(intents), "confidence": 0.9}),
        lambda: ActionExecuted(rng.choice(actions)),
        lambda: ActionExecuted("action_listen"),
        lambda: ActionExecuted(rng.choice(forms)),
        lambda: BotUttered("a reply", metadata={"utter_action": "utter_greet"}),
        lambda: SlotSet(rng.choice(slots), rng.choice(["x", None, ["a"], True])),
        lambda: ActiveLoop(rng.choice(forms + [None])),
        lambda: ActionExecutionRejected(rng.choice(forms)),
        lambda: FollowupAction("action_listen"),
        lambda: UserUtteranceReverted(),
        lambda: ActionReverted(),
        lambda: Restarted(),
        lambda: SessionStarted(),
        lambda: AllSlotsReset(),
    ]
    weights = [8, 8, 6, 3, 5, 4, 2, 1, 1, 1, 1, 1, 1, 1]
    return [rng.choices(makers, weights)[0]() for _ in range(n)]


def state(tracker: DialogueStateTracker) -> Dict[str, Any]:
    """Every attribute of the tracker (slots field by field), minus the speed-up's own cache."""
    fields = {k: v for k, v in vars(tracker).items() if k not in ("slots", tracker_speedups._CACHE)}
    fields["events"] = list(tracker.events)
    fields["slots"] = {name: vars(slot) for name, slot in tracker.slots.items()}
    return fields


def test_applied_events_match_rasa_after_every_appended_event(domain, rasa_methods):
    rng = random.Random(7)
    for _ in range(150):
        tracker = DialogueStateTracker("p", domain.slots)
        for event in random_events(rng, domain, rng.randint(1, 60)):
            tracker.update(event)
            expected = tracker_speedups._original_applied_events(tracker)
            assert tracker_speedups.incremental_applied_events(tracker) == expected
        # a changed deque (not an append) starts over
        tracker.events.popleft() if tracker.events else None
        expected = tracker_speedups._original_applied_events(tracker)
        assert tracker_speedups.incremental_applied_events(tracker) == expected


def test_the_returned_list_can_be_changed_by_the_caller(domain, rasa_methods):
    tracker = DialogueStateTracker("p", domain.slots)
    for event in [ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet"}), ActionExecuted("utter_greet")]:
        tracker.update(event)
    first = tracker_speedups.incremental_applied_events(tracker)
    first.clear()
    assert len(tracker_speedups.incremental_applied_events(tracker)) == 3


def test_the_fast_copy_is_the_tracker_rasas_copy_builds(domain, rasa_methods):
    rng = random.Random(11)
    for _ in range(150):
        tracker = DialogueStateTracker("p", domain.slots)
        tracker.model_id, tracker.assistant_id, tracker.sender_source = "m1", "a1", "file.yml"
        for event in random_events(rng, domain, rng.randint(0, 60)):
            tracker.update(event)
        tracker_speedups.incremental_applied_events(tracker)  # warm the cache the copy may carry over
        expected = tracker_speedups._original_copy(tracker)
        fast = tracker_speedups.fast_copy(tracker)
        assert state(fast) == state(expected)
        assert fast.current_state() == expected.current_state()
        assert fast.past_states(domain) == expected.past_states(domain)
        # independent of the original: a change to the copy does not reach it
        before = copy.deepcopy(
            (state(tracker)["slots"], tracker.active_loop, tracker.latest_action, len(tracker.events))
        )
        fast.update(ActionExecutionRejected("callback_form"))  # changes the active loop in place
        fast.update(LoopInterrupted(True))
        fast.update(SlotSet(domain.slots[0].name, "changed"))
        fast.update(ActiveLoop("callback_form"))
        fast.update(ActionExecuted("action_listen"))
        assert (state(tracker)["slots"], tracker.active_loop, tracker.latest_action, len(tracker.events)) == before
        assert tracker_speedups.incremental_applied_events(fast) == tracker_speedups._original_applied_events(fast)


def test_a_copy_shares_no_project_cache_with_its_original(domain, rasa_methods):
    tracker = DialogueStateTracker("p", domain.slots)
    for event in random_events(random.Random(3), domain, 40):
        tracker.update(event)
    tracker_speedups.incremental_applied_events(tracker)
    window_cache = object()
    tracker.__dict__[tracker_speedups.CACHE_PREFIX + "window_cache"] = window_cache
    fast = tracker_speedups.fast_copy(tracker)
    assert tracker_speedups.CACHE_PREFIX + "window_cache" not in fast.__dict__
    assert tracker.__dict__[tracker_speedups.CACHE_PREFIX + "window_cache"] is window_cache
    own = fast.__dict__.get(tracker_speedups._CACHE)
    assert own is None or own[0] is fast.events  # its own cache, re-keyed to the copy's deque
    assert tracker_speedups.incremental_applied_events(fast) == tracker_speedups._original_applied_events(fast)


def test_the_story_conversations_give_the_same_states_and_copies(domain, rasa_methods):
    from rasa.core.training import load_data

    trackers = load_data(str(ROOT / "tests" / "test_stories.yml"), domain, augmentation_factor=0)
    assert len(trackers) >= 10
    for story in trackers:
        tracker = DialogueStateTracker(story.sender_id, domain.slots)
        for event in story.events:
            tracker.update(event)
            expected = tracker_speedups._original_applied_events(tracker)
        assert tracker_speedups.incremental_applied_events(tracker) == expected
        assert state(tracker_speedups.fast_copy(tracker)) == state(tracker_speedups._original_copy(tracker))
        tracker_speedups.install()
        fast_states = tracker.past_states(domain)
        tracker_speedups.uninstall()
        assert fast_states == tracker.past_states(domain)


def test_other_tracker_kinds_keep_rasas_copy(rasa_methods):
    tracker = DialogueStateTracker("p", None)  # slots created on the fly (AnySlotDict)
    tracker.update(SlotSet("anything", 1))
    assert state(tracker_speedups.fast_copy(tracker)) == state(tracker_speedups._original_copy(tracker))


def test_install_replaces_both_methods(rasa_methods):
    tracker_speedups.install()
    assert DialogueStateTracker.copy is tracker_speedups.fast_copy
    assert DialogueStateTracker.applied_events is tracker_speedups.incremental_applied_events
