"""A reviewable pattern file: its version is checked and every list compiles or names itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clinic_nlu.pattern_file import PatternFile

pytestmark = pytest.mark.unit


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_patterns_of_a_list_compile_with_the_flags_given(tmp_path: Path):
    rules = PatternFile(_file(tmp_path, "version: 1\nwords: ['back pain', 'le(g|gs)']\n"), re.IGNORECASE)
    words = rules.compiled("words")
    assert [p.pattern for p in words] == ["back pain", "le(g|gs)"]
    assert words[0].search("My BACK PAIN is worse")
    assert PatternFile(rules.path).compiled("words")[0].search("My BACK PAIN") is None


@pytest.mark.parametrize("text", ["words: ['x']\n", "version: 2\nwords: ['x']\n", ""])
def test_a_file_of_another_or_no_version_is_refused_by_name(tmp_path: Path, text: str):
    with pytest.raises(ValueError, match=r"rules\.yml: unknown version"):
        PatternFile(_file(tmp_path, text))


def test_an_empty_or_missing_list_and_a_bad_pattern_are_errors_naming_the_list(tmp_path: Path):
    rules = PatternFile(_file(tmp_path, "version: 1\nempty: []\nbad: ['ok', 'my (back']\n"))
    with pytest.raises(ValueError, match="rules.yml: no empty patterns"):
        rules.compiled("empty")
    with pytest.raises(ValueError, match="rules.yml: no absent patterns"):
        rules.compiled("absent")
    with pytest.raises(ValueError, match=r"rules\.yml: bad pattern 'my \(back' does not compile"):
        rules.compiled("bad")
