"""The staff review web app: Sanic + Jinja2 (autoescaped) + SQLAlchemy Core.

Every page needs a logged-in staff session except ``/login``, ``/healthz`` and ``/static``. Every
POST must carry the session's CSRF token. Viewing a conversation and every export is written to the
append-only audit log. Log lines carry method, path (never the query string) and status only: no
patient text, phone numbers or search terms.
"""
from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import math
import re
import time
from pathlib import Path
from typing import Any, Dict, Optional

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic, response
from sanic.exceptions import NotFound, SanicException
from sanic.request import Request

from review import auth, dashboard_views, display, message_index, store
from review.settings import Settings, load_settings

log = logging.getLogger("review")
HERE = Path(__file__).resolve().parent
PUBLIC_PATHS = {"/login", "/healthz", "/favicon.ico"}
LIVE_PATH = "/live.json"  # polled by static/live.js: not a sign of activity, answers 401 instead of redirecting
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; "
       "form-action 'self'; base-uri 'none'; object-src 'none'")
MESSAGES = {"reviewed", "unreviewed", "assigned", "noted", "corrected", "callback_done", "callback_outcome",
            "bulk_reviewed", "bad_input"}
_NEXT_RE = re.compile(r"/(?![/\\])[\x21-\x7e]*")  # a path on this site: not //host, not /\host, no spaces


def safe_next(raw: Optional[str]) -> Optional[str]:
    """The page to return to after log-in, if it is a relative path on this site (else None: no open
    redirect to another host, e.g. ``//evil.example`` or ``https://evil.example``)."""
    if not raw or len(raw) > 2000 or not _NEXT_RE.fullmatch(raw) or raw.startswith("/login"):
        return None
    return raw


def _fmt_conf(value: Any) -> str:
    try:
        return f"{float(value):.2f}"
    except (TypeError, ValueError):
        return "–"


def load_domain_intents(domain_file: Path) -> list:
    try:
        doc = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    except OSError:
        return []
    names = []
    for item in doc.get("intents") or []:
        names.append(next(iter(item)) if isinstance(item, dict) else str(item))
    return sorted(names)


