"""Clinical triage of patient messages (spaCy + medspaCy ConText, rules in ``rules/``).

No Rasa imports; see :mod:`clinic_triage.engine`.
"""

from clinic_triage.engine import (  # noqa: F401
    CRISIS,
    EMERGENCY,
    ESCALATED,
    LEVELS,
    NONE,
    URGENT,
    Assessment,
    Finding,
    Triage,
    assess,
    normalise,
)
