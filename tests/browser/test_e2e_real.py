"""End to end: the demo website (strict CSP) with the widget, in headless Chromium, against the real
Rasa server (patient channel, trained model in models/) and the real action server.

Screenshots of the key states: var/screenshots/e2e-*.png.
"""

from __future__ import annotations

import json
import sqlite3

import requests

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    bot_messages,
    focused,
    open_widget,
    send,
    shift_tab_to,
    shot,
    user_messages,
    widget_ready,
)

pytestmark = pytest.mark.browser

INJECTION = "<img src=x onerror=alert(1)><script>alert(2)</script>"


@pytest.fixture
def page(new_page, real_stack):
    p = new_page(viewport={"width": 1280, "height": 800})
    p.goto(real_stack["demo"] + "/")
    return p


def session_of(page) -> dict:
    return page.evaluate("Object.values(sessionStorage).map(JSON.parse)[0]")


def test_question_gets_the_fact_based_answer(page):
    dialog = open_widget(page)
    expect(dialog.locator(".cc-notice")).to_contain_text("not medical advice")
    shot(page, "e2e-01-open")
    send(page, "how long is recovery?")
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    expect(bot_messages(page).last).to_contain_text("information")
    expect(page.locator("#clinic-chat .cc-row-user.cc-failed")).to_have_count(0)
    shot(page, "e2e-02-answer")


def test_not_helpful_rating_is_stored_in_the_conversation(page, real_stack):
    open_widget(page)
    send(page, "how long is recovery?")
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    rating = page.get_by_role("group", name="Was this answer helpful?").last
    down = rating.get_by_role("button", name="Not helpful", exact=True)
    down.click()
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(rating.get_by_role("button", name="Helpful", exact=True)).to_have_attribute("aria-pressed", "false")
    expect(rating.get_by_role("status")).to_have_text("Thanks for your feedback")
    shot(page, "e2e-10-rated")
    chat = session_of(page)
    message_id = [i["id"] for i in chat["items"] if i["kind"] == "user"][-1]
    # The server answered 200 only after saving: the tracker store holds the rating now.
    db = sqlite3.connect(str(real_stack["servers"].db))
    try:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'slot' ORDER BY id", (chat["sessionId"],)
        ).fetchall()
    finally:
        db.close()
    feedback = [e["value"] for e in map(json.loads, (r[0] for r in rows)) if e.get("name") == "feedback"]
    assert feedback == [{"message_id": message_id, "rating": "down"}]


def test_quick_reply_then_history_survives_reload_navigation_and_start_over_resets(page, real_stack):
    open_widget(page)
    page.get_by_role("button", name="OK, I understand").click()
    send(page, "hi")
    expect(bot_messages(page).first).to_contain_text("automated assistant")
    quick = page.get_by_role("button", name="Recovery time")
    expect(quick).to_be_visible()
    shot(page, "e2e-03-quick-replies")
    quick.click()
    expect(user_messages(page).last).to_have_text("You said: Recovery time")
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    sid = session_of(page)["sessionId"]
    assert sid.startswith("p1.")

    page.reload()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(user_messages(page)).to_have_text(["You said: hi", "You said: Recovery time"])
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    shot(page, "e2e-04-after-reload")

    # (By keyboard: on this screen the open panel covers the site's navigation.)
    page.get_by_role("link", name="Treatments").first.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(real_stack["demo"] + "/treatments.html")
    expect(user_messages(page)).to_have_count(2)
    send(page, "and how much does it cost?")
    expect(bot_messages(page).filter(has_text="cost of open surgery")).to_have_count(1)
    assert session_of(page)["sessionId"] == sid  # the same conversation on the server

    page.get_by_role("button", name="Start over").click()
    page.get_by_role("button", name="Yes, start over").click()
    expect(user_messages(page)).to_have_count(0)
    send(page, "how long is recovery?")
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    assert session_of(page)["sessionId"] not in (None, sid)


def test_emergency_reply_has_the_emergency_style(page):
    open_widget(page)
    send(page, "I can't control my bladder since this morning")
    em = page.locator("#clinic-chat .cc-emergency")
    expect(em).to_be_visible()
    expect(em).to_contain_text("emergency number")
    expect(em).to_have_attribute("role", "alert")
    expect(em.locator(".cc-emergency-label")).to_have_text("Emergency")
    assert em.evaluate("e => getComputedStyle(e).borderLeftWidth") == "8px"
    expect(em.locator(".cc-emergency-label")).to_be_in_viewport()  # shown from its first line
    shot(page, "e2e-05-emergency")


