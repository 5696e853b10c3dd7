"""The dashboard (the landing page), "What the bot couldn't answer" and notes for the sheet's authors.

Routes (the blueprint ``bp``):

- ``GET /``: the dashboard for a date range (``from``, ``to``, ``bucket`` = day | week) in
  ``REVIEW_TIMEZONE``: an "at a glance" summary of last week and of the range, then charts, each
  followed by its numbers as a table and a CSV download.
- ``POST /dashboard/csv``: one chart's table as CSV (audited, like every export).
- ``GET /unanswered``: the unanswered questions of the range grouped by meaning, each group with
  its count, trend, examples and two actions: ``POST /unanswered/correct`` saves the chosen
  messages as intent corrections (the corrections export turns them into NLU examples) and
  ``POST /unanswered/note`` records a note for the information sheet's authors; both audited.
- ``GET /sheet-notes``: those notes.

The handlers use the app's shared state and helpers (:mod:`review.web.state`, :mod:`review.web.respond`);
CSRF is checked by its middleware. The groupings of unanswered questions are cached per app
(``app.ctx.unanswered_groups``), keyed by how far the message index had got.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import threading
from datetime import date
from typing import Any, Callable, Dict, List, Tuple
from urllib.parse import urlencode

from sanic import Blueprint, Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sqlalchemy.engine import Connection

from review import charts, dashboard, message_index, store, unanswered
from review.web.respond import AuditEntry, audit, change_audit_redirect, redirect, render
from review.web.state import ReviewState, state_of

CSV_CHARTS = ("volume", "rates", "topics", "latency", "unanswered")
DONE = {"corrected", "noted", "nothing"}


def _label(key: str, bucket: str) -> str:
    d = date.fromisoformat(key)
    return f"wk {d.strftime('%d %b')}" if bucket == "week" else d.strftime("%d %b")


class _GroupCache:
    """The last few groupings, keyed by range, threshold and how far the index had got."""

    def __init__(self, size: int = 8) -> None:
        self._lock = threading.Lock()
        self._items: Dict[Tuple, List[unanswered.Group]] = {}
        self._size = size

    def get(self, key: Tuple, compute: Callable[[], List[unanswered.Group]]) -> List[unanswered.Group]:
        with self._lock:
            if key in self._items:
                return self._items[key]
        value = compute()
        with self._lock:
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = value
        return value


bp = Blueprint("dashboard")


async def in_thread(fn: Callable[[], Any]) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, fn)


async def catch_up(state: ReviewState) -> None:
    """The summaries and the message index, up to the events committed before this request."""
    await state.catch_up_index()
    await in_thread(lambda: message_index.index_messages(state.engine, state.settings, max_events=50000))


def groups_cache(request: Request) -> _GroupCache:
    """This app's cache of unanswered groups (made on first use, on ``app.ctx``)."""
    ctx = request.app.ctx
    if getattr(ctx, "unanswered_groups", None) is None:
        ctx.unanswered_groups = _GroupCache()
    cache: _GroupCache = ctx.unanswered_groups
    return cache


def groups_for(state: ReviewState, cache: _GroupCache, rng: dashboard.DateRange) -> List[unanswered.Group]:
    """The unanswered questions of ``rng`` grouped by meaning (cached)."""
    engine, settings, threshold = state.engine, state.settings, state.threshold
    with engine.connect() as conn:
        mark = store.get_meta(conn, message_index.HWM_KEY)
    key = (rng.start, rng.end, rng.bucket, threshold, mark)

    def compute() -> List[unanswered.Group]:
        candidates = dashboard.unanswered_candidates(engine, rng, threshold)
        return unanswered.group_unanswered(
            engine, candidates, rng.keys(), rng.bucket, threshold, show_redacted=settings.redact_contact_details
        )

    return cache.get(key, compute)


def the_range(state: ReviewState, args: Any) -> dashboard.DateRange:
    """The date range and bucket asked for (defaults and errors from :func:`dashboard.parse_range`)."""
    return dashboard.parse_range(
        {k: args.get(k) for k in ("from", "to", "bucket")}, dashboard.today_in(state.settings.timezone)
    )


