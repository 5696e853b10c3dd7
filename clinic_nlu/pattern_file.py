"""Reading a reviewable file of regular expressions: its version checked, each pattern compiled.

The rule files beside this module (``instructions.yml``, ``own_case.yml``) are lists of patterns a
reviewer can read and change. A file of an unknown version, an empty list, or a pattern that does not
compile stops loading with an error that names the file, the list and the pattern, so a mistake in
review shows at start-up rather than as a rule that silently never matches.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Tuple

import yaml

VERSION = 1


class PatternFile:
    """The lists of one versioned YAML pattern file, compiled on request."""

    def __init__(self, path: Path, flags: int = 0) -> None:
        self.path = Path(path)
        self._flags = flags
        self._data: Dict[str, Any] = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
        if self._data.get("version") != VERSION:
            raise ValueError(f"{self.path.name}: unknown version {self._data.get('version')!r}")

    def compiled(self, key: str) -> Tuple["re.Pattern[str]", ...]:
        """The patterns listed under ``key``, compiled; an empty list or a bad pattern is an error."""
        patterns = self._data.get(key) or []
        if not patterns:
            raise ValueError(f"{self.path.name}: no {key} patterns")
        out = []
        for pattern in patterns:
            try:
                out.append(re.compile(pattern, self._flags))
            except re.error as error:
                raise ValueError(f"{self.path.name}: {key} pattern {pattern!r} does not compile: {error}") from error
        return tuple(out)
