"""The dashboard's figures: volume, topics, rates of answers that matter, reply times, per local day or week.

Every figure is aggregated in the database (SQLite and PostgreSQL alike) over ``review_messages``
(:mod:`review.message_index`): GROUP BY local day (or week) and conversation, then per bucket, for
the conversations and rates; the median reply time with window functions (``row_number`` and
``count`` over the bucket). Only the figures reach the app, never the rows (bench/dashboard_bench.py).

A *conversation* is one chat session of the widget (one ``sender_id``): the closest the data comes
to "a patient" (someone who opens the chat on two devices counts twice). Rates are shares of the
conversations active in a bucket that had at least one such message: "3 of 40 conversations got an
emergency answer".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Dict, List, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from review import store

MAX_DAYS = 366
DEFAULT_DAYS = 28
BUCKETS = ("day", "week")


@dataclass
class DateRange:
    """An inclusive range of local calendar days and how to bucket it."""

    start: date
    end: date
    bucket: str = "day"
    errors: List[str] = field(default_factory=list)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def keys(self) -> List[str]:
        """Every bucket of the range in order (days, or the Monday of each week), empty ones included."""
        if self.bucket == "week":
            monday = self.start - timedelta(days=self.start.weekday())
            out = []
            while monday <= self.end:
                out.append(monday.isoformat())
                monday += timedelta(days=7)
            return out
        return [(self.start + timedelta(days=i)).isoformat() for i in range(self.days)]

    def as_args(self) -> Dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "bucket": self.bucket}


def today_in(tz: str, now: Optional[float] = None) -> date:
    return (datetime.fromtimestamp(now, ZoneInfo(tz)) if now is not None else datetime.now(ZoneInfo(tz))).date()


def last_week(today: date) -> Tuple[date, date]:
    """Monday to Sunday of the last complete week before ``today``'s."""
    monday = today - timedelta(days=today.weekday() + 7)
    return monday, monday + timedelta(days=6)


def parse_range(args: Mapping[str, Optional[str]], today: date) -> DateRange:
    """The range asked for (``from``, ``to`` as YYYY-MM-DD, ``bucket``), else the last 28 days.

    A bad value is reported in ``errors`` and replaced by its default; the range is at most a year.
    """
    errors: List[str] = []
    end, start = today, today - timedelta(days=DEFAULT_DAYS - 1)
    values: Dict[str, date] = {}
    for key in ("from", "to"):
        raw = (args.get(key) or "").strip()
        if raw:
            try:
                values[key] = date.fromisoformat(raw)
            except ValueError:
                errors.append(key)
    if "to" in values:
        end = values["to"]
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if "from" in values:
        start = values["from"]
    if start > end:
        errors.append("range")
        start, end = end - timedelta(days=DEFAULT_DAYS - 1), end
    if (end - start).days + 1 > MAX_DAYS:
        errors.append("range")
        start = end - timedelta(days=MAX_DAYS - 1)
    bucket = (args.get("bucket") or "day").strip()
    if bucket not in BUCKETS:
        errors.append("bucket")
        bucket = "day"
    return DateRange(start, end, bucket, errors)


def _in_range(rng: DateRange) -> List[Any]:
    m = store.messages.c
    return [m.local_day >= rng.start.isoformat(), m.local_day <= rng.end.isoformat()]


def _bucket_col(rng: DateRange):
    m = store.messages.c
    return m.local_week if rng.bucket == "week" else m.local_day


