"""Listing and filtering conversations: the list page's filters, keyset pages, Open items worst
first, the live count and one conversation's summary."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from review.store.schema import ALERT_URGENCY, FLAGS, callbacks, conversation_intents, conversations, notes


TAG_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")  # a label: lower-case letters, digits, - and _


@dataclass
class ListFilter:
    """The list page's filters, read from query (or form) arguments; ``errors`` names the invalid ones."""

    flag: Optional[str] = None  # one of FLAGS, "low_confidence", or "any"
    intent: Optional[str] = None
    date_from: Optional[date] = None
    date_to: Optional[date] = None
    reviewed: Optional[bool] = None
    q: Optional[str] = None
    assignee: Optional[str] = None
    tag: Optional[str] = None  # a label (added with a note)
    errors: List[str] = field(default_factory=list)

    FLAG_CHOICES = (*FLAGS, "low_confidence", "any")

    @classmethod
    def from_args(cls, args: Dict[str, str]) -> "ListFilter":
        f = cls()
        flag = (args.get("flag") or "").strip()
        if flag:
            if flag in cls.FLAG_CHOICES:
                f.flag = flag
            else:
                f.errors.append("flag")
        intent = (args.get("intent") or "").strip()
        if intent:
            if re.fullmatch(r"[A-Za-z0-9_\-./]{1,255}", intent):
                f.intent = intent
            else:
                f.errors.append("intent")
        for key in ("date_from", "date_to"):
            raw = (args.get(key) or "").strip()
            if raw:
                try:
                    setattr(f, key, date.fromisoformat(raw))
                except ValueError:
                    f.errors.append(key)
        reviewed = (args.get("reviewed") or "").strip()
        if reviewed in ("yes", "no"):
            f.reviewed = reviewed == "yes"
        elif reviewed:
            f.errors.append("reviewed")
        q = (args.get("q") or "").strip()
        if q:
            f.q = q[:200]
        assignee = (args.get("assignee") or "").strip()
        if assignee:
            f.assignee = assignee[:64]
        tag = (args.get("tag") or "").strip().lower()
        if tag:
            if TAG_RE.fullmatch(tag):
                f.tag = tag
            else:
                f.errors.append("tag")
        return f

    def as_args(self) -> Dict[str, str]:
        out = {}
        if self.flag:
            out["flag"] = self.flag
        if self.intent:
            out["intent"] = self.intent
        if self.date_from:
            out["date_from"] = self.date_from.isoformat()
        if self.date_to:
            out["date_to"] = self.date_to.isoformat()
        if self.reviewed is not None:
            out["reviewed"] = "yes" if self.reviewed else "no"
        if self.q:
            out["q"] = self.q
        if self.assignee:
            out["assignee"] = self.assignee
        if self.tag:
            out["tag"] = self.tag
        return out

    def describe(self) -> str:
        """For the audit log: which filters (never the free-text query itself, it may hold patient text)."""
        args = self.as_args()
        if "q" in args:
            args["q"] = f"<{len(self.q or '')} chars>"
        return json.dumps(args, sort_keys=True)


def _flag_condition(flag: str, threshold: float):
    c = conversations.c
    low = sa.and_(c.min_confidence.isnot(None), c.min_confidence < threshold)
    if flag == "low_confidence":
        return low
    if flag == "fallback":
        return sa.or_(c.flag_fallback == True, low)  # noqa: E712
    if flag == "any":
        return sa.or_(*[c[f"flag_{f}"] == True for f in FLAGS], low)  # noqa: E712
    return c[f"flag_{flag}"] == True  # noqa: E712


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filter_conditions(f: ListFilter, threshold: float) -> List[Any]:
    """SQL conditions on ``review_conversations`` for the filters in ``f``."""
    c = conversations.c
    conds: List[Any] = []
    if f.flag:
        conds.append(_flag_condition(f.flag, threshold))
    if f.intent:
        conds.append(
            c.sender_id.in_(
                sa.select(conversation_intents.c.sender_id).where(conversation_intents.c.intent == f.intent)
            )
        )
    if f.date_from:
        conds.append(c.last_ts >= _day_start(f.date_from))
    if f.date_to:
        conds.append(c.last_ts < _day_start(f.date_to) + 86400)
    if f.reviewed is not None:
        conds.append(c.reviewed == f.reviewed)
    if f.assignee:
        conds.append(c.assignee == f.assignee)
    if f.tag:
        conds.append(c.tags.like(f"% {_like_escape(f.tag)} %", escape="\\"))
    if f.q:
        pattern = f"%{_like_escape(f.q.lower())}%"
        conds.append(
            sa.or_(c.search_text.like(pattern, escape="\\"), c.sender_id.like(f"%{_like_escape(f.q)}%", escape="\\"))
        )
    return conds


