"""The dashboard (the landing page), "What the bot couldn't answer" and notes for the sheet's authors.

Routes, registered on the review app by :func:`register`:

- ``GET /``: the dashboard for a date range (``from``, ``to``, ``bucket`` = day | week) in
  ``REVIEW_TIMEZONE``: an "at a glance" summary of last week and of the range, then charts, each
  followed by its numbers as a table and a CSV download.
- ``POST /dashboard/csv``: one chart's table as CSV (audited, like every export).
- ``GET /unanswered``: the unanswered questions of the range grouped by meaning, each group with
  its count, trend, examples and two actions: ``POST /unanswered/correct`` saves the chosen
  messages as intent corrections (the corrections export turns them into NLU examples) and
  ``POST /unanswered/note`` records a note for the information sheet's authors; both audited.
- ``GET /sheet-notes``: those notes.

The handlers use the app's own helpers (rendering, audit, CSRF is checked by its middleware).
"""
from __future__ import annotations

import asyncio
import csv
import io
import json
import threading
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Dict, List, Tuple
from urllib.parse import urlencode

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request

from review import charts, dashboard, message_index, store, unanswered
from review.settings import Settings

CSV_CHARTS = ("volume", "rates", "topics", "latency", "unanswered")
DONE = {"corrected", "noted", "nothing"}


@dataclass
class Deps:
    """What the views need from the app (see ``review.app.create_app``)."""
    engine: Any
    settings: Settings
    render: Callable[..., Any]
    audit: Callable[..., None]
    client_ip: Callable[[Request], str]
    catch_up_index: Callable[[], Any]
    domain_intents: List[str]


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