def test_emergency_and_crisis_replies_from_the_server(page):
    """One warning sign and no rating under the emergency; the crisis reply in its calm style."""
    open_widget(page)
    send(page, "I can't control my bladder since this morning")
    em = page.locator("#clinic-chat .cc-emergency")
    expect(em).to_contain_text("emergency number")
    assert em.evaluate("e => e.textContent").count("\u26a0") + em.locator("svg").count() == 1
    send(page, "everyone would be better off without me")
    crisis = page.locator("#clinic-chat .cc-crisis")
    expect(crisis).to_contain_text("crisis line")
    expect(crisis.locator(".cc-crisis-label")).to_have_text("Please reach out now")
    expect(page.locator("#clinic-chat .cc-emergency")).to_have_count(1)
    expect(page.get_by_role("group", name="Was this answer helpful?")).to_have_count(0)
    shot(page, "e2e-05b-crisis")


def test_contact_page_starts_the_callback_request(page, real_stack):
    dialog = open_widget(page)
    dialog.get_by_role("button", name="OK, I understand").click()
    dialog.get_by_role("link", name="Contact page").click()
    expect(page).to_have_url(real_stack["demo"] + "/contact.html")
    widget_ready(page)
    page.get_by_role("button", name="Ask for a callback in the chat").click()
    expect(user_messages(page).last).to_have_text("You said: I want to talk to a person")
    page.get_by_role("button", name="Yes, call me back").click()
    expect(bot_messages(page).last).to_contain_text("What name should the clinic ask for?")


def test_injection_attempt_is_rendered_as_text(page, real_stack):
    open_widget(page)
    send(page, INJECTION)
    expect(user_messages(page).last.locator(".cc-text")).to_have_text(INJECTION)
    expect(bot_messages(page)).not_to_have_count(0)
    assert page.locator("#clinic-chat img, #clinic-chat script").count() == 0
    assert page.locator("#clinic-chat .cc-log *[onerror]").count() == 0
    assert page.evaluate("window.__alerts") == []  # (the fixture also fails on any CSP violation)
    shot(page, "e2e-06-injection")


QUOTED_MARKUP = "how long is recovery and who is the surgeon <img/src=x onerror=alert(1)>?"


def test_a_reply_that_quotes_the_patients_markup_shows_it_as_text(page, real_stack):
    """A part the sheet does not answer is quoted back ("You asked: ..."); markup in it stays text."""
    open_widget(page)
    send(page, QUOTED_MARKUP)
    expect(bot_messages(page).filter(has_text="You asked:")).to_have_count(1)
    quoted = bot_messages(page).filter(has_text="You asked:").first
    expect(quoted).to_contain_text("onerror=alert(1)>")
    assert page.locator("#clinic-chat img, #clinic-chat script, #clinic-chat svg image").count() == 0
    assert page.locator("#clinic-chat .cc-log *[onerror]").count() == 0
    assert page.evaluate("window.__alerts") == []


QUOTED_URL = "how long is recovery and who is the surgeon at http://evil.example/login?"


def test_a_url_in_the_patients_quoted_words_is_not_a_link(page, real_stack):
    """A part the sheet does not answer is quoted back ("You asked: ..."); a web address in the
    patient's own words stays plain text (the bot's own addresses may still be links)."""
    open_widget(page)
    send(page, QUOTED_URL)
    quoted = bot_messages(page).filter(has_text="You asked:")
    expect(quoted).to_have_count(1)
    expect(quoted.first).to_contain_text("who is the surgeon at http://evil.example/login?")
    assert page.locator("#clinic-chat a[href*='evil.example']").count() == 0
    assert quoted.first.locator("a").count() == 0


def test_talk_to_a_person(page):
    open_widget(page)
    page.get_by_role("button", name="Talk to a person").click()
    expect(user_messages(page).last).to_have_text("You said: I want to talk to a person")
    expect(bot_messages(page).first).to_contain_text("Of course")


