"""What the Rasa server does when an action fails mid-turn (e.g. the action server is down or times out).

Rasa 3.6 (``MessageProcessor._run_action``) logs the exception, drops the action's events and goes
on: the patient gets no reply from that action and the stored conversation shows a question with no
answer and no reason. The patient channel then shows the patient its safe "could not answer" text,
but only in the HTTP answer. :func:`install` makes the failure part of the conversation instead: a
failed action yields one bot message with the safe text (``messages.yml`` ``no_reply``), marked
``metadata.failed_action = <action name>``. It is sent to the patient like any bot message and
stored with the turn (same transaction, under the conversation's lock), and the staff review app
flags the turn ``failed_action``.

Wrapped at the processor, not at ``RemoteAction.run``: a form's validation action is also a
``RemoteAction``, and turning its failure into a reply would let the form go on with unvalidated
slot values. Here a failing form action fails as a whole (Rasa drops its events, as before).
An action that rejects its execution (``ActionExecutionRejection``, e.g. a form) is not a failure.
"""

from __future__ import annotations

import logging
from typing import Any, List, Optional

from rasa.core.actions.action import ActionExecutionRejection
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered, Event, UserUttered

logger = logging.getLogger(__name__)

FAILED_ACTION_KEY = "failed_action"  # in the safe reply's metadata: the name of the action that failed

_original_run_action = MessageProcessor._run_action
_safe_reply: Optional[str] = None


def _replied_since_last_message(events: List[Event]) -> bool:
    """Whether this turn already has a reply that the safe one must not follow.

    Either a safe reply (several failing actions in one turn: one reply), or a triage reply
    (emergency, crisis, urgent: a domain response that needs no action server). After "call your
    emergency number" or the crisis message, "Sorry, please try again" would read as if the message
    had not been understood; the action that failed after it (e.g. the crisis line's number) only
    adds to a reply that is already complete.
    """
    for event in reversed(events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and (
            (event.metadata or {}).get(FAILED_ACTION_KEY) or ((event.data or {}).get("custom") or {}).get("triage")
        ):
            return True
    return False


class _SafeReplyOnFailure:
    """An action for one run: as the wrapped action, except that an exception becomes the safe reply."""

    def __init__(self, action: Any, text: str) -> None:
        self._action = action
        self._text = text

    def __getattr__(self, name: str) -> Any:
        return getattr(self._action, name)

    async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
        """The action's events, or (if it raised) the safe reply marked with the action's name."""
        try:
            return await self._action.run(output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except Exception as error:
            # The type only: an exception's text may quote the conversation.
            logger.error("action.failed action=%s error=%s", self._action.name(), type(error).__name__)
            logger.debug("action.failed traceback", exc_info=error)
            if _replied_since_last_message(list(tracker.events)):
                return []
            return [BotUttered(self._text, metadata={FAILED_ACTION_KEY: self._action.name()})]


async def _run_action(
    self: MessageProcessor, action: Any, tracker: Any, output_channel: Any, nlg: Any, prediction: Any
) -> bool:
    """Rasa's ``_run_action`` with the action wrapped in :class:`_SafeReplyOnFailure`."""
    if _safe_reply is not None:
        action = _SafeReplyOnFailure(action, _safe_reply)
    return await _original_run_action(self, action, tracker, output_channel, nlg, prediction)


def install(safe_reply: str) -> None:
    """Make a failed action reply ``safe_reply`` (stored, marked ``failed_action``); idempotent."""
    global _safe_reply
    _safe_reply = safe_reply
    MessageProcessor._run_action = _run_action  # type: ignore[assignment]
