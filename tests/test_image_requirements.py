"""What each container image installs (deploy/Dockerfile): only what its code imports, at the pins of
requirements-lock.txt, and no development or test tool in any of them.

The images are built with the lock as pip constraints, so a package's version comes from one place;
these tests check the image requirement files against the lock and against the imports of the code
each image runs, using the installed packages' metadata (the .venv is installed from the same lock).
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata as md
import re
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Set

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

pytestmark = pytest.mark.unit

DEV_MARKER = "# ---- development and test tools ----"
# Installed into every virtualenv by deploy/Dockerfile's pip stage, at pins of its own.
PIP_TOOLS = {"pip", "setuptools", "wheel"}
# The tools `make lint` and `make quick` run: never in an image.
TOOLS = {"pytest", "pytest-asyncio", "playwright", "hypothesis", "ruff", "mypy", "kubernetes-validate", "textstat"}
HEAVY = {"rasa", "tensorflow", "spacy", "jax", "jaxlib"}


def pins(lines: Iterable[str]) -> Dict[str, str]:
    """``{canonical name: version}`` of ``name==version`` lines; anything else but comments fails."""
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)(\s+--hash=\S+)*", line)
        assert match, f"not an exact pin: {line!r}"
        found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def lock() -> Dict[str, str]:
    return pins((ROOT / "requirements-lock.txt").read_text(encoding="utf-8").splitlines())


def runtime_part() -> List[str]:
    """requirements.txt above its development-tools line: what the Rasa image installs."""
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert DEV_MARKER in lines, "requirements.txt lost the line deploy/Dockerfile cuts at"
    return lines[: lines.index(DEV_MARKER)]


def dev_part() -> List[str]:
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return lines[lines.index(DEV_MARKER) + 1 :]


IMAGES = {
    "rasa": runtime_part,
    "actions": lambda: (ROOT / "requirements-actions.txt").read_text(encoding="utf-8").splitlines(),
    "review": lambda: (ROOT / "requirements-review.txt").read_text(encoding="utf-8").splitlines(),
}


@functools.lru_cache(maxsize=None)
def _requirements() -> Dict[str, List[str]]:
    """``{canonical name: its Requires-Dist lines}`` of every installed distribution (read once)."""
    return {canonicalize_name(dist.metadata["Name"]): dist.requires or [] for dist in md.distributions()}


def closure(names: Iterable[str]) -> Set[str]:
    """The packages pip installs for ``names``: their requirements, recursively (markers evaluated)."""
    seen: Set[str] = set()
    todo = [canonicalize_name(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for text in _requirements().get(name, []):
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return seen


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_the_image_requirements_pin_the_locked_versions(image):
    wanted = pins(IMAGES[image]())
    locked = lock()
    assert wanted, image
    assert {name: (version, locked.get(name)) for name, version in wanted.items() if locked.get(name) != version} == {}


def uninstalled() -> Set[str]:
    """What deploy/Dockerfile uninstalls from the Rasa server's virtualenv after installing it."""
    text = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    match = re.search(r"pip uninstall --quiet --yes ([^\\\n]+)", text)
    assert match, "deploy/Dockerfile's uninstall line moved"
    return {canonicalize_name(name) for name in match.group(1).split()}


@pytest.mark.integration  # every installed distribution's requirements or files, parsed: not the inner loop
@pytest.mark.parametrize("image", sorted(IMAGES))
def test_everything_an_image_installs_is_in_the_lock_and_no_tool(image):
    installed = closure(pins(IMAGES[image]())) - PIP_TOOLS
    if image == "rasa":
        installed -= uninstalled()
    assert installed - set(lock()) == set(), "installed at a version the lock does not fix"
    assert installed & TOOLS == set()


def test_the_development_tools_are_below_the_line_the_rasa_image_stops_at():
    assert set(pins(dev_part())) == TOOLS
    assert set(pins(runtime_part())) & TOOLS == set()


@pytest.mark.integration  # every installed distribution's requirements or files, parsed: not the inner loop
@pytest.mark.parametrize("image", ["actions", "review"])
def test_the_action_server_and_review_images_have_no_rasa_nor_tensorflow(image):
    assert closure(pins(IMAGES[image]())) & HEAVY == set()


@functools.lru_cache(maxsize=None)
def _providers() -> Dict[str, List[str]]:
    """``{top-level module: [distribution, ...]}`` from the installed files (wheels without top_level.txt too)."""
    found: Dict[str, List[str]] = {}
    for dist in md.distributions():
        tops = set()
        for file in dist.files or []:
            if file.parts[0].endswith((".dist-info", ".data")) or file.parts[0] in ("..", "__pycache__"):
                continue
            if len(file.parts) > 1:
                tops.add(file.parts[0])
            elif file.suffix in (".py", ".so"):
                tops.add(file.name.split(".")[0])
        for top in tops:
            found.setdefault(top, []).append(dist.metadata["Name"])
    return found


def _third_party_imports(paths: Iterable[Path]) -> Dict[str, str]:
    """``{top-level module: file}`` of every import of a non-project, non-standard module."""
    project = {p.stem if p.suffix == ".py" else p.name for p in ROOT.iterdir()}
    found = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in project:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


# The code each small image runs (deploy/Dockerfile's COPY lines of the stage).
CODE = {
    "actions": ["actions", "clinic_vocabulary.py", "deploy/healthcheck.py"],
    "review": [
        "review",
        "clinic_nlu/minilm.py",
        "clinic_nlu/minilm_onnx.py",
        "clinic_vocabulary.py",
        "deploy/healthcheck.py",
    ],
}


@pytest.mark.integration  # every installed distribution's requirements or files, parsed: not the inner loop
@pytest.mark.parametrize("image", sorted(CODE))
def test_every_module_the_code_imports_is_installed_in_its_image(image):
    files = []
    for entry in CODE[image]:
        path = ROOT / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    installed = closure(pins(IMAGES[image]()))
    providers = _providers()
    missing = {
        module: where
        for module, where in _third_party_imports(files).items()
        if not {canonicalize_name(d) for d in providers.get(module, [])} & installed
    }
    assert missing == {}


@pytest.mark.integration  # every installed distribution's requirements or files, parsed: not the inner loop
def test_the_review_image_has_the_postgresql_driver():
    # SQLAlchemy loads it by name for postgresql:// URLs: no import statement says so.
    assert "psycopg2-binary" in closure(pins(IMAGES["review"]()))


def _stage_copies(stage: str) -> List[str]:
    """The sources a deploy/Dockerfile stage (and the stages it is built FROM) copies from the context."""
    parents: Dict[str, str] = {}
    copies: Dict[str, List[str]] = {}
    current = ""
    for line in (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8").splitlines():
        match = re.match(r"FROM\s+(\S+)\s+AS\s+(\S+)", line)
        if match:
            current = match.group(2)
            parents[current] = match.group(1)
            copies[current] = []
        elif line.startswith("COPY ") and "--from=" not in line:
            copies[current] += line.split()[1:-1]
    sources = []
    while stage in copies:
        sources += copies[stage]
        stage = parents[stage]
    return sources


@pytest.mark.parametrize("image", sorted(CODE))
def test_the_image_copies_the_code_these_tests_check(image):
    copied = {source.rstrip("/") for source in _stage_copies(image)}
    assert set(CODE[image]) <= copied
    # and nothing Rasa-bound: the channel, the runtime layer, the stores, the triage, the NLU
    # components, the model
    rasa_bound = {"clinic_channel", "clinic_runtime", "clinic_store", "clinic_triage", "clinic_nlu", "models/*.tar.gz"}
    assert copied & rasa_bound == set()
