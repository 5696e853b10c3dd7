"""Two DialogueStateTracker methods that Rasa 3.6 makes cost O(conversation length) on every turn.

Profiling turns 181-200 of one conversation (``bench/profile_turns.py --turns 200 --callers ...``)
after the constant per-turn costs had been cut: turn 200 still took much longer than turn 1
(BENCHMARKS.md, "Figures behind the code"), and the growth came from Rasa core, not from this
project's components:

- ``DialogueStateTracker.copy()`` replays every event of the conversation into a new tracker
  (``travel_back_in_time(inf)``); ``MessageProcessor._run_action`` calls it for every action, two
  or more per turn, each call longer as the conversation grows;
- ``DialogueStateTracker.applied_events()`` folds over every event; the processor, the action-call
  serialisation and the policies call it about seven times per turn.

:func:`install` replaces them with versions that give the same results:

- ``copy`` builds the same tracker from the state this tracker already holds instead of replaying
  its events: a new event deque with the same event objects, copies of the slots (same values, as
  the replay would set them from the same events), and copies of the mutable state; the rest as
  ``init_copy`` + replay leave it (no model or assistant id, no sender source). Trackers of other
  classes, or with slots Rasa creates on the fly, keep Rasa's copy.
- ``applied_events`` remembers its result together with the event deque, its length and its last
  event; when called again after events were appended (the normal case: a turn appends), it folds
  only the new events, with Rasa's own rules. It starts over whenever the deque is not the one it
  saw, shrank or changed, or a new event names a form (loop) not seen before (Rasa's fold depends
  on the set of all loop names).

This module owns the caches that project code keeps on a tracker (``tracker.__dict__``, keys
starting with :data:`CACHE_PREFIX`, e.g. the windowed policies'): the fast copy gives the copy none
of them, except its own applied-events cache re-keyed to the copy's event deque, so a cache object
is never shared by a tracker and its copy (a shallow ``__dict__`` copy would share it, and a cache
that is updated in place would then be changed through either tracker). A cache that is missing
is rebuilt by its module on the next call.

tests/test_tracker_speedups.py checks both against Rasa's originals on the test stories, on random
event sequences with restarts, reverts, sessions and forms, and field by field.
"""

from __future__ import annotations

import copy as copy_module
from collections import deque
from itertools import islice
from typing import Any, FrozenSet, List, Tuple

from rasa.shared.constants import DEFAULT_SENDER_ID
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUttered,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

CACHE_PREFIX = "_clinic_"
_CACHE = CACHE_PREFIX + "applied_events"
_original_copy = DialogueStateTracker.copy
_original_applied_events = DialogueStateTracker.applied_events


def fast_copy(self: DialogueStateTracker) -> DialogueStateTracker:
    """Same tracker as Rasa's ``copy()`` (init_copy + replay of all events), without the replay."""
    if type(self) is not DialogueStateTracker or type(self.slots) is not dict:
        return _original_copy(self)
    new = copy_module.copy(self)  # every attribute by reference, then the mutable ones copied
    new.events = deque(self.events, self._max_event_history)
    cached = self.__dict__.get(_CACHE)
    for key in [key for key in new.__dict__ if key.startswith(CACHE_PREFIX)]:
        del new.__dict__[key]  # no cache object shared with the original (module doc)
    if cached is not None and cached[0] is self.events and cached[1] == len(self.events):
        new.__dict__[_CACHE] = (new.events, *cached[1:])  # same events, same applied events
    new.slots = {name: copy_module.copy(slot) for name, slot in self.slots.items()}
    new.latest_action = dict(self.latest_action) if self.latest_action is not None else None
    new.active_loop = copy_module.copy(self.active_loop) if self.active_loop is not None else None
    # What init_copy() gives the new tracker instead of this one's:
    new.sender_id = self.sender_id or DEFAULT_SENDER_ID
    new.sender_source = None
    new.model_id = None
    new.assistant_id = None
    return new


def _fold(tracker: DialogueStateTracker, applied: List[Event], events: Any, loop_names: FrozenSet[str]) -> None:
    """Rasa 3.6's ``applied_events`` loop body, applied to ``events`` in order, onto ``applied``."""
    for event in events:
        if isinstance(event, (Restarted, SessionStarted)):
            applied.clear()
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            tracker._undo_till_previous(UserUttered, applied)
            tracker._undo_till_previous(ActionExecuted, applied)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in loop_names
            and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            tracker._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)


def _loop_names(events: Any) -> FrozenSet[str]:
    return frozenset(e.name for e in events if isinstance(e, ActiveLoop) and e.name)


def incremental_applied_events(self: DialogueStateTracker) -> List[Event]:
    """Same list as Rasa's ``applied_events()``, folding only the events appended since the last call."""
    events = self.events
    count = len(events)
    cached: Tuple[Any, int, Any, List[Event], FrozenSet[str]] = self.__dict__.get(_CACHE)
    if cached is not None:
        seen_events, seen, last, applied, loop_names = cached
        if seen_events is events and 0 < seen <= count and events[seen - 1] is last:
            new = list(islice(events, seen, None))
            if _loop_names(new) <= loop_names:
                extended = list(applied)
                _fold(self, extended, new, loop_names)
                self.__dict__[_CACHE] = (events, count, events[-1], extended, loop_names)
                return list(extended)
    loop_names = _loop_names(events)
    folded: List[Event] = []
    _fold(self, folded, events, loop_names)
    if count:
        self.__dict__[_CACHE] = (events, count, events[-1], folded, loop_names)
    return list(folded)


def install() -> None:
    """Use both in this process (idempotent)."""
    DialogueStateTracker.copy = fast_copy  # type: ignore[assignment]
    DialogueStateTracker.applied_events = incremental_applied_events  # type: ignore[assignment]


def uninstall() -> None:
    """Back to Rasa's methods (tests)."""
    DialogueStateTracker.copy = _original_copy  # type: ignore[assignment]
    DialogueStateTracker.applied_events = _original_applied_events  # type: ignore[assignment]
