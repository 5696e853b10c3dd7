"""How the review app shows times, conversation ids and languages to staff.

Times are stored in UTC and shown in the configured zone (``REVIEW_TIMEZONE``) with its abbreviation;
waiting times read as "3 h 5 min". Conversation ids (often 30-70 character hashes) get a short name
that is easy to say and remember ("calm-otter-417"): derived from a hash of the id, so it is stable
and needs no storage. There are 3.6 million names, so among a few thousand conversations two may
share one: the full id stays on hover and on the conversation page. A language code the not-English
test recorded reads as its name and the code, "Spanish (es)" (the names: ``language_names.txt``); a
code without a name is shown as itself.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional
from zoneinfo import ZoneInfo

LANGUAGE_NAMES = Path(__file__).resolve().parent / "language_names.txt"

ADJECTIVES = (
    "amber",
    "bold",
    "brave",
    "bright",
    "brisk",
    "calm",
    "clear",
    "cool",
    "crisp",
    "eager",
    "early",
    "fair",
    "fast",
    "fine",
    "firm",
    "fresh",
    "gentle",
    "glad",
    "golden",
    "grand",
    "green",
    "happy",
    "keen",
    "kind",
    "late",
    "light",
    "lively",
    "lucky",
    "merry",
    "mild",
    "neat",
    "noble",
    "pale",
    "plain",
    "polite",
    "proud",
    "quick",
    "quiet",
    "rapid",
    "ready",
    "rosy",
    "royal",
    "shy",
    "silver",
    "simple",
    "smart",
    "soft",
    "solid",
    "steady",
    "sunny",
    "swift",
    "tall",
    "tidy",
    "true",
    "vivid",
    "warm",
    "wise",
    "witty",
    "young",
    "zesty",
)
NOUNS = (
    "badger",
    "bear",
    "beaver",
    "bison",
    "crane",
    "deer",
    "dolphin",
    "eagle",
    "falcon",
    "finch",
    "fox",
    "gecko",
    "goose",
    "hare",
    "hawk",
    "heron",
    "ibis",
    "koala",
    "lark",
    "lemur",
    "lion",
    "lynx",
    "marten",
    "mole",
    "moose",
    "newt",
    "otter",
    "owl",
    "panda",
    "parrot",
    "pelican",
    "puffin",
    "quail",
    "rabbit",
    "raven",
    "robin",
    "salmon",
    "seal",
    "shrew",
    "sparrow",
    "stork",
    "swan",
    "tiger",
    "toad",
    "trout",
    "turtle",
    "walrus",
    "whale",
    "wolf",
    "wren",
    "yak",
    "zebra",
    "bee",
    "cod",
    "crab",
    "dove",
    "elk",
    "gull",
    "kite",
    "orca",
)


def short_name(sender_id: str) -> str:
    """A stable adjective-noun-number name for a conversation id."""
    digest = int.from_bytes(hashlib.sha256(sender_id.encode("utf-8")).digest()[:8], "big")
    adjective = ADJECTIVES[digest % len(ADJECTIVES)]
    noun = NOUNS[(digest // len(ADJECTIVES)) % len(NOUNS)]
    number = (digest // (len(ADJECTIVES) * len(NOUNS))) % 1000
    return f"{adjective}-{noun}-{number}"


def local_time(ts: Optional[float], zone: str, seconds: bool = True) -> str:
    """``2026-12-01 15:04:05 CET`` in ``zone`` (empty for no time)."""
    if not ts:
        return ""
    when = datetime.fromtimestamp(ts, tz=ZoneInfo(zone))
    return when.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def duration(seconds: float) -> str:
    """A waiting time as people say it: "45 s", "12 min", "3 h 5 min", "2 days 4 h"."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    unit = "day" if days == 1 else "days"
    return f"{days} {unit} {hours} h" if hours else f"{days} {unit}"


@lru_cache(maxsize=None)
def language_names(path: Path = LANGUAGE_NAMES) -> Dict[str, str]:
    """The language codes and their names (``language_names.txt``: a code, then its name, a line).

    A line without a name, or a code listed twice, is an error (the list is reviewed by hand)."""
    names: Dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split("#", 1)[0].split(None, 1)
        if not fields:
            continue
        if len(fields) < 2 or fields[0] in names:
            raise ValueError(f"{path.name}:{number}: expected a new language code and its name: {line!r}")
        names[fields[0]] = fields[1].strip()
    return names


def language(code: Optional[str]) -> str:
    """A language code as staff read it: "Spanish (es)"; a code without a name as itself ("" for none)."""
    code = (code or "").strip()
    name = language_names().get(code)
    return f"{name} ({code})" if name else code