def create_app(settings: Optional[Settings] = None, name: str = "review") -> Sanic:
    settings = settings or load_settings()
    engine = store.make_engine(settings)
    store.create_schema(engine)
    jinja = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
                        trim_blocks=True, lstrip_blocks=True)
    jinja.filters["ts"] = lambda ts: display.local_time(ts, settings.timezone)
    jinja.filters["ago"] = lambda ts: display.duration(time.time() - ts) if ts else ""
    jinja.filters["short"] = display.short_name
    jinja.filters["conf"] = _fmt_conf
    jinja.globals["timezone"] = settings.timezone
    jinja.globals["callback_outcomes"] = store.CALLBACK_OUTCOMES
    domain_intents = load_domain_intents(settings.domain_file)
    cookie_name = "__Host-review_session" if settings.secure_cookies else "review_session"

    app = Sanic(name, configure_logging=False)
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.config.KEEP_ALIVE_TIMEOUT = 5
    app.config.FORWARDED_SECRET = None
    app.ctx.settings = settings
    app.ctx.engine = engine
    app.static("/static", str(HERE / "static"), name="static")

    # ---------------------------------------------------------------- helpers

    def render(request: Request, template: str, status: int = 200, **ctx: Any) -> response.HTTPResponse:
        session = getattr(request.ctx, "session", None)
        ctx.setdefault("user", session.username if session else None)
        ctx.setdefault("csrf_token", session.csrf_token if session else "")
        ctx.setdefault("threshold", settings.low_confidence_threshold)
        msg = request.args.get("msg")
        ctx.setdefault("msg", msg if msg in MESSAGES else None)
        if session and session.user_id:
            ctx.setdefault("live_since", store.indexed_up_to(engine))
            ctx.setdefault("live_poll", settings.live_poll_seconds)
        html = jinja.get_template(template).render(**ctx)
        return response.html(html, status=status)

    def forwarded_ip(request: Request) -> Optional[str]:
        """The client's address from a trusted proxy's X-Forwarded-For (REVIEW_TRUSTED_PROXIES), else None."""
        return auth.forwarded_client_ip(request.ip, request.headers.get("x-forwarded-for"), settings.trusted_proxies)

    def client_ip(request: Request) -> str:
        """For the audit log: the client's address if a trusted proxy gave it, else the connection's."""
        return (forwarded_ip(request) or request.ip or "unknown")[:64]

    def set_session_cookie(resp: response.HTTPResponse, token: str, max_age: int) -> None:
        resp.cookies[cookie_name] = token
        cookie = resp.cookies[cookie_name]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/"
        cookie["max-age"] = max_age
        if settings.secure_cookies:
            cookie["secure"] = True

    def audit(request: Request, action: str, target: Optional[str] = None, detail: Optional[str] = None) -> None:
        session = getattr(request.ctx, "session", None)
        with engine.begin() as conn:
            store.write_audit(conn, session.username if session else None, action, target, client_ip(request), detail)

    intent_cache: Dict[str, Any] = {"at": 0.0, "names": []}

    def filter_intents() -> list:
        """Intents to filter by: the domain's, nlu_fallback, and any seen in the data (cached 5 min)."""
        if time.monotonic() - intent_cache["at"] > 300:
            intent_cache["names"] = sorted(set(domain_intents) | set(store.known_intents(engine)) | {"nlu_fallback"})
            intent_cache["at"] = time.monotonic()
        return intent_cache["names"]

    async def catch_up_index() -> None:
        """Fold in events committed before this request (in a worker thread: the wait for a running
        background pass must not block other requests)."""
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: store.index_new_events(engine, settings, max_events=20000, wait=10.0))

    def form_value(request: Request, key: str, limit: int = 2000) -> str:
        return (request.form.get(key) or "").strip()[:limit]

    def redirect_conversation(sender_id: str, msg: str) -> response.HTTPResponse:
        from urllib.parse import urlencode

        return response.redirect("/conversation?" + urlencode({"id": sender_id, "msg": msg}), status=303)

    def security_headers(resp: response.BaseHTTPResponse, static: bool = False) -> None:
        headers = resp.headers
        headers["Content-Security-Policy"] = CSP
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if settings.secure_cookies:
            headers["Strict-Transport-Security"] = "max-age=31536000"
        if not static:
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"

    # ---------------------------------------------------------------- middleware

    @app.middleware("request")
    async def authenticate(request: Request):
        request.ctx.started = time.perf_counter()
        request.ctx.session = None
        path = request.path
        if path.startswith("/static/") or path in ("/healthz", "/favicon.ico"):
            return None
        request.ctx.session = auth.load_session(engine, settings, request.cookies.get(cookie_name),
                                                touch=path != LIVE_PATH)
        session = request.ctx.session
        if request.method == "POST":
            if path != "/login" and (session is None or session.user_id is None):
                return render(request, "error.html", status=403, code="login_required")
            if not auth.check_csrf(session, request.form.get("csrf_token") if request.form else None):
                log.warning("CSRF check failed on %s", path)
                return render(request, "error.html", status=403, code="csrf")
            return None
        if path in PUBLIC_PATHS:
            return None
        if session is None or session.user_id is None:
            if path == LIVE_PATH:
                return response.json({"error": "login_required"}, status=401)
            from urllib.parse import urlencode

            wanted = path + ("?" + request.query_string if request.query_string else "")
            target = "/login?" + urlencode({"next": wanted}) if safe_next(wanted) and path != "/" else "/login"
            return response.redirect(target, status=303)
        return None

    @app.middleware("response")
    async def headers_and_log(request: Request, resp):
        security_headers(resp, static=request.path.startswith("/static/"))
        started = getattr(request.ctx, "started", None)
        ms = (time.perf_counter() - started) * 1000 if started else 0.0
        log.info("%s %s %s %.1fms", request.method, request.path, resp.status, ms)

    @app.exception(NotFound)
    async def not_found(request: Request, exc):
        return render(request, "error.html", status=404, code="not_found")

    @app.exception(Exception)
    async def server_error(request: Request, exc):
        status = exc.status_code if isinstance(exc, SanicException) else 500
        if status >= 500:
            # the type only: messages of database errors may quote patient text
            log.error("error on %s %s: %s", request.method, request.path, type(exc).__name__)
        return render(request, "error.html", status=status, code="error")

    # ---------------------------------------------------------------- background indexer

    async def indexer_task(app_: Sanic):
        loop = asyncio.get_running_loop()
        while True:
            try:
                n = await loop.run_in_executor(
                    None, lambda: store.index_new_events(engine, settings, rescan=True))
                if n:
                    log.info("indexed %d events", n)
                await loop.run_in_executor(
                    None, lambda: message_index.index_messages(engine, settings, rescan=True))
                await loop.run_in_executor(None, store.cleanup_auth_tables, engine,
                                           settings.login_window_minutes * 60)
            except Exception as exc:  # keep the task alive
                log.error("indexer error: %s", type(exc).__name__)
            await asyncio.sleep(settings.index_interval_seconds)

    if settings.index_interval_seconds > 0:
        @app.after_server_start
        async def start_indexer(app_: Sanic, _loop):
            app_.add_task(indexer_task(app_))

    # ---------------------------------------------------------------- routes

    @app.get("/healthz")
    async def healthz(request: Request):
        return response.text("ok")

    @app.get("/favicon.ico")
    async def favicon(request: Request):
        return response.empty()

    @app.get("/login")
    async def login_form(request: Request):
        session = request.ctx.session
        wanted = safe_next(request.args.get("next"))
        if session and session.user_id:
            return response.redirect(wanted or "/", status=303)
        token = None
        if session is None:
            with engine.begin() as conn:
                token = auth.new_session(conn, settings, None)
            request.ctx.session = auth.load_session(engine, settings, token)
        resp = render(request, "login.html", next=wanted)
        if token:
            set_session_cookie(resp, token, 3600)
        return resp

    @app.post("/login")
    async def login(request: Request):
        username = form_value(request, "username", 64).lower()
        password = (request.form.get("password") or "")[:1024]
        ip = client_ip(request)
        wanted = safe_next(form_value(request, "next", 2000))
        throttle_ip = forwarded_ip(request)  # None unless a trusted proxy named the client
        with engine.begin() as conn:
            wait = auth.login_wait(conn, settings, username, throttle_ip)
            if wait > 0:
                store.write_audit(conn, None, "login_blocked", username, ip)
                blocked = render(request, "login.html", status=429, error="blocked", username=username,
                                 wait_minutes=max(1, math.ceil(wait / 60)), next=wanted)
                blocked.headers["Retry-After"] = str(math.ceil(wait))
                return blocked
            user_id = auth.authenticate(conn, username, password) if username and password else None
            if user_id is None:
                auth.record_failure(conn, username, throttle_ip)
                store.write_audit(conn, None, "login_failed", username, ip)
                return render(request, "login.html", status=401, error="failed", username=username, next=wanted)
            auth.clear_failures(conn, username)
            auth.end_session(conn, request.ctx.session.token_hash)
            token = auth.new_session(conn, settings, user_id)
            store.write_audit(conn, username, "login", username, ip)
        resp = response.redirect(wanted or "/", status=303)
        set_session_cookie(resp, token, settings.session_hours * 3600)
        return resp

    @app.post("/logout")
    async def logout(request: Request):
        with engine.begin() as conn:
            auth.end_session(conn, request.ctx.session.token_hash)
            store.write_audit(conn, request.ctx.session.username, "logout", None, client_ip(request))
        resp = response.redirect("/login", status=303)
        resp.cookies[cookie_name] = ""
        resp.cookies[cookie_name]["max-age"] = 0
        resp.cookies[cookie_name]["path"] = "/"
        if settings.secure_cookies:
            resp.cookies[cookie_name]["secure"] = True
        return resp

    dashboard_views.register(app, dashboard_views.Deps(  # "/" (the landing page), /unanswered, /sheet-notes
        engine, settings, render, audit, client_ip, catch_up_index, domain_intents))

    @app.get("/open")
    async def open_items(request: Request):
        await catch_up_index()
        flag = request.args.get("flag") or "any"
        if flag not in store.ListFilter.FLAG_CHOICES:
            return render(request, "error.html", status=400, code="bad_request")
        page = store.list_open(engine, flag, settings.low_confidence_threshold, settings.page_size,
                               after=request.args.get("after"), before=request.args.get("before"))
        cbs = store.open_callbacks(engine)
        for cb in cbs:
            cb["last_user_text"] = store.redact(cb.get("last_user_text")) if settings.redact_contact_details \
                else cb.get("last_user_text")
        return render(request, "open.html", page=page, callbacks=cbs, flag=flag,
                      flag_choices=store.ListFilter.FLAG_CHOICES,
                      base_args={"flag": flag} if flag != "any" else {})

    @app.get(LIVE_PATH)
    async def live(request: Request):
        """Counts for the live badge and tab title (no patient data)."""
        await catch_up_index()
        try:
            since = max(0, int(request.args.get("since") or 0))
        except ValueError:
            since = 0
        return response.json(store.live_counts(engine, since))

    @app.post("/open/review")
    async def bulk_review(request: Request):
        """Mark the ticked conversations reviewed; one audit entry per conversation."""
        ids = [i[:255] for i in (request.form.getlist("id") or [])][:500]
        username = request.ctx.session.username
        done = 0
        with engine.begin() as conn:
            for sender_id in dict.fromkeys(ids):
                if store.set_reviewed(conn, sender_id, True, username):
                    store.write_audit(conn, username, "mark_reviewed", sender_id, client_ip(request),
                                      json.dumps({"bulk": True}))
                    done += 1
        return response.redirect(f"/open?msg={'bulk_reviewed' if done else 'bad_input'}", status=303)

    @app.get("/conversations")
    async def conversation_list(request: Request):
        await catch_up_index()
        keys = ("flag", "intent", "date_from", "date_to", "reviewed", "q", "assignee", "tag")
        f = store.ListFilter.from_args({k: request.args.get(k) for k in keys})
        page = store.list_conversations(engine, f, settings.low_confidence_threshold, settings.page_size,
                                        after=request.args.get("after"), before=request.args.get("before"))
        if f.q and not request.args.get("after") and not request.args.get("before"):
            # a search can single out a patient: record that one happened (not the words searched for)
            audit(request, "search", None, f.describe())
        intents = filter_intents()
        return render(request, "list.html", page=page, filter=f, intents=intents,
                      flag_choices=store.ListFilter.FLAG_CHOICES, base_args=f.as_args(),
                      staff=auth.list_usernames(engine), tags=store.known_tags(engine),
                      status=400 if f.errors else 200)

    @app.get("/conversation")
    async def conversation_view(request: Request):
        sender_id = (request.args.get("id") or "")[:255]
        if not sender_id:
            raise NotFound("no id")
        await catch_up_index()
        rows = store.conversation_events(engine, sender_id)
        summary = store.get_summary(engine, sender_id, settings.low_confidence_threshold)
        if not rows and summary is None:
            raise NotFound("no such conversation")
        audit(request, "view_conversation", sender_id)
        corr = store.corrections_for(engine, sender_id)
        turns = store.build_transcript(rows, settings.low_confidence_threshold, settings.redact_contact_details, corr)
        return render(request, "conversation.html", sender_id=sender_id, summary=summary, turns=turns,
                      notes=store.notes_for(engine, sender_id), callbacks=store.callbacks_for(engine, sender_id),
                      callback_history=store.callback_history(engine, sender_id),
                      intents=domain_intents, staff=auth.list_usernames(engine))

    def _sender_from_form(request: Request) -> str:
        sender_id = form_value(request, "id", 255)
        if not sender_id or store.get_summary(engine, sender_id, settings.low_confidence_threshold) is None:
            raise NotFound("no such conversation")
        return sender_id

    @app.post("/conversation/review")
    async def mark_reviewed(request: Request):
        sender_id = _sender_from_form(request)
        reviewed = form_value(request, "reviewed") == "1"
        with engine.begin() as conn:
            store.set_reviewed(conn, sender_id, reviewed, request.ctx.session.username)
            store.write_audit(conn, request.ctx.session.username, "mark_reviewed" if reviewed else "mark_unreviewed",
                              sender_id, client_ip(request))
        return redirect_conversation(sender_id, "reviewed" if reviewed else "unreviewed")

    @app.post("/conversation/assign")
    async def assign(request: Request):
        sender_id = _sender_from_form(request)
        assignee = form_value(request, "assignee", 64)
        if assignee and assignee not in auth.list_usernames(engine):
            return redirect_conversation(sender_id, "bad_input")
        with engine.begin() as conn:
            store.set_assignee(conn, sender_id, assignee)
            store.write_audit(conn, request.ctx.session.username, "assign", sender_id, client_ip(request),
                              json.dumps({"assignee": assignee or None}))
        return redirect_conversation(sender_id, "assigned")

    @app.post("/conversation/note")
    async def note(request: Request):
        sender_id = _sender_from_form(request)
        text = form_value(request, "text", 2000)
        tag = form_value(request, "tag", 40).lower()
        if tag and not store.TAG_RE.fullmatch(tag):
            return redirect_conversation(sender_id, "bad_input")
        if not text and not tag:
            return redirect_conversation(sender_id, "bad_input")
        with engine.begin() as conn:
            store.add_note(conn, sender_id, request.ctx.session.username, text, tag)
            store.write_audit(conn, request.ctx.session.username, "add_note", sender_id, client_ip(request),
                              json.dumps({"tag": tag or None}))
        return redirect_conversation(sender_id, "noted")

    @app.post("/conversation/correct")
    async def correct(request: Request):
        sender_id = _sender_from_form(request)
        intent = form_value(request, "intent", 255)
        try:
            event_id = int(form_value(request, "event_id", 20))
        except ValueError:
            return redirect_conversation(sender_id, "bad_input")
        if intent not in domain_intents:
            return redirect_conversation(sender_id, "bad_input")
        with engine.begin() as conn:
            if not store.save_correction(conn, sender_id, event_id, intent, request.ctx.session.username):
                return redirect_conversation(sender_id, "bad_input")
            store.write_audit(conn, request.ctx.session.username, "correct_intent", sender_id, client_ip(request),
                              json.dumps({"event_id": event_id, "intent": intent}))
        return redirect_conversation(sender_id, "corrected")

    async def _callback_outcome(request: Request, outcome: str) -> response.HTTPResponse:
        try:
            callback_id = int(form_value(request, "callback_id", 20))
        except ValueError:
            raise NotFound("no such callback")
        with engine.begin() as conn:
            sender_id = store.record_callback_outcome(conn, callback_id, outcome, request.ctx.session.username)
            if sender_id is None:
                raise NotFound("no such callback")
            action = "callback_done" if outcome == "done" else "callback_outcome"
            store.write_audit(conn, request.ctx.session.username, action, sender_id, client_ip(request),
                              json.dumps({"callback_id": callback_id, "outcome": outcome}))
        msg = "callback_done" if outcome == "done" else "callback_outcome"
        if form_value(request, "back") == "conversation":
            return redirect_conversation(sender_id, msg)
        return response.redirect(f"/open?msg={msg}", status=303)

    @app.post("/callback/done")
    async def callback_done(request: Request):
        return await _callback_outcome(request, "done")

    @app.post("/callback/outcome")
    async def callback_outcome(request: Request):
        """Called (reached), not reached (stays open) or done: who and when go to the audit log."""
        outcome = form_value(request, "outcome", 20)
        if outcome not in store.CALLBACK_OUTCOMES:
            return render(request, "error.html", status=400, code="bad_request")
        return await _callback_outcome(request, outcome)

    async def _stream_export(request: Request, fmt: str, filename: str, batches) -> None:
        content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson; charset=utf-8"
        resp = await request.respond(content_type=content_type, headers={
            "Content-Disposition": f'attachment; filename="{filename}.{fmt}"'})
        security_headers(resp)
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

    def _fmt(request: Request) -> str:
        fmt = form_value(request, "format", 10)
        if fmt not in ("csv", "jsonl"):
            raise SanicException("bad format", status_code=400)
        return fmt

    @app.post("/conversation/export")
    async def export_conversation(request: Request):
        sender_id = form_value(request, "id", 255)
        fmt = _fmt(request)
        rows = store.conversation_events(engine, sender_id)
        if not rows:
            raise NotFound("no such conversation")
        audit(request, "export", sender_id, json.dumps({"format": fmt, "conversations": 1}))
        corr = store.corrections_for(engine, sender_id)
        records = list(store.export_records(rows, sender_id, settings.redact_contact_details, corr))
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", sender_id)[:40]
        await _stream_export(request, fmt, f"conversation-{safe}", [records])

    @app.post("/export")
    async def export_filtered(request: Request):
        fmt = _fmt(request)
        keys = ("flag", "intent", "date_from", "date_to", "reviewed", "q", "assignee", "tag")
        f = store.ListFilter.from_args({k: request.form.get(k) for k in keys})
        if f.errors:
            raise SanicException("bad filter", status_code=400)
        await catch_up_index()
        count = store.count_conversations(engine, f, settings.low_confidence_threshold)
        audit(request, "export", None, json.dumps({"format": fmt, "conversations": count,
                                                   "filter": json.loads(f.describe())}))

        def batches():
            for senders in store.iter_filtered_senders(engine, f, settings.low_confidence_threshold):
                by_sender = store.events_for_senders(engine, senders)
                corr = by_sender.pop("__corrections__")
                records = []
                for sender in senders:
                    records += store.export_records(by_sender[sender], sender, settings.redact_contact_details, corr)
                yield records

        await _stream_export(request, fmt, "conversations", batches())

    @app.get("/corrections")
    async def corrections_page(request: Request):
        rows = store.list_corrections(engine)
        if settings.redact_contact_details:
            for r in rows:
                r["text"] = store.redact(r["text"])
        preview = store.export_corrections(engine, settings)
        audit(request, "view_corrections", None, json.dumps({"shown": len(rows)}))
        return render(request, "corrections.html", corrections=rows, preview=preview)

    @app.post("/corrections/export")
    async def corrections_export(request: Request):
        result = store.export_corrections(engine, settings)
        audit(request, "export_corrections", None, json.dumps({
            "exported": result.exported, "duplicates": result.skipped_duplicate,
            "in_training": result.skipped_in_training, "unsafe": result.skipped_unsafe}))
        return response.text(result.yaml_text, content_type="application/x-yaml; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="corrections_nlu.yml"'})

    @app.get("/audit")
    async def audit_page(request: Request):
        try:
            before = store.parse_audit_cursor(request.args.get("before"))
        except ValueError:
            return render(request, "error.html", status=400, code="bad_request")
        rows = store.audit_rows(engine, 200, before)
        return render(request, "audit.html", rows=rows, older=rows[-1]["id"] if len(rows) == 200 else None)

    return app


def main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Serve the staff review app.")
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    settings = load_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("sanic.access", "sanic.root", "sanic.error"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    app = create_app(settings)
    host, port = args.host or settings.host, args.port or settings.port
    from sqlalchemy.engine import make_url

    db = make_url(settings.database_url).render_as_string(hide_password=True)
    log.info("review app on http://%s:%d (database: %s)", host, port, db)
    app.run(host=host, port=port, access_log=False, debug=False, auto_reload=False, workers=1)


if __name__ == "__main__":
    main()
