"""Rasa's event deserialisation by type name, as a table lookup.

Rasa 3.6's ``Event.resolve_by_type`` walks every subclass of ``Event`` for each stored event it
reads back, which made reading a conversation from the tracker store cost more than the rest of a
turn on long conversations. The table gives the same class: the first subclass with that name,
refreshed when an unknown name appears (event classes defined later), else Rasa's own lookup.
"""

from __future__ import annotations

from typing import Dict, Optional, Text

from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses


def install_fast_event_lookup() -> None:
    """Make ``Event.resolve_by_type`` a table lookup (same result: the first subclass with the name)."""
    if getattr(Event.resolve_by_type, "clinic_fast", False):
        return
    original = Event.resolve_by_type
    table: Dict[str, type] = {}

    def resolve_by_type(type_name: Text, default: Optional[type] = None) -> Optional[type]:
        found = table.get(type_name)
        if found is None:
            for cls in all_subclasses(Event):  # refresh: event classes defined since
                table.setdefault(cls.type_name, cls)
            found = table.get(type_name)
        return found if found is not None else original(type_name, default)

    resolve_by_type.clinic_fast = True  # type: ignore[attr-defined]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[assignment]
