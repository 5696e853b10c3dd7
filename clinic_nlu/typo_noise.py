"""Seeded phone-typing noise: the slips patients make when they type a question on a phone.

Used to build the typo split of the held-out NLU set (``scripts/make_typos.py``) and to augment
the training data (``clinic_nlu.typo_augmenter``). No Rasa imports.

What one noisy message is, from a clean one:
- no capitals and no apostrophes ("I'm" -> "im"), as people type in a hurry;
- each word of three or more letters has a one-in-three chance of one slip: two neighbouring
  letters swapped, a letter dropped, a letter doubled, or a letter replaced by a neighbouring key
  on a QWERTY keyboard.

The noise is a function of ``(seed, text)`` only: the same message gets the same slips whatever
else is in the file, so the typo split does not change when other examples are added.
Entity annotations (``[value](entity)``, ``[value]{...}``) are kept exactly as they are, so an
annotated value still matches its annotation.
"""

from __future__ import annotations

import random
import re
from typing import Callable, Dict, List, Tuple

WORD_PROBABILITY = 1 / 3
MIN_WORD_LETTERS = 3

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _neighbours() -> Dict[str, str]:
    """Each letter -> the letters around it on a QWERTY keyboard (same row and the rows beside)."""
    position = {ch: (r, c) for r, row in enumerate(_ROWS) for c, ch in enumerate(row)}
    result = {}
    for ch, (r, c) in position.items():
        near = [
            other
            for other, (r2, c2) in position.items()
            if other != ch and abs(r2 - r) <= 1 and abs((c2 + 0.5 * r2) - (c + 0.5 * r)) <= 1.0
        ]
        result[ch] = "".join(sorted(near))
    return result


NEIGHBOURS: Dict[str, str] = _neighbours()

# An entity annotation: [value](entity) or [value]{"entity": ...}; kept untouched.
_ANNOTATION = re.compile(r"\[[^\]]*\](?:\([^)]*\)|\{[^}]*\})")
_WORD = re.compile(r"[A-Za-z]+")
_APOSTROPHES = re.compile(r"['’‘]")


def _swap(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _drop(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word))
    return word[:i] + word[i + 1 :]


def _double(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word))
    return word[: i + 1] + word[i] + word[i + 1 :]


def _neighbour_key(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word))
    near = NEIGHBOURS.get(word[i], "")
    return word[:i] + rng.choice(near) + word[i + 1 :] if near else word


SLIPS: Tuple[Callable[[str, random.Random], str], ...] = (_swap, _drop, _double, _neighbour_key)


def misspell(word: str, rng: random.Random) -> str:
    """One slip in ``word`` (a different word whenever a slip can change it)."""
    for _ in range(4):  # a swap of two equal letters changes nothing: try another slip
        slipped = rng.choice(SLIPS)(word, rng)
        if slipped != word:
            return slipped
    return word


def _noisy_plain(text: str, rng: random.Random, probability: float) -> str:
    """Lower-case, drop apostrophes and misspell some words of text with no annotation in it."""
    text = _APOSTROPHES.sub("", text.lower())

    def slip(match: "re.Match[str]") -> str:
        word = match.group(0)
        if len(word) < MIN_WORD_LETTERS or rng.random() >= probability:
            return word
        return misspell(word, rng)

    return _WORD.sub(slip, text)


def add_typos(text: str, seed: int, probability: float = WORD_PROBABILITY) -> str:
    """The noisy version of ``text``: deterministic for a given ``seed`` and ``text``.

    Annotated entity spans are copied unchanged; the text around them gets the noise.
    """
    rng = random.Random(f"{seed}:{text}")
    parts: List[str] = []
    last = 0
    for match in _ANNOTATION.finditer(text):
        parts.append(_noisy_plain(text[last : match.start()], rng, probability))
        parts.append(match.group(0))
        last = match.end()
    parts.append(_noisy_plain(text[last:], rng, probability))
    return "".join(parts)


_EXAMPLES_KEY = re.compile(r"^(\s*)examples:\s*\|[-+]?\s*$")
_ITEM = re.compile(r"^\s*-\s+(intent|synonym|regex|lookup):")
_EXAMPLE_LINE = re.compile(r"^(\s*- )(.*)$")


def noisy_nlu_yaml(source: str, seed: int, header: str = "", probability: float = WORD_PROBABILITY) -> str:
    """A Rasa NLU YAML file with every intent example made noisy, the rest unchanged.

    Synonym, regex and lookup examples are left alone (a regex is not text a patient types).

    Works line by line so that the structure, comments and order of the file stay as they are.
    ``header`` (comment lines) is put at the top.
    """
    out: List[str] = [header] if header else []
    block_indent = None  # indentation of the current "examples: |" key, when inside its block
    in_intent = False  # whether the current list item is an intent (not a synonym, regex or lookup)
    for line in source.splitlines(keepends=True):
        item = _ITEM.match(line)
        if item:
            in_intent = item.group(1) == "intent"
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if block_indent is not None and stripped and indent <= block_indent:
            block_indent = None
        if block_indent is None:
            key = _EXAMPLES_KEY.match(line.rstrip("\n"))
            if key and in_intent:
                block_indent = len(key.group(1))
            out.append(line)
            continue
        example = _EXAMPLE_LINE.match(line.rstrip("\n"))
        if example:
            ending = line[len(line.rstrip("\n")) :]
            out.append(example.group(1) + add_typos(example.group(2), seed, probability) + ending)
        else:
            out.append(line)
    return "".join(out)