def figures(state: ReviewState, cache: _GroupCache, rng: dashboard.DateRange) -> Dict[str, Any]:
    """Every number the dashboard shows for ``rng``."""
    engine, threshold = state.engine, state.threshold
    buckets = dashboard.per_bucket(engine, rng, threshold)
    lat_rows, lat_median, lat_n = dashboard.latency(engine, rng)
    today = dashboard.today_in(state.settings.timezone)
    lw_start, lw_end = dashboard.last_week(today)
    week = dashboard.DateRange(lw_start, lw_end, "week")
    return {
        "buckets": buckets,
        "totals": dashboard.totals(engine, rng, threshold),
        "topics": dashboard.topics(engine, rng, threshold),
        "latency": lat_rows,
        "latency_median": lat_median,
        "latency_replies": lat_n,
        "last_week": dashboard.totals(engine, week, threshold),
        "last_week_range": week,
        "last_week_latency": dashboard.latency(engine, week)[1],
        "groups": groups_for(state, cache, rng),
    }


def csv_rows(chart: str, rng: dashboard.DateRange, fig: Dict[str, Any]) -> Tuple[List[str], List[List[Any]]]:
    """One chart's table: header and rows."""
    if chart == "volume":
        return (
            ["period_start", "conversations", "patient_messages"],
            [[b["bucket"], b["conversations"], b["messages"]] for b in fig["buckets"]],
        )
    if chart == "rates":
        header = ["period_start", "conversations"]
        for k in dashboard.RATE_KEYS:
            header += [f"{k}_conversations", f"{k}_percent"]
        rows = []
        for b in fig["buckets"]:
            row = [b["bucket"], b["conversations"]]
            for k in dashboard.RATE_KEYS:
                row += [b[k], "" if b[f"{k}_pct"] is None else b[f"{k}_pct"]]
            rows.append(row)
        return header, rows
    if chart == "topics":
        return ["intent", "messages", "percent"], [[t["intent"], t["messages"], t["share_pct"]] for t in fig["topics"]]
    if chart == "latency":
        return (
            ["period_start", "replies", "median_seconds"],
            [
                [r["bucket"], r["replies"], "" if r["median_seconds"] is None else round(r["median_seconds"], 2)]
                for r in fig["latency"]
            ],
        )
    return (
        ["group", "messages", "conversations", "example"],
        [[i + 1, g.count, g.conversations, g.label] for i, g in enumerate(fig["groups"])],
    )


def chart_svgs(state: ReviewState, rng: dashboard.DateRange, fig: Dict[str, Any]) -> Dict[str, Any]:
    """The dashboard's charts as SVG."""
    keys = [b["bucket"] for b in fig["buckets"]]
    ticks = [_label(k, rng.bucket) for k in keys]
    per = "week" if rng.bucket == "week" else "day"
    out: Dict[str, Any] = {
        "volume": charts.bar_chart(
            f"Conversations and patient messages per {per}",
            f"Bar chart, {rng.start} to {rng.end} ({state.settings.timezone}): conversations and patient messages "
            f"per {per}. The numbers are in the table below the chart.",
            keys,
            [
                ("Conversations", [b["conversations"] for b in fig["buckets"]]),
                ("Patient messages", [b["messages"] for b in fig["buckets"]]),
            ],
            tick_labels=ticks,
            css="chart-volume",
        ),
        "topics": charts.hbar_chart(
            "Topics patients asked about (intents)",
            "Horizontal bar chart of the most frequent intents of the patients' own messages in the range; "
            "the numbers are in the table below.",
            [t["intent"] for t in fig["topics"]],
            [t["messages"] for t in fig["topics"]],
            css="chart-topics",
            series="messages",
        ),
        "latency": charts.bar_chart(
            f"Median seconds to the first reply, per {per}",
            f"Bar chart of the median time from a patient message to the assistant's first reply, per {per}; "
            "days without replies have no bar. The numbers are in the table below.",
            keys,
            [
                (
                    "Median seconds",
                    [None if r["median_seconds"] is None else round(r["median_seconds"], 2) for r in fig["latency"]],
                )
            ],
            unit=" s",
            tick_labels=ticks,
            css="chart-latency",
        ),
        "groups": charts.hbar_chart(
            "Most common unanswered questions",
            "Horizontal bar chart: groups of similar questions the assistant could not answer well, by number "
            "of messages. The table below lists them with their counts.",
            [g.label for g in fig["groups"][:10]],
            [g.count for g in fig["groups"][:10]],
            css="chart-groups",
            series="messages",
        ),
        "rates": [],
    }
    for key in dashboard.RATE_KEYS:
        out["rates"].append(
            {
                "key": key,
                "svg": charts.bar_chart(
                    f"{dashboard.RATE_LABELS[key]}: share of conversations per {per}",
                    f"Bar chart of the percentage of conversations per {per} with at least one "
                    f"'{dashboard.RATE_LABELS[key]}'. The numbers are in the rates table below.",
                    keys,
                    [(dashboard.RATE_LABELS[key], [b[f"{key}_pct"] for b in fig["buckets"]])],
                    unit="%",
                    width=380,
                    height=170,
                    tick_labels=ticks,
                    css=f"chart-rate chart-rate-{key}",
                ),
            }
        )
    return out


