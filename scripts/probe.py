"""Outside-in probe of a running deployment: one line per check, exit status 1 if any fails.

    python3 scripts/probe.py http://127.0.0.1:5005          # `make run` (the Rasa server's port)
    python3 scripts/probe.py http://127.0.0.1:5005 --proxy  # `make run-cluster` (the nginx port)
    make probe URL=http://127.0.0.1:5005 [PROXY=1]

Only the Python standard library, so a clinic's security officer can run it from any machine that
reaches the server. It sends a few ordinary requests and one test conversation (rate limits allow
it); it never floods, and it stores nothing but that conversation. What it checks is what the
guarded channels promise (docs/patient-api.md, SECURITY.md):

- no unguarded channel (socket.io, Rasa's own REST) and no Rasa HTTP API without a token;
- the root page does not name the Rasa version; CORS grants no credentials;
- every error is JSON with a `code` and the emergency advice (wrong path, wrong method, body too
  large, not JSON, forged or badly formed conversation ids);
- a conversation works, a retried message with other words is refused (409), an emergency gets the
  emergency reply with its level;
- health (a write round trip) and liveness answer.
With --proxy it also checks that the guarded REST channel is not reachable from outside.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

EMERGENCY_LINE = "emergency number"
Answer = Tuple[int, Dict[str, str], bytes]


def request(
    base: str,
    method: str,
    path: str,
    body: Optional[bytes] = None,
    headers: Optional[Dict[str, str]] = None,
    timeout: float = 60,
) -> Answer:
    req = urllib.request.Request(base.rstrip("/") + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def post_json(base: str, path: str, payload: Any) -> Answer:
    return request(base, "POST", path, json.dumps(payload).encode(), {"Content-Type": "application/json"})


def json_of(answer: Answer) -> Dict[str, Any]:
    try:
        value = json.loads(answer[2] or b"null")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def json_error(answer: Answer, status: int) -> Optional[str]:
    """None when ``answer`` is the JSON error the channels promise, else what is wrong."""
    body = json_of(answer)
    if answer[0] != status:
        return f"status {answer[0]}, expected {status}"
    if not body.get("code"):
        return "no JSON error code"
    if EMERGENCY_LINE not in str(body.get("message", "")):
        return "the error message lacks the emergency advice"
    return None


def checks(base: str, proxy: bool) -> List[Tuple[str, Callable[[], Optional[str]]]]:
    new_session = lambda: json_of(post_json(base, "/webhooks/patient/session", {})).get("session_id", "")  # noqa: E731
    state: Dict[str, Any] = {}

    def conversation() -> Optional[str]:
        state["sid"] = sid = new_session()
        state["mid"] = mid = str(uuid.uuid4())
        if not sid:
            return "no session id from /webhooks/patient/session"
        answer = post_json(
            base,
            "/webhooks/patient/message",
            {"session_id": sid, "message": "how long is recovery?", "message_id": mid},
        )
        texts = " ".join(m.get("text", "") for m in json_of(answer).get("messages", []))
        return None if answer[0] == 200 and texts else f"status {answer[0]}, no reply text"

    def retry_with_other_words() -> Optional[str]:
        if not state.get("sid"):
            return "no conversation to retry in (the check above failed)"
        answer = post_json(
            base,
            "/webhooks/patient/message",
            {"session_id": state["sid"], "message": "and the cost?", "message_id": state["mid"], "retry": True},
        )
        return json_error(answer, 409)

    def emergency() -> Optional[str]:
        text = "i cant pee since last night and my groin is numb"
        answer = post_json(base, "/webhooks/patient/message", {"session_id": new_session(), "message": text})
        messages = json_of(answer).get("messages", [])
        if answer[0] != 200 or not any(m.get("level") == "emergency" and m.get("emergency") for m in messages):
            return "no reply marked level emergency"
        return None

    def no_version() -> Optional[str]:
        answer = request(base, "GET", "/")
        return "the root page names the Rasa version" if b"Rasa" in answer[2] or b"3.6" in answer[2] else None

    def no_credentials() -> Optional[str]:
        answer = request(
            base,
            "OPTIONS",
            "/webhooks/patient/session",
            headers={"Origin": "https://probe.invalid", "Access-Control-Request-Method": "POST"},
        )
        return "CORS allows credentials" if answer[1].get("access-control-allow-credentials") else None

    out: List[Tuple[str, Callable[[], Optional[str]]]] = [
        ("a conversation through the patient channel", conversation),
        ("a retry with other words is refused (409, JSON)", retry_with_other_words),
        ("an emergency gets the emergency reply with its level", emergency),
        (
            "socket.io is not mounted",
            lambda: None
            if request(base, "GET", "/socket.io/?EIO=4&transport=polling")[0] == 404
            else "socket.io answers",
        ),
        (
            "Rasa's HTTP API is not reachable without a token",
            lambda: None
            if all(
                request(base, m, p, b"{}" if m == "POST" else None, {"Content-Type": "application/json"})[0]
                in (401, 403, 404)
                for m, p in (
                    ("POST", "/model/parse"),
                    ("GET", "/status"),
                    ("GET", "/conversations/x/tracker"),
                    ("GET", "/version"),
                )
            )
            else "an API route answered",
        ),
        ("the root page does not name the Rasa version", no_version),
        ("CORS grants no credentials", no_credentials),
        (
            "unknown path: JSON error with the emergency advice",
            lambda: json_error(request(base, "GET", "/webhooks/patient/nothing"), 404),
        ),
        (
            "wrong method: JSON error with the emergency advice",
            lambda: json_error(request(base, "PUT", "/webhooks/patient/session", b"{}"), 405),
        ),
        (
            "body too large: JSON error with the emergency advice",
            lambda: json_error(
                request(base, "POST", "/webhooks/patient/message", b"x" * 40000, {"Content-Type": "application/json"}),
                413,
            ),
        ),
        (
            "session without JSON: refused (415)",
            lambda: json_error(
                request(
                    base,
                    "POST",
                    "/webhooks/patient/session",
                    b"a=b",
                    {"Content-Type": "application/x-www-form-urlencoded"},
                ),
                415,
            ),
        ),
        (
            "a forged conversation id is refused",
            lambda: None
            if post_json(base, "/webhooks/patient/message", {"session_id": "p1." + uuid.uuid4().hex, "message": "hi"})[
                0
            ]
            in (400, 403, 404)
            else "a forged id was accepted",
        ),
        (
            "an id with a trailing newline is refused",
            lambda: None
            if post_json(
                base,
                "/webhooks/patient/message",
                {"session_id": (state.get("sid") or new_session()) + "\n", "message": "hi"},
            )[0]
            in (400, 403, 404)
            else "the id was accepted",
        ),
        (
            "health proves a write, liveness answers",
            lambda: None
            if request(base, "GET", "/webhooks/patient/health")[0] == 200
            and request(base, "GET", "/webhooks/patient/live")[0] == 200
            else "health or live is not 200",
        ),
    ]
    if proxy:
        out.append(
            (
                "the guarded REST channel is not reachable from outside",
                lambda: None
                if post_json(base, "/webhooks/rest/webhook", {"sender": uuid.uuid4().hex, "message": "hi"})[0] == 404
                else "REST answers",
            )
        )
    return out


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the deployment's public address, e.g. http://127.0.0.1:5005")
    parser.add_argument("--proxy", action="store_true", help="the address is the reverse proxy (make run-cluster)")
    args = parser.parse_args(argv)
    failures = 0
    for name, check in checks(args.url, args.proxy):
        try:
            problem = check()
        except (OSError, ValueError) as error:
            problem = f"{type(error).__name__}: {error}"
        failures += problem is not None
        print(f"{'ok  ' if problem is None else 'FAIL'} {name}" + (f": {problem}" if problem else ""))
    print(f"probe: {failures} of the checks failed" if failures else "probe: all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
