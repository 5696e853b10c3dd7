"""Shared fixtures: the real fact book and domain, a fresh dispatcher, tracker factories."""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rasa_sdk import Tracker  # noqa: E402
from rasa_sdk.executor import CollectingDispatcher  # noqa: E402

from actions.facts import FactBook  # noqa: E402
from actions.settings import DEFAULT_FACTS_FILE  # noqa: E402
from clinic_vocabulary import FACT_TOPIC_INTENTS  # noqa: E402

TIERS = ("unit", "integration", "browser", "cluster", "stress")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--tier",
        action="append",
        choices=TIERS,
        default=None,
        help="run only the tests of this tier (repeatable); pytest.ini describes the tiers",
    )


def tier_of(item: pytest.Item) -> str:
    """The test's tier: its own tier marker if it has one, else its module's (or class's)."""
    own = [mark.name for mark in item.own_markers if mark.name in TIERS]
    inherited = sorted({mark.name for mark in item.iter_markers() if mark.name in TIERS})
    if len(own) > 1 or (not own and len(inherited) != 1):
        raise pytest.UsageError(
            f"{item.nodeid}: mark it with exactly one tier of {TIERS} "
            f"(a module's pytestmark, or the test's own mark to override it)"
        )
    return own[0] if own else inherited[0]


@functools.lru_cache(maxsize=None)
def tiers_named_in(path: Path) -> frozenset:
    """The tiers a test module's source names as `pytest.mark.<tier>`."""
    return frozenset(re.findall(r"pytest\.mark\.(\w+)", path.read_text(encoding="utf-8"))) & frozenset(TIERS)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> Optional[bool]:
    """With --tier, a test module whose source names tiers, none of them wanted, is not imported:
    importing the server, browser and database test modules (and what they import) only to deselect
    their tests would cost the inner loop seconds. A module naming no tier is imported, so that its
    unmarked tests still fail the run (tier_of); a test whose tier its module's source does not name
    fails every run (pytest_collection_modifyitems), so no test can be skipped unseen by this."""
    wanted = config.getoption("--tier")
    if not wanted or collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    named = tiers_named_in(collection_path)
    return True if named and not named & set(wanted) else None


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    wanted = config.getoption("--tier")
    keep, drop = [], []
    for item in items:
        tier = tier_of(item)  # always: an unmarked test fails every run, not only a tiered one
        if tier not in tiers_named_in(Path(str(item.path))):
            raise pytest.UsageError(
                f"{item.nodeid}: its tier {tier!r} must be written in its module as pytest.mark.{tier} "
                f"(--tier skips a module by the tiers its source names)"
            )
        (keep if not wanted or tier in wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def rasa_restored() -> Any:
    """Rasa's attributes that the runtime layer may replace, put back after the test: a test that
    installs a patch (directly or through clinic_runtime.install) leaves plain Rasa behind it."""
    from clinic_runtime import layer

    saved = {target: layer._read(target) for patch in layer.PATCHES for target in patch.targets}
    installed = list(layer._installed)
    yield saved
    for target, value in saved.items():
        layer._write(target, value)
    layer._saved.clear()
    layer._installed[:] = installed


# The question topics, from the one vocabulary module (checked against facts/facts.yml there).
QUESTION_INTENTS = list(FACT_TOPIC_INTENTS)
# Absolute promises the assistant must never make (the sheet does; see SAFETY.md H2). Promise
# patterns only, matched as whole words (absolute_claims_in): "cannot" alone is not one, so "I cannot
# give medical advice" is fine, but "cannot fail" is.
ABSOLUTE_CLAIMS = [
    "absolutely no risk",
    "no risk of paralysis",
    "will not die",
    "won't die",
    "zero risk",
    "100% safe",
    "completely safe",
    "no risk at all",
    "risk-free",
    "risk free",
    "guarantee",
    "perfectly safe",
    "totally safe",
    "never fails",
    "cannot be paralysed",
    "no chance of",
    # added by the content review
    "no risk",
    "no risks",
    "never",
    "guaranteed",
    "guarantees",
    "will not",
    "won't",
    "cannot fail",
    "can't fail",
    "100%",
    "always works",
    "always",
    "safest",
    "fully safe",
    "entirely safe",
    "no danger",
    "no complications",
    "no side effects",
    "painless",
    "pain-free",
    "pain free",
    "harmless",
    "definitely",
    "certainly",
    "for sure",
    "nothing can go wrong",
    "no problem",
    "permanent cure",
    "cures",
    "cured",
    "proven",
]


def absolute_claims_in(text: str) -> List[str]:
    """The ABSOLUTE_CLAIMS that ``text`` makes (case-insensitive, whole words/phrases only)."""
    lowered = text.lower().replace("\u2019", "'")
    return [c for c in ABSOLUTE_CLAIMS if re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(c), lowered)]


# Words that state how often something happens or how much of it there is. The sheet gives almost no
# such figures, so an answer may use one only if its own source sentence has it (then attributed);
# responses and channel messages never (tests/test_facts.py).
FREQUENCY_WORDS = [
    "rare",
    "rarely",
    "usual",
    "usually",
    "often",
    "frequently",
    "occasionally",
    "seldom",
    "hardly",
    "little",
    "mostly",
    "most",
    "common",
    "commonly",
    "typical",
    "typically",
    "normally",
    "generally",
    "almost",
    "basically",
    "always",
    "sometimes",
    "majority",
]


@pytest.fixture(scope="session")
def book() -> FactBook:
    return FactBook.load(DEFAULT_FACTS_FILE)


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    intent: Optional[str] = None,
    confidence: float = 0.9,
    ranking: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    text: str = "",
) -> Tracker:
    """A tracker whose latest message has ``intent`` (and ``ranking``) and the given slots."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence} if intent else {},
        "intent_ranking": (
            ranking if ranking is not None else [{"name": intent, "confidence": confidence}] if intent else []
        ),
        "entities": [],
    }
    return Tracker("test-sender", slots or {}, latest, [], False, None, {}, "action_listen")


@pytest.fixture
def tracker_for():
    return make_tracker


def response_names(dispatcher: CollectingDispatcher) -> List[Optional[str]]:
    return [m.get("response") for m in dispatcher.messages]


def parse_probe_texts() -> List[str]:
    """Every held-out message plus edge cases (empty, a slash command, a red flag, Cyrillic, 2,000
    characters): for checks that a server change parses exactly as Rasa does."""
    from rasa.shared.nlu.training_data.loading import load_data

    texts = [m.get("text") for m in load_data(str(ROOT / "tests" / "nlu_test.yml")).training_examples]
    return texts + ["", "/ask_cost", "I can't control my bladder since yesterday", "ок", "a" * 2000]
