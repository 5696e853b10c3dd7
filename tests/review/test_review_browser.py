"""Browser test in headless Chromium (Debian's /usr/bin/chromium driven by Playwright's Python client):
log in, filter to emergencies, open the conversation, mark it reviewed, correct an intent, export.

Runs with secure cookies ON (the ``make run`` default): Chromium treats http://127.0.0.1 as a secure
context, so the ``__Host-`` / ``Secure`` session cookie works on the local review app.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.review.conftest import seeded_database
from tests.review.conversations import XSS_TEXT, write_conversations, write_samples
from tests.support.review_app import PASSWORD, review_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """(base URL of a review server, its database URL)."""
    tmp = tmp_path_factory.mktemp("browser")
    with seeded_database("sqlite", tmp, write_samples) as url:
        with review_server(url, tmp / "server.log", REVIEW_SECURE_COOKIES="true", REVIEW_LIVE_POLL_SECONDS="1") as base:
            yield base, url


def test_staff_flow_in_chromium(browser, app, tmp_path):
    app_url, _ = app
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    problems = []
    page.on("console", lambda msg: problems.append(f"{msg.text} {msg.location}") if msg.type == "error" else None)
    page.on("dialog", lambda d: (problems.append("dialog: " + d.message), d.dismiss()))

    # log in
    page.goto(app_url + "/open")
    assert page.url.endswith("/login?next=%2Fopen")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(app_url + "/open")  # back to the page asked for (the dashboard only without one)
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["__Host-review_session"]["secure"] and cookies["__Host-review_session"]["httpOnly"]
    page.click("nav >> text=Open items")
    assert page.locator("text=Maria Lopez").count() == 1  # the callback request at the top

    # filter to emergencies
    page.click("nav >> text=All conversations")
    page.select_option("select[name=flag]", "emergency")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**flag=emergency**")
    rows = page.locator("table.conversations tbody tr")
    assert rows.count() == 1
    assert "can't feel my legs" in rows.first.inner_text()

    # open the conversation: intent, confidence, red-flag override
    rows.first.locator("a").click()
    page.wait_for_url("**/conversation?id=conv-emergency**")
    body = page.inner_text("main")
    assert "report_emergency (1.00)" in body and "ask_recovery_time (0.41)" in body and "utter_emergency" in body

    # mark reviewed
    page.click("button:has-text('Mark reviewed')")
    page.wait_for_url("**msg=reviewed**")
    assert "Marked as reviewed." in page.inner_text("main")
    assert page.locator("button:has-text('Mark not reviewed')").count() == 1

    # correct an intent (the red-flag message was in fact also about recovery)
    form = page.locator("form.correct").first
    form.locator("select[name=intent]").select_option("ask_recovery_time")
    form.locator("button").click()
    page.wait_for_url("**msg=corrected**")
    assert "Corrected by staff to ask_recovery_time" in page.inner_text("main")

    # export the conversation as CSV
    with page.expect_download() as info:
        page.click("section.triage button[value=csv]")
    path = tmp_path / "export.csv"
    info.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert rows[0]["conversation_id"] == "conv-emergency" and rows[0]["intent"] == "report_emergency"
    assert rows[0]["corrected_intent"] == "ask_recovery_time"

    # the corrections page offers the NLU YAML download
    page.click("nav >> text=Corrections")
    with page.expect_download() as info:
        page.click("button:has-text('Download corrections as NLU YAML')")
    yml = tmp_path / "c.yml"
    info.value.save_as(yml)
    assert "- intent: ask_recovery_time" in yml.read_text()

    # a patient message with HTML shows literally, and no script runs
    page.goto(app_url + "/conversation?id=conv-xss")
    assert XSS_TEXT in page.inner_text("main")
    assert page.locator("main img").count() == 0

    # the conversation left the open items
    page.goto(app_url + "/open?flag=emergency")
    assert page.locator("table.conversations a").count() == 0

    # log out
    page.click("button:has-text('Log out')")
    page.wait_for_url("**/login")
    page.goto(app_url + "/open")
    assert "/login" in page.url
    assert problems == []  # no CSP violations, no script errors, no dialogs
    context.close()


def _logged_in_page(browser, base: str, path: str):
    """A new page, logged in as alice through the form, on ``path`` (the log-in returns there)."""
    context = browser.new_context()
    page = context.new_page()
    problems = []
    page.on("console", lambda msg: problems.append(f"{msg.text} {msg.location}") if msg.type == "error" else None)
    page.goto(base + path)
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(base + path)
    return context, page, problems


def test_open_items_show_the_worst_first_in_chromium(browser, app):
    """A conversation whose self-harm message came before a harmless one heads Open items, showing that message."""
    import time

    from tests.review.urgency_data import CRISIS_TEXT, HARMLESS_TEXT, urgency_conversations

    base, db = app
    convs = urgency_conversations(time.time())
    write_conversations(db, {"urg-crisis-early": convs["urg-crisis-early"]})
    context, page, problems = _logged_in_page(browser, base, "/open")
    rows = page.locator("table.open-items tbody tr")
    first = rows.first.inner_text()
    assert CRISIS_TEXT in first and HARMLESS_TEXT not in first and "Crisis (self-harm)" in first
    assert "min" in rows.first.locator("td.waiting").inner_text()
    ranks = [int(r) for r in rows.evaluate_all("rows => rows.map(r => r.dataset.urgency)")]
    assert ranks == sorted(ranks) and ranks[0] == 0
    # bulk "mark reviewed": tick it, submit, it leaves the list
    rows.first.locator("input[type=checkbox]").check()
    page.click("button:has-text('Mark selected as reviewed')")
    page.wait_for_url("**msg=bulk_reviewed**")
    assert CRISIS_TEXT not in page.locator("table.open-items").inner_text()
    assert problems == []
    context.close()


def test_the_tab_title_announces_a_new_emergency(browser, app):
    """A nurse on another page of the app: the live count sees a new emergency and the title says so."""
    import time

    from tests.review.urgency_data import triage_conversation

    base, db = app
    context, page, problems = _logged_in_page(browser, base, "/conversations")
    title = page.title()
    assert not title.startswith("(")
    from playwright.sync_api import expect

    # condition-based waits (Playwright's expect polls; no string evaluation, which the CSP forbids)
    expect(page.locator("#live-count")).to_have_attribute("data-polled", "yes", timeout=60_000)
    write_conversations(
        db, {"browser-new-emergency": triage_conversation("emergency", "I suddenly cannot move my legs", time.time())}
    )
    expect(page).to_have_title(re.compile(r"^\(1\) New emergency"), timeout=60_000)
    assert page.title() == "(1) New emergency \u2014 " + title
    alert = page.locator("#live-alert")
    assert alert.is_visible() and "1 new crisis or emergency conversation" in alert.inner_text()
    assert "crisis/emergency" in page.locator("#live-count").inner_text()
    alert.locator("a").click()
    page.wait_for_url(base + "/open")
    assert "I suddenly cannot move my legs" in page.locator("table.open-items").inner_text()
    assert problems == []
    context.close()


def test_text_set_aside_and_a_message_in_another_language_in_chromium(browser, app):
    """Markup set aside from a patient message is shown as text (no image, no script, no dialog) under a
    security flag; a message in another language is flagged with what the classifier had read."""
    import time

    from tests.review.test_review_language_security import FRENCH, MARKUP, conversations

    base, db = app
    convs = conversations(time.time())
    write_conversations(db, {k: convs[k] for k in ("ls-markup", "ls-french")})
    context, page, problems = _logged_in_page(browser, base, "/conversation?id=ls-markup")
    page.on("dialog", lambda d: (problems.append("dialog: " + d.message), d.dismiss()))
    main = page.locator("main")
    assert MARKUP in main.inner_text()  # the message itself, literally
    set_aside = page.locator(".set-aside li code").all_inner_texts()
    assert set_aside == ["<!-- hi -->", '<img src=x onerror=alert("pwned")>']
    assert page.locator("main img").count() == 0
    assert page.locator(".patient .flag-security").first.inner_text() == "Security: text set aside"
    assert "Markup-only override: the classifier said greet (0.83)" in main.inner_text()
    page.goto(base + "/conversation?id=ls-french")
    assert FRENCH in main.inner_text()
    assert page.locator(".patient .flag-not_english").first.is_visible()
    assert (
        "Not-English override: the classifier said ask_recovery_time (0.61) · language French (fr)" in main.inner_text()
    )
    page.goto(base + "/open?flag=not_english")
    assert FRENCH in page.locator("table.open-items").inner_text()
    assert problems == []
    context.close()