def register(app: Sanic, deps: Deps) -> None:
    engine, settings = deps.engine, deps.settings
    threshold = settings.low_confidence_threshold
    groups_cache = _GroupCache()

    async def in_thread(fn: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn)

    async def catch_up() -> None:
        await deps.catch_up_index()
        await in_thread(lambda: message_index.index_messages(engine, settings, max_events=50000))

    def groups_for(rng: dashboard.DateRange) -> List[unanswered.Group]:
        with engine.connect() as conn:
            mark = store.get_meta(conn, message_index.HWM_KEY)
        key = (rng.start, rng.end, rng.bucket, threshold, mark)

        def compute() -> List[unanswered.Group]:
            candidates = dashboard.unanswered_candidates(engine, rng, threshold)
            return unanswered.group_unanswered(engine, candidates, rng.keys(), rng.bucket, threshold,
                                               show_redacted=settings.redact_contact_details)
        return groups_cache.get(key, compute)

    def the_range(args: Any) -> dashboard.DateRange:
        return dashboard.parse_range({k: args.get(k) for k in ("from", "to", "bucket")},
                                     dashboard.today_in(settings.timezone))

    def figures(rng: dashboard.DateRange) -> Dict[str, Any]:
        buckets = dashboard.per_bucket(engine, rng, threshold)
        lat_rows, lat_median, lat_n = dashboard.latency(engine, rng)
        today = dashboard.today_in(settings.timezone)
        lw_start, lw_end = dashboard.last_week(today)
        week = dashboard.DateRange(lw_start, lw_end, "week")
        return {
            "buckets": buckets, "totals": dashboard.totals(engine, rng, threshold),
            "topics": dashboard.topics(engine, rng, threshold),
            "latency": lat_rows, "latency_median": lat_median, "latency_replies": lat_n,
            "last_week": dashboard.totals(engine, week, threshold), "last_week_range": week,
            "last_week_latency": dashboard.latency(engine, week)[1],
            "groups": groups_for(rng),
        }

    def csv_rows(chart: str, rng: dashboard.DateRange, fig: Dict[str, Any]) -> Tuple[List[str], List[List[Any]]]:
        if chart == "volume":
            return (["period_start", "conversations", "patient_messages"],
                    [[b["bucket"], b["conversations"], b["messages"]] for b in fig["buckets"]])
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
            return (["period_start", "replies", "median_seconds"],
                    [[r["bucket"], r["replies"], "" if r["median_seconds"] is None else round(r["median_seconds"], 2)]
                     for r in fig["latency"]])
        return (["group", "messages", "conversations", "example"],
                [[i + 1, g.count, g.conversations, g.label] for i, g in enumerate(fig["groups"])])

    def chart_svgs(rng: dashboard.DateRange, fig: Dict[str, Any]) -> Dict[str, Any]:
        keys = [b["bucket"] for b in fig["buckets"]]
        ticks = [_label(k, rng.bucket) for k in keys]
        per = "week" if rng.bucket == "week" else "day"
        out = {
            "volume": charts.bar_chart(
                f"Conversations and patient messages per {per}",
                f"Bar chart, {rng.start} to {rng.end} ({settings.timezone}): conversations and patient messages "
                f"per {per}. The numbers are in the table below the chart.",
                keys, [("Conversations", [b["conversations"] for b in fig["buckets"]]),
                       ("Patient messages", [b["messages"] for b in fig["buckets"]])], tick_labels=ticks,
                css="chart-volume"),
            "topics": charts.hbar_chart(
                "Topics patients asked about (intents)",
                "Horizontal bar chart of the most frequent intents of the patients' own messages in the range; "
                "the numbers are in the table below.",
                [t["intent"] for t in fig["topics"]], [t["messages"] for t in fig["topics"]], css="chart-topics",
                series="messages"),
            "latency": charts.bar_chart(
                f"Median seconds to the first reply, per {per}",
                f"Bar chart of the median time from a patient message to the assistant's first reply, per {per}; "
                "days without replies have no bar. The numbers are in the table below.",
                keys, [("Median seconds", [None if r["median_seconds"] is None else round(r["median_seconds"], 2)
                                           for r in fig["latency"]])], unit=" s", tick_labels=ticks,
                css="chart-latency"),
            "groups": charts.hbar_chart(
                "Most common unanswered questions",
                "Horizontal bar chart: groups of similar questions the assistant could not answer well, by number "
                "of messages. The table below lists them with their counts.",
                [g.label for g in fig["groups"][:10]], [g.count for g in fig["groups"][:10]], css="chart-groups",
                series="messages"),
            "rates": [],
        }
        for key in dashboard.RATE_KEYS:
            out["rates"].append({"key": key, "svg": charts.bar_chart(
                f"{dashboard.RATE_LABELS[key]}: share of conversations per {per}",
                f"Bar chart of the percentage of conversations per {per} with at least one "
                f"'{dashboard.RATE_LABELS[key]}'. The numbers are in the rates table below.",
                keys, [(dashboard.RATE_LABELS[key], [b[f"{key}_pct"] for b in fig["buckets"]])], unit="%",
                width=380, height=170, tick_labels=ticks, css=f"chart-rate chart-rate-{key}")})
        return out

    @app.after_server_start
    async def load_encoder(app_: Sanic, _loop) -> None:
        """Load the sentence encoder in the background, so the first staff visit does not wait for it."""
        app_.add_task(in_thread(unanswered.encoder))

    @app.get("/")
    async def dashboard_page(request: Request):
        await catch_up()
        rng = the_range(request.args)
        fig = await in_thread(lambda: figures(rng))
        deps.audit(request, "view_dashboard", None, json.dumps(rng.as_args()))
        today = dashboard.today_in(settings.timezone)
        presets = []
        for name, start, end, bucket in (
                ("Last 7 days", today.toordinal() - 6, today.toordinal(), "day"),
                ("Last 4 weeks", today.toordinal() - 27, today.toordinal(), "day"),
                ("Last 12 weeks", today.toordinal() - 83, today.toordinal(), "week"),
                ("Last week", fig["last_week_range"].start.toordinal(), fig["last_week_range"].end.toordinal(), "day")):
            presets.append((name, urlencode({"from": date.fromordinal(start).isoformat(),
                                             "to": date.fromordinal(end).isoformat(), "bucket": bucket})))
        return deps.render(request, "dashboard.html", rng=rng, fig=fig, svgs=chart_svgs(rng, fig),
                           rate_keys=dashboard.RATE_KEYS, rate_labels=dashboard.RATE_LABELS,
                           timezone=settings.timezone, presets=presets, labels={b: _label(b, rng.bucket)
                                                                                for b in rng.keys()},
                           status=400 if rng.errors else 200)

    @app.post("/dashboard/csv")
    async def dashboard_csv(request: Request):
        chart = (request.form.get("chart") or "").strip()
        if chart not in CSV_CHARTS:
            raise SanicException("bad chart", status_code=400)
        rng = the_range(request.form)
        if rng.errors:
            raise SanicException("bad range", status_code=400)
        await catch_up()
        fig = await in_thread(lambda: figures(rng))
        header, rows = csv_rows(chart, rng, fig)
        deps.audit(request, "export_dashboard", None, json.dumps({"chart": chart, **rng.as_args(), "rows": len(rows)}))
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(header)
        for row in rows:
            writer.writerow([store.csv_safe(v) for v in row])
        name = f"{chart}-{rng.start}-{rng.end}-{rng.bucket}.csv"
        return response.text(buf.getvalue(), content_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.get("/unanswered")
    async def unanswered_page(request: Request):
        await catch_up()
        rng = the_range(request.args)
        groups = await in_thread(lambda: groups_for(rng))
        deps.audit(request, "view_unanswered", None, json.dumps({**rng.as_args(), "groups": len(groups)}))
        done = request.args.get("done")
        sparks = [charts.sparkline(f"Trend of group {i + 1}: " + ", ".join(f"{_label(t['bucket'], rng.bucket)} {t['count']}"
                                                                          for t in g.trend),
                                   [t["bucket"] for t in g.trend], [t["count"] for t in g.trend])
                  for i, g in enumerate(groups)]
        return deps.render(request, "unanswered.html", rng=rng, groups=groups, sparks=sparks,
                           intents=deps.domain_intents, timezone=settings.timezone,
                           encoder_missing=unanswered.encoder() is None, done=done if done in DONE else None,
                           labels={b: _label(b, rng.bucket) for b in rng.keys()},
                           back=urlencode(rng.as_args()), status=400 if rng.errors else 200)

    def _event_ids(request: Request) -> List[int]:
        ids = []
        for raw in (request.form.getlist("event_id") or [])[:200]:
            if raw.isascii() and raw.isdigit() and len(raw) <= 18:
                ids.append(int(raw))
        return ids

    def _back(request: Request, done: str) -> response.HTTPResponse:
        args = {k: (request.form.get(k) or "")[:10] for k in ("from", "to", "bucket") if request.form.get(k)}
        return response.redirect("/unanswered?" + urlencode({**args, "done": done}), status=303)

    @app.post("/unanswered/correct")
    async def unanswered_correct(request: Request):
        intent = (request.form.get("intent") or "").strip()[:255]
        ids = _event_ids(request)
        if intent not in deps.domain_intents or not ids:
            return _back(request, "nothing")
        senders = unanswered.user_messages(engine, ids)
        user = request.ctx.session.username
        saved = 0
        with engine.begin() as conn:
            for event_id in ids:
                sender = senders.get(event_id)
                if sender and store.save_correction(conn, sender, event_id, intent, user):
                    saved += 1
                    store.write_audit(conn, user, "correct_intent", sender, deps.client_ip(request),
                                      json.dumps({"event_id": event_id, "intent": intent, "via": "unanswered"}))
        return _back(request, "corrected" if saved else "nothing")

    @app.post("/unanswered/note")
    async def unanswered_note(request: Request):
        text = (request.form.get("text") or "").strip()[:2000]
        ids = _event_ids(request)
        if not text or not ids:
            return _back(request, "nothing")
        ids = [i for i in ids if i in unanswered.user_messages(engine, ids)]  # patient messages only
        if not ids:
            return _back(request, "nothing")
        user = request.ctx.session.username
        with engine.begin() as conn:
            note_id = unanswered.add_sheet_note(conn, user, text, ids)
            store.write_audit(conn, user, "sheet_note", None, deps.client_ip(request),
                              json.dumps({"note_id": note_id, "questions": len(ids)}))
        return _back(request, "noted")

    @app.get("/sheet-notes")
    async def sheet_notes_page(request: Request):
        notes = unanswered.sheet_notes(engine)
        for n in notes:
            try:
                ids = [int(i) for i in json.loads(n["event_ids"])][:5]
            except (ValueError, TypeError):
                ids = []
            texts = unanswered._texts(engine, ids)  # always redacted: a note outlives its context
            n["examples"] = [texts[i] for i in ids if i in texts]
        deps.audit(request, "view_sheet_notes", None, json.dumps({"shown": len(notes)}))
        return deps.render(request, "sheet_notes.html", notes=notes)