@bp.after_server_start
async def load_encoder(app_: Sanic, _loop: Any) -> None:
    """Load the sentence encoder in the background, so the first staff visit does not wait for it."""
    app_.add_task(in_thread(unanswered.encoder))


@bp.get("/")
async def dashboard_page(request: Request) -> response.HTTPResponse:
    """The landing page (audited)."""
    state, cache = state_of(request), groups_cache(request)
    await catch_up(state)
    rng = the_range(state, request.args)
    fig = await in_thread(lambda: figures(state, cache, rng))
    audit(request, "view_dashboard", None, json.dumps(rng.as_args()))
    today = dashboard.today_in(state.settings.timezone)
    presets = []
    last_week: dashboard.DateRange = fig["last_week_range"]
    for name, start, end, bucket in (
        ("Last 7 days", today.toordinal() - 6, today.toordinal(), "day"),
        ("Last 4 weeks", today.toordinal() - 27, today.toordinal(), "day"),
        ("Last 12 weeks", today.toordinal() - 83, today.toordinal(), "week"),
        ("Last week", last_week.start.toordinal(), last_week.end.toordinal(), "day"),
    ):
        presets.append(
            (
                name,
                urlencode(
                    {
                        "from": date.fromordinal(start).isoformat(),
                        "to": date.fromordinal(end).isoformat(),
                        "bucket": bucket,
                    }
                ),
            )
        )
    return render(
        request,
        "dashboard.html",
        rng=rng,
        fig=fig,
        svgs=chart_svgs(state, rng, fig),
        rate_keys=dashboard.RATE_KEYS,
        rate_labels=dashboard.RATE_LABELS,
        timezone=state.settings.timezone,
        presets=presets,
        labels={b: _label(b, rng.bucket) for b in rng.keys()},
        status=400 if rng.errors else 200,
    )


