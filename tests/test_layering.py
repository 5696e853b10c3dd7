"""The packages depend on each other in one direction only, and never on each other's private names.

The table is the architecture (README, "File map"): a package may import the ones listed for it
and nothing else of the project. A new upward import (say, the triage importing a channel, or the
stores importing a channel) fails here with the file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, Set, Tuple

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.unit

# package -> the project packages it may import (besides itself)
ALLOWED: Dict[str, Set[str]] = {
    "clinic_vocabulary": set(),
    "clinic_triage": {"clinic_vocabulary"},
    "clinic_runtime": {"clinic_vocabulary"},
    "clinic_store": {"clinic_vocabulary"},
    "clinic_nlu": {"clinic_vocabulary", "clinic_triage"},
    "actions": {"clinic_vocabulary"},
    "clinic_channel": {"clinic_vocabulary", "clinic_triage", "clinic_runtime", "clinic_store"},
    "review": {"clinic_vocabulary", "clinic_nlu"},  # clinic_nlu's Rasa-free MiniLM encoder only
}
# Modules of a lower package that a higher one may import although the package as a whole is not
# allowed: none of them imports Rasa. The triage's one is the sentence encoder of its second reader,
# imported lazily by clinic_triage/embedding.py only when rules/semantic.yml's embedding_weight is
# above 0 (tests/test_triage_semantic.py checks that importing clinic_triage imports no clinic_nlu).
RASA_FREE_ONLY = {
    "review": {"clinic_nlu.minilm", "clinic_nlu.minilm_onnx"},
    "clinic_triage": {"clinic_nlu.minilm"},
}
PROJECT = set(ALLOWED)
# Sub-packages whose imports of their own package are limited too: sub-package -> the modules of the
# package outside it that it may import. The staff app's database layer never imports its web layer.
INNER_ALLOWED: Dict[str, Set[str]] = {
    "review.store": {"review.settings", "review.notify"},
}


def _modules() -> Iterator[Tuple[str, Path]]:
    for package in ALLOWED:
        path = ROOT / f"{package}.py"
        if path.is_file():
            yield package, path
        for path in sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []:
            yield package, path


def _imports(path: Path) -> Iterator[Tuple[int, str, Tuple[str, ...]]]:
    """(line, imported module, imported names) for every import in the file, at any depth."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module, tuple(alias.name for alias in node.names)


def test_every_import_between_packages_points_down_the_table():
    wrong = []
    for package, path in _modules():
        for line, module, _names in _imports(path):
            target = module.split(".")[0]
            if target not in PROJECT or target == package or target in ALLOWED[package]:
                continue
            if module in RASA_FREE_ONLY.get(package, set()):
                continue
            wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert wrong == []


def test_no_module_imports_another_modules_private_names():
    wrong = []
    for _package, path in _modules():
        own = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for line, module, names in _imports(path):
            if module.split(".")[0] in PROJECT and module != own:
                wrong += [f"{path.relative_to(ROOT)}:{line} imports {module}.{n}" for n in names if n.startswith("_")]
    assert wrong == []


def test_sub_packages_import_only_what_their_row_allows():
    wrong = []
    for sub, allowed in INNER_ALLOWED.items():
        package = sub.split(".")[0]
        for path in sorted((ROOT / sub.replace(".", "/")).rglob("*.py")):
            for line, module, names in _imports(path):
                # ``from review import notify`` imports the module review.notify
                for target in [f"{module}.{n}" for n in names] if module == package else [module]:
                    if target.split(".")[0] != package or target == sub or target.startswith(sub + "."):
                        continue
                    if target not in allowed:
                        wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert wrong == []


def test_the_rasa_free_packages_do_not_import_rasa():
    wrong = []
    for package, path in _modules():
        if package not in ("clinic_vocabulary", "clinic_triage") and path.name not in (
            "guard.py",
            "question_parts.py",
            "topic_margin.py",
            "minilm.py",
        ):
            continue
        for line, module, _names in _imports(path):
            if module.split(".")[0] in ("rasa", "rasa_sdk", "sanic"):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert wrong == []


def test_the_table_catches_an_upward_import(tmp_path, monkeypatch):
    """The check can fail: a store importing a channel is reported."""
    fake = tmp_path / "clinic_store"
    fake.mkdir()
    (fake / "bad.py").write_text("from clinic_channel.patient import load_messages\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    with pytest.raises(AssertionError, match="clinic_store/bad.py:1 imports clinic_channel.patient"):
        test_every_import_between_packages_points_down_the_table()


def test_the_inner_table_catches_the_store_importing_the_web_layer(tmp_path, monkeypatch):
    """The check can fail: the staff app's store importing its web layer is reported."""
    fake = tmp_path / "review" / "store"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("from review.web.respond import render\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    with pytest.raises(AssertionError, match="review/store/bad.py:1 imports review.web.respond"):
        test_sub_packages_import_only_what_their_row_allows()
