"""Fixtures of the browser tests: Debian's headless Chromium driven by Playwright, the demo website
(scripts/serve_demo.py, strict CSP), and either the real Rasa + action servers or a fake channel.

Screenshots of the key states go to var/screenshots/ (git-ignored).
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import pytest

from tests.conftest import ROOT
from tests.support import chromium
from tests.support.process import ServerProcess, free_port
from tests.support.servers import Servers, running_servers

SCREENSHOTS = ROOT / "var" / "screenshots"
EXPECT_TIMEOUT_MS = 30_000  # a cold Rasa server's first answer can take a few seconds

# Runs before the page's own scripts: records CSP violations, alert() calls and widget errors.
WATCH_SCRIPT = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
window.__alerts = [];
window.alert = m => { window.__alerts.push(String(m)); };
"""


@pytest.fixture(scope="module")
def browser():
    # Module scope: Playwright's sync API keeps an event loop on this thread while it runs, so it
    # must be stopped before pytest-asyncio tests elsewhere in the suite start theirs.
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as pw:
        b = chromium.launch(pw)
        try:
            yield b
        finally:
            b.close()


class DemoServer:
    """scripts/serve_demo.py as a subprocess on a loopback port, ready once its page answers."""

    def __init__(self, rasa_url: str, log_path: Path, port: int = 0) -> None:
        port = port or free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.server = ServerProcess(
            "demo site",
            [
                sys.executable,
                str(ROOT / "scripts" / "serve_demo.py"),
                "--port",
                str(port),
                "--rasa-url",
                rasa_url,
                "--quiet",
            ],
            dict(os.environ),
            log_path,
        )
        self.server.start()
        try:
            self.server.wait_http(self.url + "/", deadline=60)
        except BaseException:
            self.server.stop()
            raise

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture(scope="module")
def fake_stack(tmp_path_factory) -> Iterator[dict]:
    """The fake patient channel + the demo site pointing at it."""
    from tests.browser.fake_api import FakePatientAPI

    api = FakePatientAPI().start()
    demo = DemoServer(api.url, tmp_path_factory.mktemp("demo") / "demo.log")
    try:
        yield {"api": api, "demo": demo.url, "rasa": api.url}
    finally:
        demo.stop()
        api.stop()


@pytest.fixture
def api(fake_stack):
    """The fake patient channel, with no failure, gate or feedback error left over from another test."""
    a = fake_stack["api"]
    a.fail_queue.clear()
    a.feedback_fail.clear()
    a.gate = None
    yield a
    if a.gate:
        a.gate.set()
    a.gate = None
    a.fail_queue.clear()
    a.feedback_fail.clear()


@pytest.fixture(scope="module")
def real_stack(tmp_path_factory) -> Iterator[dict]:
    """The real action + Rasa servers (patient channel, CORS for the demo origin) + the demo site."""
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    demo_port = free_port()
    origin = f"http://127.0.0.1:{demo_port}"
    workdir = tmp_path_factory.mktemp("browser-servers")
    # A fixed signing key: conversation ids stay valid when a test restarts the Rasa server.
    env = {"CLINIC_PHONE": "", "CLINIC_EMAIL": "", "PATIENT_SESSION_SECRET": secrets.token_hex(32)}
    with running_servers(workdir, extra_env=env, rasa_args=["--cors", origin]) as servers:
        demo = DemoServer(servers.rasa_url, workdir / "demo.log", port=demo_port)
        try:
            yield {
                "demo": demo.url,
                "rasa": servers.rasa_url,
                "servers": servers,
                "workdir": workdir,
                "control": RasaControl(servers),
            }
        finally:
            demo.stop()


class RasaControl:
    """Stop and restart the real Rasa server (same command, port and environment) for the
    "server down" test; running_servers() stops whichever process runs at the end."""

    def __init__(self, servers: Servers) -> None:
        self.servers = servers

    def stop(self) -> None:
        self.servers.stop_rasa()

    def start(self) -> None:
        self.servers.start_rasa()


@pytest.fixture
def new_page(browser, request) -> Iterator[Callable]:
    """new_page(**context_options) -> a page in a fresh context (own sessionStorage), watched for
    CSP violations, alert() calls and page errors; those fail the test at teardown."""
    contexts: List = []
    pages: List = []
    errors: List[str] = []

    def make(**options):
        ctx = browser.new_context(**options)
        ctx.add_init_script(WATCH_SCRIPT)
        ctx.set_default_timeout(EXPECT_TIMEOUT_MS)
        page = ctx.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
        contexts.append(ctx)
        pages.append(page)
        return page

    yield make
    try:
        for page in pages:
            if page.is_closed():
                continue
            try:
                csp = page.evaluate("window.__cspViolations || []")
                alerts = page.evaluate("window.__alerts || []")
            except Exception:  # page navigated away mid-teardown
                csp, alerts = [], []
            assert csp == [], f"CSP violations: {csp}"
            assert alerts == [], f"alert() was called: {alerts}"
        assert errors == [], f"page errors: {errors}"
    finally:
        for ctx in contexts:
            ctx.close()


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")
    return path


# ------------------------------------------------------------------ page helpers (used by tests)
def widget_ready(page) -> None:
    """Wait until the widget is on the page after a navigation.

    Its script is deferred, and it installs the listener for the page's own chat buttons
    (``data-clinic-chat``) before it attaches itself: a click on such a button before that is lost.
    """
    from playwright.sync_api import expect

    expect(page.locator("#clinic-chat")).to_be_attached()


def open_widget(page):
    from playwright.sync_api import expect

    launcher = page.get_by_role("button", name="Chat with us")
    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("dialog")).to_be_visible()
    return page.get_by_role("dialog")


def send(page, text: str) -> None:
    box = page.get_by_role("textbox", name="Your message")
    box.fill(text)
    box.press("Enter")


def bot_messages(page):
    return page.locator("#clinic-chat .cc-bot")


def user_messages(page):
    return page.locator("#clinic-chat .cc-user")


def focused(page) -> Optional[str]:
    """id, else class, of the deepest focused element (through the widget's shadow root)."""
    return page.evaluate(
        """() => { let a = document.activeElement;
                   while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
                   return a ? (a.id || a.className || a.tagName) : null; }"""
    )


def shift_tab_to(page, text: str, most: int = 12) -> None:
    """Move the focus backwards (Shift+Tab), as a keyboard user would, until it is on ``text``."""
    for _ in range(most):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("() => document.querySelector('#clinic-chat').shadowRoot.activeElement?.textContent") == text:
            return
