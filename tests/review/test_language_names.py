"""The language a message not in English was written in, as staff read it: "Spanish (es)".

The names are one reviewed file (review/language_names.txt). Every code the not-English test
(clinic_nlu/language.py) can record has a name there, so a language added to the detector cannot
reach the staff app unnamed; a code without a name is shown as itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from review.display import language, language_names

pytestmark = pytest.mark.unit


def _codes_the_detector_can_record() -> set:
    from clinic_nlu.language import FOREIGN_LANGUAGES, foreign_words

    listed = {code for codes in foreign_words().values() for code in codes.split()}
    return set(FOREIGN_LANGUAGES) | listed


def test_every_language_code_the_detector_can_record_has_a_name() -> None:
    codes = _codes_the_detector_can_record()
    assert {"es", "fr", "pl", "tr"} <= codes  # read from the detector's own lists
    assert sorted(codes - set(language_names())) == []


def test_a_code_reads_as_its_name_with_the_code() -> None:
    assert language("es") == "Spanish (es)"
    assert language("fr") == "French (fr)"
    assert language("pl") == "Polish (pl)"


def test_a_code_without_a_name_is_shown_as_itself() -> None:
    assert language("xx") == "xx"
    assert language("") == "" and language(None) == ""


@pytest.mark.parametrize("text", ["es Spanish\nes Español\n", "es\n"])
def test_a_slip_in_the_reviewed_list_is_an_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "language_names.txt"
    path.write_text("# names\n" + text, encoding="utf-8")
    with pytest.raises(ValueError, match="language_names.txt:"):
        language_names(path)