def _day_start(d: date) -> float:
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp()


def encode_cursor(last_ts: float, sender_id: str) -> str:
    """The list's keyset cursor: last activity and conversation id."""
    return f"{last_ts!r}:{sender_id}"


def decode_cursor(raw: Optional[str]) -> Optional[Tuple[float, str]]:
    """The (last activity, conversation id) of a cursor, None when absent or malformed."""
    if not raw or ":" not in raw:
        return None
    ts, sender = raw.split(":", 1)
    try:
        return float(ts), sender
    except ValueError:
        return None


LIST_COLUMNS = [
    "sender_id",
    "started",
    "last_ts",
    "turns",
    "last_user_text",
    *[f"flag_{f}" for f in FLAGS],
    "min_confidence",
    "reviewed",
    "reviewed_by",
    "assignee",
    "tags",
    "language",  # shown by name beside the "Not in English" flag
]


OPEN_COLUMNS = [*LIST_COLUMNS, "urgency", "worst_flag", "worst_text", "worst_ts", "worst_reason", "waiting_since"]


COUNT_CAP = 10_000  # list pages count matches up to this many (an exact count of 100k rows costs a scan)


@dataclass
class Page:
    """One page of conversations with its cursors."""

    rows: List[Dict[str, Any]]
    total: int  # matching conversations, at most COUNT_CAP + 1
    older: Optional[str]  # cursor for the next (older) page
    newer: Optional[str]  # cursor for the previous (newer) page

    @property
    def total_capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def total_label(self) -> str:
        return f"more than {COUNT_CAP:,}" if self.total_capped else str(self.total)


def count_conversations(engine: Engine, f: "ListFilter", threshold: float) -> int:
    """Exact number of conversations matching ``f`` (for exports)."""
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(conversations).where(*filter_conditions(f, threshold))
        ).scalar()


def list_conversations(
    engine: Engine,
    f: ListFilter,
    threshold: float,
    page_size: int = 50,
    after: Optional[str] = None,
    before: Optional[str] = None,
    with_total: bool = True,
) -> Page:
    """Newest first, keyset-paginated: ``after`` = older than that cursor, ``before`` = newer."""
    c = conversations.c
    conds = filter_conditions(f, threshold)
    cols = [c[name] for name in LIST_COLUMNS]
    after_c, before_c = decode_cursor(after), decode_cursor(before)
    if before_c:
        ts, sid = before_c
        q = (
            sa.select(*cols)
            .where(*conds, sa.or_(c.last_ts > ts, sa.and_(c.last_ts == ts, c.sender_id > sid)))
            .order_by(c.last_ts.asc(), c.sender_id.asc())
            .limit(page_size + 1)
        )
    else:
        q = sa.select(*cols).where(*conds)
        if after_c:
            ts, sid = after_c
            q = q.where(sa.or_(c.last_ts < ts, sa.and_(c.last_ts == ts, c.sender_id < sid)))
        q = q.order_by(c.last_ts.desc(), c.sender_id.desc()).limit(page_size + 1)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
        capped = sa.select(c.sender_id).where(*conds).limit(COUNT_CAP + 1).subquery()
        total = conn.execute(sa.select(sa.func.count()).select_from(capped)).scalar() if with_total else -1
    more = len(rows) > page_size
    rows = rows[:page_size]
    if before_c:
        rows.reverse()
        older = encode_cursor(rows[-1]["last_ts"], rows[-1]["sender_id"]) if rows else None
        newer = encode_cursor(rows[0]["last_ts"], rows[0]["sender_id"]) if rows and more else None
    else:
        older = encode_cursor(rows[-1]["last_ts"], rows[-1]["sender_id"]) if rows and more else None
        newer = encode_cursor(rows[0]["last_ts"], rows[0]["sender_id"]) if rows and after_c else None
    for row in rows:
        row["flags"] = row_flags(row, threshold)
    return Page(rows=rows, total=total, older=older, newer=newer)


def _encode_open_cursor(row: Dict[str, Any]) -> str:
    return f"{row['urgency']}:{row['waiting_since']!r}:{row['sender_id']}"


