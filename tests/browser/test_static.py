"""Static checks of the widget bundle and the demo site (no browser, no Rasa): the rules that keep
the widget safe under a strict CSP, and the demo server's headers and path handling."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import requests

from tests.browser.conftest import DemoServer
from tests.conftest import ROOT

pytestmark = pytest.mark.unit

WIDGET_JS = ROOT / "widget" / "clinic-chat.js"
WIDGET_CSS = ROOT / "widget" / "clinic-chat.css"
DEMO_PAGES = sorted((ROOT / "widget" / "demo").glob("*.html"))

# Ways to turn text into markup or code, or to need 'unsafe-inline' / 'unsafe-eval'.
FORBIDDEN_JS = {
    "innerHTML": r"\binnerHTML\b",
    "outerHTML": r"\bouterHTML\b",
    "insertAdjacentHTML": r"\binsertAdjacentHTML\b",
    "document.write": r"document\.write",
    "eval": r"\beval\s*\(",
    "new Function": r"new\s+Function\s*\(",
    "string timers": r"set(Timeout|Interval)\s*\(\s*['\"`]",
    "createContextualFragment": r"createContextualFragment",
    "DOMParser": r"\bDOMParser\b",
    "style attribute": r"setAttribute\(\s*['\"]style['\"]|\.style\.cssText|\.cssText\s*=",
    "inline event handler": r"setAttribute\(\s*['\"]on[a-z]+['\"]|\.on[a-z]+\s*=[^=]",
    "<style> text": r"createElement\(\s*['\"]style['\"]",
}


def _code(text: str) -> str:
    """The JS without comments (comments may mention the forbidden words)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(^|[^:\"'])//[^\n]*", r"\1", text)


@pytest.mark.parametrize("name", sorted(FORBIDDEN_JS))
def test_widget_js_never_builds_markup_or_code_from_strings(name):
    hits = re.findall(FORBIDDEN_JS[name], _code(WIDGET_JS.read_text(encoding="utf-8")))
    assert not hits, f"{name} in widget/clinic-chat.js"


def test_widget_js_renders_server_text_as_text_nodes_and_links_http_only():
    code = _code(WIDGET_JS.read_text(encoding="utf-8"))
    assert "textContent" in code and "createTextNode" in code
    assert 'url.protocol !== "http:" && url.protocol !== "https:"' in code
    assert 'a.rel = "noopener noreferrer"' in code


def test_widget_css_respects_reduced_motion_and_has_no_imports():
    css = WIDGET_CSS.read_text(encoding="utf-8")
    assert "@media (prefers-reduced-motion: reduce)" in css
    assert "@import" not in css and "url(" not in css  # nothing fetched from elsewhere


class _Inline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems = []
        self.scripts = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k, v in attrs:
            if k.startswith("on"):
                self.problems.append(f"<{tag} {k}>")
            if k == "style":
                self.problems.append(f"<{tag} style>")
            if v and v.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {k}=javascript:>")
        if tag == "style":
            self.problems.append("<style>")
        if tag == "script":
            self._in_script = True
            if not a.get("src"):
                self.problems.append("inline <script>")
            self.scripts.append(a)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append("inline script text")


@pytest.mark.parametrize("page", DEMO_PAGES, ids=lambda p: p.name)
def test_demo_pages_have_no_inline_script_style_or_handlers_and_embed_with_one_tag(page):
    parser = _Inline()
    parser.feed(page.read_text(encoding="utf-8"))
    assert parser.problems == []
    widget_tags = [s for s in parser.scripts if s.get("src", "").endswith("clinic-chat.js")]
    assert len(widget_tags) == 1 and widget_tags[0].get("data-server")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    server = DemoServer("http://127.0.0.1:5999", tmp_path_factory.mktemp("demo") / "demo.log")
    yield server.url
    server.stop()


def test_demo_server_sends_a_strict_csp_and_rewrites_the_server_url(demo):
    r = requests.get(demo + "/", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self' http://127.0.0.1:5999",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ):
        assert directive in csp
    assert "unsafe" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert 'data-server="http://127.0.0.1:5999"' in r.text
    js = requests.get(demo + "/widget/clinic-chat.js", timeout=10)
    assert js.status_code == 200 and js.headers["Content-Type"].startswith("text/javascript")
    assert requests.get(demo + "/widget/clinic-chat.css", timeout=10).headers["Content-Type"].startswith("text/css")
    assert requests.get(demo + "/treatments.html", timeout=10).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/../README.md",
        "/%2e%2e/README.md",
        "/widget/../README.md",
        "/widget/demo/index.html",
        "/widget/README.md",
        "/scripts/serve_demo.py",
        "/.git/config",
        "/nothing.html",
        "/widget/%2e%2e%2fREADME.md",
    ],
)
def test_demo_server_serves_nothing_else(demo, path):
    r = requests.get(demo + path, timeout=10)
    assert r.status_code == 404, path
