"""Configuration is read in one place, with safe defaults."""

from pathlib import Path

import pytest

from actions.settings import DEFAULT_FACTS_FILE, load_settings

pytestmark = pytest.mark.unit


def test_defaults_need_no_environment():
    s = load_settings({})
    assert s.facts_file == DEFAULT_FACTS_FILE and s.facts_file.is_file()
    assert s.clinic_name == "the clinic"
    assert s.clinic_phone is None and not s.has_contact


def test_blank_values_count_as_unset_and_values_are_trimmed():
    s = load_settings({"CLINIC_PHONE": "   ", "CLINIC_EMAIL": " care@example.org ", "CLINIC_FACTS_FILE": "/x/f.yml"})
    assert s.clinic_phone is None
    assert s.clinic_email == "care@example.org" and s.has_contact
    assert s.facts_file == Path("/x/f.yml")


def test_no_other_actions_module_reads_the_environment():
    root = Path(__file__).resolve().parent.parent / "actions"
    offenders = [p.name for p in root.glob("*.py") if p.name != "settings.py" and "os.environ" in p.read_text()]
    assert offenders == []