def _fill(rng: DateRange, rows: Dict[str, Dict[str, Any]], empty: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [{"bucket": key, **rows.get(key, empty)} for key in rng.keys()]


def _asked():
    """A patient's own words (no button click, no callback-form detail)."""
    m = store.messages.c
    return sa.and_(m.payload == False, m.form_answer == False)  # noqa: E712


RATE_KEYS = ("emergency", "crisis", "urgent", "fallback", "not_covered", "low_confidence", "callback", "thumbs_down")
RATE_LABELS = {
    "emergency": "Emergency answer",
    "crisis": "Crisis (self-harm) answer",
    "urgent": "Urgent (today) answer",
    "fallback": "Fallback (not understood)",
    "not_covered": "Not covered by the sheet",
    "low_confidence": "Low confidence",
    "callback": "Callback requested",
    "thumbs_down": "Thumbs down",
}


def _rate_conditions(threshold: float) -> Dict[str, Any]:
    m = store.messages.c
    asked = _asked()
    return {
        "emergency": m.level == "emergency",
        "crisis": m.level == "crisis",
        "urgent": m.level == "urgent",
        "fallback": sa.and_(asked, m.fallback == True),  # noqa: E712
        "not_covered": sa.and_(asked, m.not_covered == True),  # noqa: E712
        "low_confidence": sa.and_(asked, m.level.is_(None), m.confidence.isnot(None), m.confidence < threshold),
        "callback": m.callback == True,  # noqa: E712
        "thumbs_down": m.thumbs_down == True,  # noqa: E712
    }


def _aggregate(engine: Engine, rng: DateRange, threshold: float, by_bucket: bool) -> List[Dict[str, Any]]:
    """Two-level aggregate: per (bucket, conversation) whether each kind of answer occurred, then per
    bucket the sums (one GROUP BY instead of a COUNT(DISTINCT) per rate)."""
    m = store.messages.c
    conds = _rate_conditions(threshold)
    keys = [_bucket_col(rng).label("bucket")] if by_bucket else []
    per_conversation = (
        sa.select(
            *keys,
            m.sender_id,
            sa.func.count().label("messages"),
            *[sa.func.max(sa.case((cond, 1), else_=0)).label(key) for key, cond in conds.items()],
        )
        .where(*_in_range(rng))
        .group_by(*keys, m.sender_id)
        .subquery()
    )
    c = per_conversation.c
    q = sa.select(
        *([c.bucket] if by_bucket else []),
        sa.func.sum(c.messages).label("messages"),
        sa.func.count().label("conversations"),
        *[sa.func.sum(c[key]).label(key) for key in conds],
    )
    if by_bucket:
        q = q.group_by(c.bucket)
    with engine.connect() as conn:
        return [
            {k: (int(v) if v is not None and k != "bucket" else v) for k, v in r._mapping.items()}
            for r in conn.execute(q)
        ]


def _with_rates(row: Dict[str, Any]) -> Dict[str, Any]:
    n = row.get("conversations") or 0
    for key in RATE_KEYS:
        row[f"{key}_pct"] = round(100.0 * (row.get(key) or 0) / n, 1) if n else None
    return row


def per_bucket(engine: Engine, rng: DateRange, threshold: float) -> List[Dict[str, Any]]:
    """Per bucket: messages, conversations, and per rate the conversations with it and their share."""
    rows = {r.pop("bucket"): r for r in _aggregate(engine, rng, threshold, by_bucket=True)}
    empty = {"messages": 0, "conversations": 0, **{k: 0 for k in RATE_KEYS}}
    return [_with_rates(r) for r in _fill(rng, rows, empty)]


def totals(engine: Engine, rng: DateRange, threshold: float) -> Dict[str, Any]:
    """The same over the whole range (conversations counted once, however many days they span)."""
    rows = _aggregate(engine, rng, threshold, by_bucket=False)
    row = rows[0] if rows else {}
    row = {k: (v or 0) for k, v in row.items()}
    return _with_rates(row)


def topics(engine: Engine, rng: DateRange, threshold: float, limit: int = 10) -> List[Dict[str, Any]]:
    """Intents of the patients' own messages, most frequent first; the rest summed as "(other)"."""
    m = store.messages.c
    q = (
        sa.select(sa.func.coalesce(m.intent, "(none)").label("intent"), sa.func.count().label("messages"))
        .where(*_in_range(rng), _asked())
        .group_by(sa.func.coalesce(m.intent, "(none)"))
        .order_by(sa.func.count().desc(), sa.func.coalesce(m.intent, "(none)"))
    )
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    total = sum(r["messages"] for r in rows)
    top, rest = rows[:limit], rows[limit:]
    if len(rest) == 1:
        top, rest = rows, []
    if rest:
        top.append({"intent": f"(other: {len(rest)} intents)", "messages": sum(r["messages"] for r in rest)})
    for r in top:
        r["share_pct"] = round(100.0 * r["messages"] / total, 1) if total else 0.0
    return top


def _median_query(rng: DateRange, by_bucket: bool):
    m = store.messages.c
    partition = [_bucket_col(rng)] if by_bucket else []
    inner = (
        sa.select(
            (_bucket_col(rng) if by_bucket else sa.literal("all")).label("bucket"),
            m.latency.label("v"),
            sa.func.row_number().over(partition_by=partition or None, order_by=m.latency).label("rn"),
            sa.func.count().over(partition_by=partition or None).label("n"),
        )
        .where(*_in_range(rng), m.latency.isnot(None))
        .subquery()
    )
    middle = sa.and_(inner.c.rn * 2 >= inner.c.n, inner.c.rn * 2 <= inner.c.n + 2)
    return (
        sa.select(
            inner.c.bucket, sa.func.avg(inner.c.v).label("median_seconds"), sa.func.max(inner.c.n).label("replies")
        )
        .where(middle)
        .group_by(inner.c.bucket)
    )


def latency(engine: Engine, rng: DateRange) -> Tuple[List[Dict[str, Any]], Optional[float], int]:
    """Median seconds from a patient message to the first reply, per bucket and over the range."""
    with engine.connect() as conn:
        rows = {
            r.bucket: {"median_seconds": float(r.median_seconds), "replies": int(r.replies)}
            for r in conn.execute(_median_query(rng, True))
        }
        overall = conn.execute(_median_query(rng, False)).first()
    filled = _fill(rng, rows, {"median_seconds": None, "replies": 0})
    return filled, (float(overall.median_seconds) if overall else None), (int(overall.replies) if overall else 0)


def unanswered_candidates(engine: Engine, rng: DateRange, threshold: float, limit: int = 2000) -> List[Dict[str, Any]]:
    """The patients' own messages in the range the bot could not answer well, newest first: a
    fallback, a "not covered" answer, an intent below the confidence threshold (not a triage answer),
    or a thumbs-down on the reply. Ids and dates only; the texts come from ``events`` (see
    :mod:`review.unanswered`)."""
    m = store.messages.c
    conds = _rate_conditions(threshold)
    q = (
        sa.select(
            m.event_id,
            m.sender_id,
            m.local_day,
            m.local_week,
            m.fallback,
            m.not_covered,
            m.thumbs_down,
            m.confidence,
            m.language,
        )
        .where(
            *_in_range(rng),
            _asked(),
            sa.or_(
                conds["fallback"],
                conds["not_covered"],
                conds["low_confidence"],
                sa.and_(m.thumbs_down == True, m.level.is_(None)),  # noqa: E712
            ),
        )
        .order_by(m.ts.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]