@bp.post("/dashboard/csv")
async def dashboard_csv(request: Request) -> response.HTTPResponse:
    """One chart's table as CSV (audited)."""
    state, cache = state_of(request), groups_cache(request)
    chart = (request.form.get("chart") or "").strip()
    if chart not in CSV_CHARTS:
        raise SanicException("bad chart", status_code=400)
    rng = the_range(state, request.form)
    if rng.errors:
        raise SanicException("bad range", status_code=400)
    await catch_up(state)
    fig = await in_thread(lambda: figures(state, cache, rng))
    header, rows = csv_rows(chart, rng, fig)
    audit(request, "export_dashboard", None, json.dumps({"chart": chart, **rng.as_args(), "rows": len(rows)}))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    for row in rows:
        writer.writerow([store.csv_safe(v) for v in row])
    name = f"{chart}-{rng.start}-{rng.end}-{rng.bucket}.csv"
    return response.text(
        buf.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/unanswered")
async def unanswered_page(request: Request) -> response.HTTPResponse:
    """What the bot couldn't answer, grouped by meaning (audited)."""
    state, cache = state_of(request), groups_cache(request)
    await catch_up(state)
    rng = the_range(state, request.args)
    groups = await in_thread(lambda: groups_for(state, cache, rng))
    audit(request, "view_unanswered", None, json.dumps({**rng.as_args(), "groups": len(groups)}))
    done = request.args.get("done")
    sparks = [
        charts.sparkline(
            f"Trend of group {i + 1}: " + ", ".join(f"{_label(t['bucket'], rng.bucket)} {t['count']}" for t in g.trend),
            [t["bucket"] for t in g.trend],
            [t["count"] for t in g.trend],
        )
        for i, g in enumerate(groups)
    ]
    return render(
        request,
        "unanswered.html",
        rng=rng,
        groups=groups,
        sparks=sparks,
        intents=state.domain_intents,
        timezone=state.settings.timezone,
        encoder_missing=unanswered.encoder() is None,
        done=done if done in DONE else None,
        labels={b: _label(b, rng.bucket) for b in rng.keys()},
        back=urlencode(rng.as_args()),
        status=400 if rng.errors else 200,
    )


def _event_ids(request: Request) -> List[int]:
    ids = []
    for raw in (request.form.getlist("event_id") or [])[:200]:
        if raw.isascii() and raw.isdigit() and len(raw) <= 18:
            ids.append(int(raw))
    return ids


def _back(request: Request, done: str) -> str:
    """The unanswered page of the form's range, with what was done."""
    args = {k: (request.form.get(k) or "")[:10] for k in ("from", "to", "bucket") if request.form.get(k)}
    return "/unanswered?" + urlencode({**args, "done": done})


@bp.post("/unanswered/correct")
async def unanswered_correct(request: Request) -> response.HTTPResponse:
    """The ticked messages become intent corrections; one audit entry per message saved."""
    state = state_of(request)
    intent = (request.form.get("intent") or "").strip()[:255]
    ids = _event_ids(request)
    if intent not in state.domain_intents or not ids:
        return redirect(_back(request, "nothing"))
    senders = unanswered.user_messages(state.engine, ids)
    user = request.ctx.session.username

    def save(conn: Connection) -> List[AuditEntry]:
        saved = []
        for event_id in ids:
            sender = senders.get(event_id)
            if sender and store.save_correction(conn, sender, event_id, intent, user):
                saved.append(
                    AuditEntry("correct_intent", sender, {"event_id": event_id, "intent": intent, "via": "unanswered"})
                )
        return saved

    return change_audit_redirect(request, save, lambda saved: _back(request, "corrected" if saved else "nothing"))


@bp.post("/unanswered/note")
async def unanswered_note(request: Request) -> response.HTTPResponse:
    """A note for the sheet's authors about the ticked messages (their event ids, not their text)."""
    state = state_of(request)
    text = (request.form.get("text") or "").strip()[:2000]
    ids = _event_ids(request)
    if not text or not ids:
        return redirect(_back(request, "nothing"))
    ids = [i for i in ids if i in unanswered.user_messages(state.engine, ids)]  # patient messages only
    if not ids:
        return redirect(_back(request, "nothing"))
    user = request.ctx.session.username

    def add(conn: Connection) -> AuditEntry:
        note_id = unanswered.add_sheet_note(conn, user, text, ids)
        return AuditEntry("sheet_note", None, {"note_id": note_id, "questions": len(ids)})

    return change_audit_redirect(request, add, _back(request, "noted"))


@bp.get("/sheet-notes")
async def sheet_notes_page(request: Request) -> response.HTTPResponse:
    """The notes for the sheet's authors, each with a few redacted examples (audited)."""
    engine = state_of(request).engine
    notes = unanswered.sheet_notes(engine)
    for n in notes:
        try:
            ids = [int(i) for i in json.loads(n["event_ids"])][:5]
        except (ValueError, TypeError):
            ids = []
        texts = unanswered.redacted_texts(engine, ids)  # always redacted: a note outlives its context
        n["examples"] = [texts[i] for i in ids if i in texts]
    audit(request, "view_sheet_notes", None, json.dumps({"shown": len(notes)}))
    return render(request, "sheet_notes.html", notes=notes)
