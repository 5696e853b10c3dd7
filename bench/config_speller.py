"""The spelling corrector with config.yml's settings, for the bench scripts (outside Rasa).

    from config_speller import config_speller
    speller = config_speller(training_texts)

Reads the ``SpellingCorrector`` entry of config.yml (``english_words`` and the context step's
settings; clinic_nlu/spelling.py) so that a bench measures what the pipeline runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable

import yaml

from clinic_nlu.spelling import DomainSpeller, build_speller, speller_settings

ROOT = Path(__file__).resolve().parent.parent


def corrector_settings(config: Path = ROOT / "config.yml") -> Dict[str, Any]:
    """The SpellingCorrector entry of a Rasa config (an empty dict when it has none)."""
    pipeline = yaml.safe_load(config.read_text(encoding="utf-8"))["pipeline"]
    return next((dict(c) for c in pipeline if c["name"].endswith("SpellingCorrector")), {})


def config_speller(training_texts: Iterable[str], config: Path = ROOT / "config.yml") -> DomainSpeller:
    """A speller built on ``training_texts`` with the config's settings."""
    return build_speller(training_texts, **speller_settings(corrector_settings(config)))
