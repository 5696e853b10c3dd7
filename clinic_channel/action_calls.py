"""How the Rasa server calls the action server: a timeout under the lock lifetime, and a cached
response validator.

Both change module-level behaviour of ``rasa.core.actions.action`` (Rasa 3.6 has no setting for
either) and are installed by the patient channel when the server starts.

- Rasa waits ``DEFAULT_REQUEST_TIMEOUT`` (300 s) for every custom action, far longer than the 60 s
  conversation lock; a slow action would let a second message of the same conversation run at
  the same time.
- ``RemoteAction._validate_action_result`` calls ``jsonschema.validate``, which re-checks the whole
  event schema against the meta-schema on every action call: ~60 % of an action call's time in
  bench/profile_turns.py. A validator built once gives the same result and the same error.
"""
from __future__ import annotations

from typing import Any, Dict, Text

import rasa.core.actions.action as rasa_action
from jsonschema import ValidationError
from jsonschema.validators import validator_for

_validator = None


def set_action_timeout(seconds: float) -> None:
    """Seconds the Rasa server waits for any custom action."""
    rasa_action.DEFAULT_REQUEST_TIMEOUT = seconds


def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    """Same check as Rasa's, with the schema checked once and the validator kept."""
    global _validator
    if _validator is None:
        schema = self.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        _validator = cls(schema)
    try:
        _validator.validate(result)
        return True
    except ValidationError as error:
        raise ValidationError(
            f"{error.message}. Failed to validate Action server response from API, make sure your "
            "response from the Action endpoint is valid."
        ) from error


def install_cached_validation() -> None:
    """Replace ``RemoteAction._validate_action_result`` by the cached version (idempotent)."""
    rasa_action.RemoteAction._validate_action_result = _validate_action_result
