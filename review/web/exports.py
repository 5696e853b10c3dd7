"""Exports, each audited: one conversation or every conversation matching the list's filters, as CSV
or JSONL (streamed, redacted when the settings say so, CSV cells safe for spreadsheets); the intent
corrections (their page, and their download as Rasa NLU training data)."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any, Dict, Iterable, Iterator, List

from sanic import Blueprint, response
from sanic.exceptions import NotFound, SanicException
from sanic.request import Request

from review import store
from review.web.conversations import FILTER_KEYS
from review.web.respond import audit, form_value, render, security_headers
from review.web.state import state_of

bp = Blueprint("exports")


async def stream_export(request: Request, fmt: str, filename: str, batches: Iterable[List[Dict[str, Any]]]) -> None:
    """Send the records batch by batch as a download (CSV with a header row, or one JSON object a line)."""
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson; charset=utf-8"
    resp = await request.respond(
        content_type=content_type, headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'}
    )
    security_headers(request, resp)
    if fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf).writerow(store.EXPORT_FIELDS)
        await resp.send(buf.getvalue())
    for records in batches:
        buf = io.StringIO()
        if fmt == "csv":
            writer = csv.writer(buf)
            for rec in records:
                writer.writerow([store.csv_safe(rec[k]) for k in store.EXPORT_FIELDS])
        else:
            for rec in records:
                buf.write(json.dumps(rec, ensure_ascii=False) + "\n")
        await resp.send(buf.getvalue())
    await resp.eof()


def export_format(request: Request) -> str:
    """The form's ``format``: csv or jsonl (else 400)."""
    fmt = form_value(request, "format", 10)
    if fmt not in ("csv", "jsonl"):
        raise SanicException("bad format", status_code=400)
    return fmt


@bp.post("/conversation/export")
async def export_conversation(request: Request) -> None:
    """One conversation as CSV or JSONL (audited)."""
    state = state_of(request)
    sender_id = form_value(request, "id", 255)
    fmt = export_format(request)
    rows = store.conversation_events(state.engine, sender_id)
    if not rows:
        raise NotFound("no such conversation")
    audit(request, "export", sender_id, json.dumps({"format": fmt, "conversations": 1}))
    corr = store.corrections_for(state.engine, sender_id)
    records = list(store.export_records(rows, sender_id, state.settings.redact_contact_details, corr))
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", sender_id)[:40]
    await stream_export(request, fmt, f"conversation-{safe}", [records])


@bp.post("/export")
async def export_filtered(request: Request) -> None:
    """Every conversation matching the list's filters as CSV or JSONL (audited, streamed)."""
    state = state_of(request)
    fmt = export_format(request)
    f = store.ListFilter.from_args({k: request.form.get(k) for k in FILTER_KEYS})
    if f.errors:
        raise SanicException("bad filter", status_code=400)
    await state.catch_up_index()
    count = store.count_conversations(state.engine, f, state.threshold)
    audit(
        request, "export", None, json.dumps({"format": fmt, "conversations": count, "filter": json.loads(f.describe())})
    )

    def batches() -> Iterator[List[Dict[str, Any]]]:
        for senders in store.iter_filtered_senders(state.engine, f, state.threshold):
            by_sender, corr = store.events_for_senders(state.engine, senders)
            records: List[Dict[str, Any]] = []
            for sender in senders:
                records += store.export_records(by_sender[sender], sender, state.settings.redact_contact_details, corr)
            yield records

    await stream_export(request, fmt, "conversations", batches())


@bp.get("/corrections")
async def corrections_page(request: Request) -> response.HTTPResponse:
    """The intent corrections and a preview of their NLU export (audited)."""
    state = state_of(request)
    rows = store.list_corrections(state.engine)
    if state.settings.redact_contact_details:
        for r in rows:
            r["text"] = store.redact(r["text"])
    preview = store.export_corrections(state.engine, state.settings)
    audit(request, "view_corrections", None, json.dumps({"shown": len(rows)}))
    return render(request, "corrections.html", corrections=rows, preview=preview)


@bp.post("/corrections/export")
async def corrections_export(request: Request) -> response.HTTPResponse:
    """The corrections as Rasa NLU YAML (audited)."""
    state = state_of(request)
    result = store.export_corrections(state.engine, state.settings)
    audit(
        request,
        "export_corrections",
        None,
        json.dumps(
            {
                "exported": result.exported,
                "duplicates": result.skipped_duplicate,
                "in_training": result.skipped_in_training,
                "unsafe": result.skipped_unsafe,
            }
        ),
    )
    return response.text(
        result.yaml_text,
        content_type="application/x-yaml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="corrections_nlu.yml"'},
    )
