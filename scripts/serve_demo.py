#!/usr/bin/env python3
"""Serve the mock clinic website with the chat widget on it (stdlib only; `make run` starts it).

    .venv/bin/python scripts/serve_demo.py [--port 8080] [--rasa-url http://127.0.0.1:5005]

Serves, on 127.0.0.1 only:
  /                 widget/demo/index.html       /treatments.html, /demo.css   from widget/demo/
  /widget/<file>    widget/<file> (.js, .css only: the embeddable bundle)
Every answer carries a strict Content-Security-Policy (no inline script or style, connections only to
this server and the Rasa server), so the demo proves that the widget works under one. The HTML pages'
`data-server="..."` is rewritten to the Rasa URL given here. Environment: DEMO_PORT (default 8080),
RASA_URL (default http://$RASA_HOST:$RASA_PORT, i.e. http://127.0.0.1:5005).
"""

from __future__ import annotations

import argparse
import html
import mimetypes
import os
import re
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
WIDGET = ROOT / "widget"
DEMO = WIDGET / "demo"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_DATA_SERVER = re.compile(r'data-server="[^"]*"')
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def csp_for(rasa_url: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"connect-src 'self' {origin_of(rasa_url)}",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def resolve(path: str) -> Optional[Path]:
    """URL path -> file, or None. Only names directly in widget/demo/ or widget/ (js/css)."""
    path = unquote(urlsplit(path).path)
    if path in ("/", "/index.html"):
        return DEMO / "index.html"
    parts = path.strip("/").split("/")
    if len(parts) == 1 and _NAME.match(parts[0]):
        candidate = DEMO / parts[0]
    elif (
        len(parts) == 2 and parts[0] == "widget" and _NAME.match(parts[1]) and Path(parts[1]).suffix in (".js", ".css")
    ):
        candidate = WIDGET / parts[1]
    else:
        return None
    if ".." in parts or not candidate.is_file() or candidate.suffix not in TYPES:
        return None
    return candidate


def make_handler(rasa_url: str, quiet: bool):
    csp = csp_for(rasa_url)
    server_attr = f'data-server="{html.escape(rasa_url, quote=True)}"'

    class Handler(BaseHTTPRequestHandler):
        server_version = "clinic-demo"
        sys_version = ""

        def _headers(self, status: int, ctype: str, length: int) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(length))
            self.send_header("Content-Security-Policy", csp)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("X-Frame-Options", "DENY")
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()

        def _serve(self, body: bool) -> None:
            target = resolve(self.path)
            if target is None:
                data = b"not found\n"
                self._headers(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", len(data))
            else:
                data = target.read_bytes()
                if target.suffix == ".html":
                    data = _DATA_SERVER.sub(server_attr, data.decode("utf-8")).encode("utf-8")
                ctype = TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                self._headers(HTTPStatus.OK, ctype, len(data))
            if body:
                self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            self._serve(True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._serve(False)

        def log_message(self, fmt: str, *args) -> None:
            if not quiet:
                sys.stderr.write("demo: %s %s\n" % (self.address_string(), fmt % args))

    return Handler


def main(argv=None) -> int:
    default_rasa = os.environ.get("RASA_URL") or "http://{}:{}".format(
        os.environ.get("RASA_HOST", "127.0.0.1"), os.environ.get("RASA_PORT", "5005")
    )
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", "8080")))
    ap.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback only)")
    ap.add_argument("--rasa-url", default=default_rasa, help="the Rasa server the widget talks to")
    ap.add_argument("--quiet", action="store_true", help="do not log requests")
    args = ap.parse_args(argv)
    origin_of(args.rasa_url)  # validate
    httpd = ThreadingHTTPServer((args.host, args.port), make_handler(args.rasa_url.rstrip("/"), args.quiet))
    httpd.daemon_threads = True
    print(f"demo: open http://{args.host}:{httpd.server_address[1]}/ (chat widget -> {args.rasa_url})", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
