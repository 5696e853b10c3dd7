"""What every part of the web app shares, kept on ``app.ctx.review`` (one typed object).

Built once by :func:`make_state` when the app is created: the settings, the database engine (with
the schema created or upgraded), the Jinja2 environment, the domain's intents and the session
cookie's name. Handlers reach it through :func:`state_of`. ``app.ctx.settings`` and
``app.ctx.engine`` are set too, for code that only needs those.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic.request import Request
from sqlalchemy.engine import Engine

from review import display, store
from review.settings import Settings

REVIEW_DIR = Path(__file__).resolve().parent.parent  # review/: templates/ and static/ live there
TEMPLATES_DIR = REVIEW_DIR / "templates"
STATIC_DIR = REVIEW_DIR / "static"
INTENT_CACHE_SECONDS = 300


def _fmt_conf(value: Any) -> str:
    try:
        return f"{float(value):.2f}"
    except (TypeError, ValueError):
        return "–"


def load_domain_intents(domain_file: Path) -> List[str]:
    """The intents of the assistant's domain file, sorted (empty when the file cannot be read)."""
    try:
        doc = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    except OSError:
        return []
    names = []
    for item in doc.get("intents") or []:
        names.append(next(iter(item)) if isinstance(item, dict) else str(item))
    return sorted(names)


def make_jinja(settings: Settings) -> Environment:
    """The templates' environment: autoescaped everywhere, with the app's filters and globals."""
    jinja = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    jinja.filters["ts"] = lambda ts: display.local_time(ts, settings.timezone)
    jinja.filters["ago"] = lambda ts: display.duration(time.time() - ts) if ts else ""
    jinja.filters["short"] = display.short_name
    jinja.filters["language"] = display.language
    jinja.filters["conf"] = _fmt_conf
    jinja.globals["timezone"] = settings.timezone
    jinja.globals["callback_outcomes"] = store.CALLBACK_OUTCOMES
    return jinja


@dataclass
class ReviewState:
    """The app's shared state (see the module docstring)."""

    settings: Settings
    engine: Engine
    jinja: Environment
    domain_intents: List[str]
    cookie_name: str
    _intent_cache: Dict[str, Any] = field(default_factory=lambda: {"at": 0.0, "names": []})

    @property
    def threshold(self) -> float:
        """The confidence below which a patient message counts as low confidence."""
        return self.settings.low_confidence_threshold

    def filter_intents(self) -> List[str]:
        """Intents to filter by: the domain's, nlu_fallback, and any seen in the data (cached 5 min)."""
        cache = self._intent_cache
        if time.monotonic() - cache["at"] > INTENT_CACHE_SECONDS:
            cache["names"] = sorted(set(self.domain_intents) | set(store.known_intents(self.engine)) | {"nlu_fallback"})
            cache["at"] = time.monotonic()
        names: List[str] = cache["names"]
        return names

    async def catch_up_index(self) -> None:
        """Fold in events committed before this request (in a worker thread: the wait for a running
        background pass must not block other requests)."""
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: store.index_new_events(self.engine, self.settings, max_events=20000, wait=10.0)
        )


def make_state(settings: Settings) -> ReviewState:
    """Connect to the database, create or upgrade the review tables and build the shared state."""
    engine = store.make_engine(settings)
    store.create_schema(engine)
    return ReviewState(
        settings=settings,
        engine=engine,
        jinja=make_jinja(settings),
        domain_intents=load_domain_intents(settings.domain_file),
        cookie_name="__Host-review_session" if settings.secure_cookies else "review_session",
    )


def state_of(request: Request) -> ReviewState:
    """The shared state of the app serving ``request``."""
    state: ReviewState = request.app.ctx.review
    return state