def test_phone_size_viewport(new_page, real_stack):
    page = new_page(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True, device_scale_factor=2)
    page.goto(real_stack["demo"] + "/")
    page.get_by_role("button", name="Chat with us").tap()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    page.get_by_role("button", name="OK, I understand").tap()
    send(page, "how long is recovery?")
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    b = dialog.bounding_box()
    assert (b["x"], b["y"], b["width"], b["height"]) == (0, 0, 375, 667)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    for name in ("Close chat", "Start over", "Talk to a person", "Send"):
        bb = page.get_by_role("button", name=name).bounding_box()
        assert bb["x"] >= 0 and bb["x"] + bb["width"] <= 375 and bb["y"] + bb["height"] <= 667, name
    shot(page, "e2e-07-phone")


def test_keyboard_only(page):
    for _ in range(15):
        page.keyboard.press("Tab")
        if focused(page) == "cc-launcher":
            break
    assert focused(page) == "cc-launcher"
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    assert focused(page) == "cc-input"
    page.keyboard.type("hello")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Recovery time")).to_be_visible()
    shift_tab_to(page, "Recovery time")  # backwards from the input to the first quick reply
    page.keyboard.press("Enter")
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    assert focused(page) == "cc-input"
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert focused(page) == "cc-launcher"


def test_cors_allows_only_the_configured_origin(real_stack):
    url = real_stack["rasa"] + "/webhooks/patient/session"
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    ok = requests.options(url, headers={"Origin": real_stack["demo"], **preflight}, timeout=10)
    assert ok.headers.get("Access-Control-Allow-Origin") == real_stack["demo"]
    for other in ("http://evil.example", "http://127.0.0.1:1", "null"):
        r = requests.options(url, headers={"Origin": other, **preflight}, timeout=10)
        assert "Access-Control-Allow-Origin" not in r.headers, other
        r = requests.post(url, json={}, headers={"Origin": other}, timeout=10)
        assert "Access-Control-Allow-Origin" not in r.headers, other


def test_error_answers_are_readable_by_the_widget(real_stack):
    """JSON errors carry the CORS header too, so the widget can show the server's own message."""
    origin = {"Origin": real_stack["demo"]}
    r = requests.post(
        real_stack["rasa"] + "/webhooks/patient/message",
        headers=origin,
        timeout=10,
        json={"session_id": "p1.nope", "message": "hi", "message_id": "abcdefgh1"},
    )
    assert r.status_code == 403 and r.json()["error"] == "unknown_session"
    assert r.headers.get("Access-Control-Allow-Origin") == real_stack["demo"]
    sid = requests.post(real_stack["rasa"] + "/webhooks/patient/session", json={}, headers=origin, timeout=10).json()[
        "session_id"
    ]
    r = requests.post(
        real_stack["rasa"] + "/webhooks/patient/message",
        headers=origin,
        timeout=10,
        json={"session_id": sid, "message": "   ", "message_id": "abcdefgh2"},
    )
    assert r.status_code == 422 and r.json()["message"]
    assert r.headers.get("Access-Control-Allow-Origin") == real_stack["demo"]


def test_server_down_shows_an_error_then_recovers_without_losing_the_message(page, real_stack):
    """A real stop and restart of the Rasa server (kept last: it costs a model load)."""
    control = real_stack["control"]
    open_widget(page)
    send(page, "hi")
    expect(bot_messages(page)).to_have_count(1)
    control.stop()
    try:
        send(page, "how long is recovery?")
        alert = page.locator("#clinic-chat .cc-error")
        expect(alert).to_contain_text("could not reach the assistant")
        expect(page.locator("#clinic-chat .cc-row-user.cc-failed")).to_contain_text("Not sent")
        shot(page, "e2e-08-server-down")
        page.reload()  # the unsent message survives a reload too
        expect(page.locator("#clinic-chat .cc-row-user.cc-failed")).to_contain_text("how long is recovery?")
    finally:
        control.start()
    alert.get_by_role("button", name="Retry").click()
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    expect(alert).to_be_hidden()
    expect(user_messages(page)).to_have_count(2)
    shot(page, "e2e-09-recovered")
    # The server stored the patient's message exactly once.
    db = sqlite3.connect(str(real_stack["servers"].db))
    try:
        sid = session_of(page)["sessionId"]
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (sid,)).fetchall()
    finally:
        db.close()
    assert sum("how long is recovery?" in r[0] for r in rows) == 1