def _decode_open_cursor(raw: Optional[str]) -> Optional[Tuple[int, float, str]]:
    parts = (raw or "").split(":", 2)
    if len(parts) != 3:
        return None
    try:
        return int(parts[0]), float(parts[1]), parts[2]
    except ValueError:
        return None


def list_open(
    engine: Engine,
    flag: str,
    threshold: float,
    page_size: int = 50,
    after: Optional[str] = None,
    before: Optional[str] = None,
) -> Page:
    """Unreviewed conversations with ``flag`` (or any flag), worst first (URGENCY_ORDER), then the
    longest waiting; keyset-paginated on (urgency, waiting_since, sender_id), which one index covers."""
    c = conversations.c
    conds = [c.reviewed == False, _flag_condition(flag, threshold)]  # noqa: E712
    cols = [c[name] for name in OPEN_COLUMNS]
    key = (c.urgency, c.waiting_since, c.sender_id)
    after_c, before_c = _decode_open_cursor(after), _decode_open_cursor(before)
    if before_c:
        q = (
            sa.select(*cols)
            .where(*conds, sa.tuple_(*key) < sa.tuple_(*before_c))
            .order_by(*[k.desc() for k in key])
            .limit(page_size + 1)
        )
    else:
        q = sa.select(*cols).where(*conds)
        if after_c:
            q = q.where(sa.tuple_(*key) > sa.tuple_(*after_c))
        q = q.order_by(*[k.asc() for k in key]).limit(page_size + 1)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
        capped = sa.select(c.sender_id).where(*conds).limit(COUNT_CAP + 1).subquery()
        total = conn.execute(sa.select(sa.func.count()).select_from(capped)).scalar()
    more = len(rows) > page_size
    rows = rows[:page_size]
    if before_c:
        rows.reverse()
        older = _encode_open_cursor(rows[-1]) if rows else None
        newer = _encode_open_cursor(rows[0]) if rows and more else None
    else:
        older = _encode_open_cursor(rows[-1]) if rows and more else None
        newer = _encode_open_cursor(rows[0]) if rows and after_c else None
    for row in rows:
        row["flags"] = row_flags(row, threshold)
        if not row.get("worst_flag"):  # low confidence alone: no stored flag
            row["worst_flag"] = "low_confidence" if "low_confidence" in row["flags"] else None
            row["worst_text"], row["worst_ts"] = row.get("last_user_text"), row.get("last_ts")
    return Page(rows=rows, total=total, older=older, newer=newer)


def live_counts(engine: Engine, since_event_id: int) -> Dict[str, int]:
    """For the live count: unreviewed crisis/emergency conversations, how many of them became one after
    event ``since_event_id``, and open callback requests."""
    c = conversations.c
    alarming = sa.and_(c.reviewed == False, c.urgency <= ALERT_URGENCY)  # noqa: E712
    with engine.connect() as conn:
        urgent = conn.execute(sa.select(sa.func.count()).select_from(conversations).where(alarming)).scalar()
        new = conn.execute(
            sa.select(sa.func.count()).select_from(conversations).where(alarming, c.worst_event_id > since_event_id)
        ).scalar()
        cbs = conn.execute(
            sa.select(sa.func.count()).select_from(callbacks).where(callbacks.c.status == "open")
        ).scalar()
    return {"urgent": int(urgent or 0), "new_urgent": int(new or 0), "callbacks": int(cbs or 0)}


def row_flags(row: Dict[str, Any], threshold: float) -> List[str]:
    """The flags of a summary row, with "low_confidence" when its lowest confidence is below ``threshold``."""
    flags = [f for f in FLAGS if row.get(f"flag_{f}")]
    if row.get("min_confidence") is not None and row["min_confidence"] < threshold:
        flags.append("low_confidence")
    return flags


def get_summary(engine: Engine, sender_id: str, threshold: float) -> Optional[Dict[str, Any]]:
    """One conversation's summary row with its flags, None when it is not indexed."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(conversations).where(conversations.c.sender_id == sender_id)).first()
    if row is None:
        return None
    out = dict(row._mapping)
    out["flags"] = row_flags(out, threshold)
    return out


def known_tags(engine: Engine) -> List[str]:
    """Every label in use (from the notes that added them), for the label filter."""
    with engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                sa.select(notes.c.tag).where(notes.c.tag.isnot(None)).distinct().order_by(notes.c.tag)
            )
        ]


def known_intents(engine: Engine) -> List[str]:
    """Every intent seen in an indexed conversation, for the intent filter."""
    with engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                sa.select(conversation_intents.c.intent).distinct().order_by(conversation_intents.c.intent)
            )
        ]
