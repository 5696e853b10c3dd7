"""Import medspaCy once, quietly, with one correction to its ConText.

- medspaCy imports PyRuSH, whose sentencizer logs every rule at DEBUG level through loguru (not the
  standard ``logging``) to stderr. We do not use PyRuSH (spaCy's rule-based sentencizer splits the
  messages), so PyRuSH's loguru output is switched off before medspaCy is imported.
- medspaCy 1.3.1's ``tuple_overlaps(a, b)`` is not symmetric: it misses ``a`` lying strictly inside
  ``b``. ConText uses it (a) to keep a modifier from modifying the target it is part of, so the
  "not" of "can not pee" negated the symptom, and (b) to decide whether a "but" or a new clause
  limits a modifier's scope, so with ``max_scope`` set "no fever, the chest hurts" negated the chest
  pain. :func:`install` replaces the function in the two ConText modules that use it with a
  symmetric one.
- medspaCy 1.3.1's ``RegexMatcher`` rebuilds ``doc.text_with_ws`` (a join over every token) once
  per pattern; with the triage's ~200 patterns that was most of the time of a message. :func:`install`
  gives it a ``__call__`` that reads the text once per document and is otherwise the same code, so
  the matches are the same (a test compares both on the whole tuning corpus).

Both changes are installed only on the medspaCy version they were checked against, and each is
logged. ``tests/test_triage_engine.py`` shows what each one changes.
"""

from __future__ import annotations

import logging
from typing import Tuple

from loguru import logger as _loguru

_loguru.disable("PyRuSH")

import medspacy  # noqa: E402  (registers the medspacy_* spaCy factories)
from medspacy import util as _util  # noqa: E402
from medspacy.common import regex_matcher as _regex  # noqa: E402
from medspacy.common.util import get_token_for_char  # noqa: E402
from medspacy.context import context_graph as _graph, context_modifier as _modifier  # noqa: E402

logger = logging.getLogger(__name__)

CHECKED_VERSION = "1.3.1"
ORIGINAL_TUPLE_OVERLAPS = _util.tuple_overlaps
ORIGINAL_REGEX_CALL = _regex.RegexMatcher.__call__


def tuple_overlaps(a: Tuple[int, int], b: Tuple[int, int]) -> bool:
    """Whether two ``(start, end)`` token spans share a token (in either order)."""
    return a[0] < b[1] and b[0] < a[1]


def regex_matcher_call(self, doc):  # type: ignore[no-untyped-def]
    """medspaCy 1.3.1's ``RegexMatcher.__call__`` with ``doc.text_with_ws`` read once per document."""
    matches = []
    text = doc.text_with_ws
    for match_id, patterns in self._patterns.items():
        for pattern in patterns:
            on_match = self._callbacks[match_id]
            for re_match in pattern.finditer(text):
                span = doc.char_span(re_match.start(), re_match.end())
                if span is None:
                    start = get_token_for_char(doc, re_match.start(), resolve=self.resolve_start)
                    end = get_token_for_char(doc, re_match.end(), resolve=self.resolve_end)
                    span = doc[start.i : len(doc) if end is None else end.i]
                if len(span):
                    matches.append((match_id, span.start, span.end))
                if on_match is not None:
                    on_match(self, doc, len(matches) - 1, matches)
    return matches


def install(overlap_fix: bool = True, fast_regex: bool = True) -> bool:
    """Install the changes above; False (and an error) on a medspaCy version they were not checked on."""
    if medspacy.__version__ != CHECKED_VERSION:
        logger.error(
            "triage.medspacy.unexpected_version version=%s checked=%s: overlap fix and fast regex matcher "
            "not installed; negation inside a red flag and scope limits may be wrong",
            medspacy.__version__,
            CHECKED_VERSION,
        )
        return False
    if overlap_fix and _modifier.tuple_overlaps is not tuple_overlaps:
        _modifier.tuple_overlaps = tuple_overlaps
        _graph.tuple_overlaps = tuple_overlaps
        logger.info("triage.medspacy.patched tuple_overlaps (symmetric) in context_modifier, context_graph")
    if fast_regex and _regex.RegexMatcher.__call__ is not regex_matcher_call:
        _regex.RegexMatcher.__call__ = regex_matcher_call
        logger.info("triage.medspacy.patched RegexMatcher.__call__ (text read once per document)")
    return True


def uninstall() -> None:
    """Restore medspaCy's own code (tests use it to show what each change does)."""
    _modifier.tuple_overlaps = ORIGINAL_TUPLE_OVERLAPS
    _graph.tuple_overlaps = ORIGINAL_TUPLE_OVERLAPS
    _regex.RegexMatcher.__call__ = ORIGINAL_REGEX_CALL
