"""A tiny in-process fake of the patient channel (docs/patient-api.md), for fast widget tests.

It speaks the same JSON as the real channel and can be told to misbehave: answer the next requests
with given errors, hang until released, or refuse connections. The end-to-end tests in
test_e2e_real.py use the real Rasa + action servers instead.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional, Tuple

GREETING = {
    "text": "Hello! I am the clinic's automated assistant. What would you like to know?",
    "buttons": [{"title": "Recovery time", "payload": "/ask_recovery_time"}, {"title": "Cost", "payload": "/ask_cost"}],
    "emergency": False,
}
RECOVERY = {
    "text": "According to the clinic's information sheet, most people are back to normal activities in 3 to 6 "
    "weeks.\n"
    "Read more at https://example.org/recovery.",
    "emergency": False,
}
EMERGENCY = {
    "text": "\u26a0\ufe0f This could be a medical emergency. Please call your local emergency number now.",
    "emergency": True,
}
HANDOFF = {
    "text": "Of course. Please use the contact page of this website to reach the care team.",
    "buttons": [{"title": "Yes, call me back", "payload": "/affirm"}, {"title": "No, thanks", "payload": "/deny"}],
    "emergency": False,
}
ASK_CALLBACK_NAME = {
    "text": 'What name should the clinic ask for? (You can type "stop" at any time.)',
    "emergency": False,
}
# Test numbers only (the real channel sends the clinic's configured CRISIS_LINE / CLINIC_PHONE).
CRISIS = [
    {
        "text": "I'm really sorry you are going through this. Please call your local emergency number or a crisis "
        "line now.",
        "emergency": True,
        "level": "crisis",
    },
    {
        "text": "You can call a crisis line now: 0800 555 0100.",
        "emergency": False,
    },
]
URGENT = [
    {"text": "This needs a doctor's advice today.", "emergency": False, "level": "urgent"},
    {"text": "You can reach Example Spine Clinic by phone: +1 555 0100", "emergency": False},
]


class FakePatientAPI:
    def __init__(self, origin: str = "*") -> None:
        self.origin = origin
        self.sessions: set = set()
        self.handled: Dict[str, dict] = {}  # message_id -> stored answer
        self.received: List[Tuple[str, str]] = []  # (message_id, message) actually handled
        self.calls: Counter = Counter()  # message_id -> requests seen
        self.fail_queue: List[Tuple[int, dict]] = []
        self.gate: Optional[threading.Event] = None  # set -> message requests wait for it
        self.last_buttons: Dict[str, List[str]] = {}
        self.ratings: List[Tuple[str, str, str]] = []  # (session_id, message_id, rating) stored
        self.feedback_fail: List[Tuple[int, dict]] = []  # next /feedback answers, if any
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # -- control
    def start(self) -> "FakePatientAPI":
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.gate:
            self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def fail_next(self, status: int, error: str, message: str, messages: Optional[List[dict]] = None, **extra) -> None:
        body: dict = {"error": error, "message": message, **extra}
        if messages is not None:
            body["messages"] = messages
        self.fail_queue.append((status, body))

    def forget_sessions(self) -> None:
        self.sessions.clear()

    # -- behaviour
    def reply_to(self, session: str, text: str) -> List[dict]:
        t = text.lower()
        offered = self.last_buttons.get(session, [])
        if t.startswith("/") and text not in offered:
            t = "(slash text) " + t  # the real channel treats it as plain text
        if t in ("hi", "hello", "hi there"):
            out = [GREETING]
        elif "recovery" in t and "slash" not in t or "how long" in t:
            out = [RECOVERY]
        elif "bladder" in t:
            out = [EMERGENCY]
        elif "better off without me" in t:
            out = CRISIS
        elif "painkillers" in t:
            out = URGENT
        elif t == "/affirm":
            out = [ASK_CALLBACK_NAME]
        elif "person" in t:
            out = [HANDOFF]
        elif "two answers" in t:
            out = [
                {"text": "First part of the answer.", "emergency": False},
                {"text": "Second part of the answer.", "emergency": False},
            ]
        elif t.startswith("quote "):
            # A reply quoting the patient's words, marked as the real channel marks them (segments);
            # the bot's own part has a link.
            lead, tail = 'You asked: "', '". See https://example.org/faq for more.'
            out = [
                {
                    "text": lead + text + tail,
                    "emergency": False,
                    "segments": [
                        {"text": lead, "patient": False},
                        {"text": text, "patient": True},
                        {"text": tail, "patient": False},
                    ],
                }
            ]
        else:
            out = [{"text": "You wrote: " + text, "emergency": False}]
        self.last_buttons[session] = [b["payload"] for m in out for b in m.get("buttons", [])]
        return out

    def _handler(self):
        api = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _cors(self):
                self.send_header("Access-Control-Allow-Origin", api.origin)
                self.send_header("Vary", "Origin")

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self._cors()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_OPTIONS(self):  # noqa: N802
                self.send_response(204)
                self._cors()
                self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
                self.send_header("Access-Control-Allow-Headers", "Content-Type, Accept")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):  # noqa: N802
                n = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(n) or b"null")
                except ValueError:
                    return self._json(400, {"error": "invalid_json", "message": "Bad request."})
                if not isinstance(body, dict):
                    return self._json(400, {"error": "invalid_json", "message": "Bad request."})
                if self.path == "/webhooks/patient/session":
                    sid = "p1." + secrets.token_hex(16)
                    api.sessions.add(sid)
                    return self._json(200, {"session_id": sid, "max_message_chars": 200})
                if self.path == "/webhooks/patient/feedback":
                    return self._feedback(body)
                if self.path != "/webhooks/patient/message":
                    return self._json(404, {"error": "not_found", "message": "Not found."})
                mid = body.get("message_id")
                with api.lock:
                    api.calls[mid] += 1
                if api.gate is not None:
                    api.gate.wait(30)
                with api.lock:
                    if api.fail_queue:
                        status, err = api.fail_queue.pop(0)
                        return self._json(status, err)
                sid = body.get("session_id")
                if sid not in api.sessions:
                    return self._json(403, {"error": "unknown_session", "message": "Please start a new conversation."})
                text = body.get("message")
                if not isinstance(text, str) or not text.strip():
                    return self._json(422, {"error": "empty_message", "message": "Please type a message."})
                if len(text.strip()) > 200:
                    return self._json(
                        413,
                        {
                            "error": "message_too_long",
                            "message": "Your message is too long. Please keep it under 200 characters.",
                        },
                    )
                retry = body.get("retry", False)
                if not isinstance(retry, bool):
                    return self._json(400, {"error": "invalid_request", "message": "Bad request."})
                with api.lock:
                    # Like the real channel: a stored answer is replayed only for a declared retry.
                    if retry and mid in api.handled:
                        return self._json(200, api.handled[mid])
                    api.received.append((mid, text))
                    answer = {"session_id": sid, "message_id": mid, "messages": api.reply_to(sid, text)}
                    api.handled[mid] = answer
                return self._json(200, answer)

            def _feedback(self, body: dict) -> None:
                with api.lock:
                    if api.feedback_fail:
                        status, err = api.feedback_fail.pop(0)
                        return self._json(status, err)
                    sid, mid, rating = body.get("session_id"), body.get("message_id"), body.get("rating")
                    if sid not in api.sessions:
                        return self._json(
                            403, {"error": "unknown_session", "message": "Please start a new conversation."}
                        )
                    if not isinstance(mid, str) or rating not in ("up", "down"):
                        return self._json(400, {"error": "invalid_request", "message": "Bad request."})
                    if mid not in api.handled or api.handled[mid]["session_id"] != sid:
                        return self._json(
                            404,
                            {"error": "unknown_message", "message": "This message is not part of the conversation."},
                        )
                    api.ratings.append((sid, mid, rating))
                return self._json(200, {"ok": True})

        return H
