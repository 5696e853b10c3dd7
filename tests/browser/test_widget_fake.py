"""The widget in headless Chromium against a fake patient channel (fast; no Rasa needed).

Covers the widget's own behaviour in every state, including the failure modes that are hard to
provoke on the real server (hanging requests, 403/413/503 answers). test_e2e_real.py repeats the
key journeys against the real Rasa + action servers.
"""

from __future__ import annotations

import threading

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import bot_messages, focused, open_widget, send, shift_tab_to, shot, user_messages

pytestmark = pytest.mark.browser

INJECTION = "<img src=x onerror=alert(1)><script>alert(2)</script>"


@pytest.fixture
def page(new_page, fake_stack, api):
    p = new_page(viewport={"width": 1280, "height": 800})
    p.goto(fake_stack["demo"] + "/")
    return p


def test_launcher_opens_dialog_with_notice_and_focus(page):
    launcher = page.get_by_role("button", name="Chat with us")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(launcher).to_have_attribute("aria-controls", "cc-panel")
    dialog = open_widget(page)
    expect(dialog).to_have_attribute("aria-labelledby", "cc-title")
    expect(dialog.get_by_role("heading", name="Example Spine Clinic")).to_be_visible()
    notice = dialog.locator(".cc-notice")
    expect(notice).to_be_visible()
    for phrase in ("automated assistant", "not medical advice", "emergency number", "stored and reviewed"):
        expect(notice).to_contain_text(phrase)
    assert focused(page) == "cc-input"
    log = dialog.get_by_role("log")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(dialog.get_by_role("button", name="Talk to a person")).to_be_visible()
    shot(page, "fake-01-open-notice")
    dialog.get_by_role("button", name="OK, I understand").click()
    expect(notice).to_be_hidden()
    assert focused(page) == "cc-input"
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert focused(page) == "cc-launcher"


def test_answer_with_link_rendered_safely(page):
    open_widget(page)
    send(page, "how long is recovery?")
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    link = bot_messages(page).last.get_by_role("link")
    expect(link).to_have_attribute("href", "https://example.org/recovery")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link).to_have_attribute("target", "_blank")
    expect(user_messages(page)).to_have_text(["You said: how long is recovery?"])
    expect(page.locator("#clinic-chat .cc-status")).to_be_empty()


def test_quick_reply_sends_payload_and_shows_title(page, api):
    open_widget(page)
    send(page, "hi")
    quick = page.get_by_role("group", name="Suggested replies").get_by_role("button", name="Recovery time")
    expect(quick).to_be_visible()
    expect(page.get_by_role("log", name="Messages")).to_contain_text("What would you like to know?")
    quick.click()
    expect(user_messages(page).last).to_have_text("You said: Recovery time")
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    expect(page.get_by_role("button", name="Recovery time")).to_have_count(0)  # old buttons go
    assert api.received[-1][1] == "/ask_recovery_time"
    assert focused(page) == "cc-input"


def test_injection_is_shown_as_text(page):
    open_widget(page)
    send(page, INJECTION)
    expect(user_messages(page).last.locator(".cc-text")).to_have_text(INJECTION)
    expect(bot_messages(page).last.locator(".cc-text")).to_have_text("You wrote: " + INJECTION)
    assert page.locator("#clinic-chat img, #clinic-chat script").count() == 0
    assert page.evaluate("window.__alerts") == []


def test_emergency_reply_is_distinct_and_announced(page):
    open_widget(page)
    send(page, "I can't control my bladder since this morning")
    em = page.locator("#clinic-chat .cc-emergency")
    expect(em).to_contain_text("emergency number")
    expect(em).to_have_attribute("role", "alert")
    expect(em.locator(".cc-emergency-label")).to_have_text("Emergency")
    expect(em.locator(".cc-emergency-label")).to_be_in_viewport()
    em_bg, em_border = em.evaluate("e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).borderLeftWidth]")
    send(page, "hi")
    expect(bot_messages(page)).to_have_count(2)
    normal_bg = bot_messages(page).last.evaluate("e => getComputedStyle(e).backgroundColor")
    assert em_bg != normal_bg and em_border == "8px"


def test_history_survives_reload_and_navigation_and_start_over_resets(page, fake_stack):
    open_widget(page)
    send(page, "how long is recovery?")
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    sid = page.evaluate("Object.values(sessionStorage).map(JSON.parse)[0].sessionId")
    page.reload()
    expect(page.get_by_role("dialog")).to_be_visible()  # stays open
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    # (By keyboard: on this screen the open panel covers the site's navigation.)
    page.get_by_role("link", name="Treatments").first.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(fake_stack["demo"] + "/treatments.html")
    expect(user_messages(page)).to_have_text(["You said: how long is recovery?"])
    send(page, "hi")
    expect(bot_messages(page).last).to_contain_text("automated assistant")
    assert page.evaluate("Object.values(sessionStorage).map(JSON.parse)[0].sessionId") == sid
    page.get_by_role("button", name="Start over").click()
    page.get_by_role("button", name="Yes, start over").click()
    expect(user_messages(page)).to_have_count(0)
    expect(page.locator("#clinic-chat .cc-empty")).to_be_visible()
    assert focused(page) == "cc-input"
    send(page, "hi")
    expect(bot_messages(page)).to_have_count(1)
    assert page.evaluate("Object.values(sessionStorage).map(JSON.parse)[0].sessionId") != sid


def test_start_over_can_be_cancelled(page):
    open_widget(page)
    send(page, "hi")
    expect(bot_messages(page)).to_have_count(1)
    page.get_by_role("button", name="Start over").click()
    assert focused(page).startswith("cc-btn")
    page.keyboard.press("Escape")
    expect(page.locator("#clinic-chat .cc-confirm")).to_be_hidden()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(bot_messages(page)).to_have_count(1)


def test_offline_keeps_the_message_and_retry_delivers_it_once(page, api, fake_stack):
    open_widget(page)
    send(page, "hi")
    expect(bot_messages(page)).to_have_count(1)
    page.route(fake_stack["rasa"] + "/**", lambda route: route.abort("connectionrefused"))
    send(page, "how long is recovery?")
    alert = page.locator("#clinic-chat .cc-error")
    expect(alert).to_be_visible()
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text("could not reach the assistant")
    expect(alert).to_contain_text("emergency number")
    expect(page.locator("#clinic-chat .cc-row-user.cc-failed")).to_contain_text("Not sent")
    shot(page, "fake-02-offline")
    # Reload while offline: the unsent message is still there, still marked.
    page.reload()
    expect(page.locator("#clinic-chat .cc-row-user.cc-failed")).to_contain_text("how long is recovery?")
    expect(alert).to_be_visible()
    page.unroute(fake_stack["rasa"] + "/**")
    alert.get_by_role("button", name="Retry").click()
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    expect(alert).to_be_hidden()
    expect(user_messages(page)).to_have_count(2)
    mid = page.evaluate("Object.values(sessionStorage).map(JSON.parse)[0].items.filter(i => i.kind === 'user')[1].id")
    assert [t for m, t in api.received if m == mid] == ["how long is recovery?"]


def test_sending_again_after_a_failure_sends_the_unsent_message_first(page, api, fake_stack):
    open_widget(page)
    page.route(fake_stack["rasa"] + "/**", lambda route: route.abort())
    send(page, "how long is recovery?")
    expect(page.locator("#clinic-chat .cc-error")).to_be_visible()
    page.unroute(fake_stack["rasa"] + "/**")
    page.get_by_role("button", name="Talk to a person").click()
    expect(bot_messages(page)).to_have_count(2)
    expect(bot_messages(page).first).to_contain_text("3 to 6 weeks")
    expect(bot_messages(page).last).to_contain_text("care team")
    expect(page.locator("#clinic-chat .cc-failed")).to_have_count(0)


def test_slow_server_says_so_times_out_and_retry_is_idempotent(new_page, fake_stack, api):
    page = new_page()
    page.add_init_script("window.ClinicChatConfig = {timeoutMs: 3000, slowMs: 800};")
    page.goto(fake_stack["demo"] + "/")
    open_widget(page)
    send(page, "hi")
    expect(bot_messages(page)).to_have_count(1)
    api.gate = threading.Event()
    send(page, "how long is recovery?")
    status = page.locator("#clinic-chat .cc-status")
    expect(status.locator(".cc-typing")).to_be_visible()  # typing indicator while waiting
    expect(status).to_have_attribute("role", "status")
    expect(page.locator("#clinic-chat .cc-row-user.cc-pending")).to_contain_text("Sending")
    expect(status).to_contain_text("taking longer than usual")
    expect(page.locator("#clinic-chat .cc-error")).to_contain_text("did not answer in time")
    shot(page, "fake-03-timeout")
    gate, api.gate = api.gate, None
    gate.set()  # the server now handles the first (abandoned) request
    page.get_by_role("button", name="Retry").first.click()
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    expect(bot_messages(page)).to_have_count(2)
    mid = page.evaluate("Object.values(sessionStorage).map(JSON.parse)[0].items.filter(i => i.kind === 'user')[1].id")
    assert api.calls[mid] == 2
    assert [t for m, t in api.received if m == mid] == ["how long is recovery?"]


def test_start_over_while_waiting_drops_the_late_answer(page, api):
    open_widget(page)
    api.gate = threading.Event()
    send(page, "how long is recovery?")
    expect(page.locator("#clinic-chat .cc-row-user.cc-pending")).to_be_visible()
    page.get_by_role("button", name="Start over").click()
    page.get_by_role("button", name="Yes, start over").click()
    expect(user_messages(page)).to_have_count(0)
    gate, api.gate = api.gate, None
    gate.set()
    send(page, "hi")
    expect(bot_messages(page)).to_have_count(1)
    expect(bot_messages(page).first).to_contain_text("automated assistant")
    expect(page.locator("#clinic-chat .cc-log")).not_to_contain_text("3 to 6 weeks")
    expect(page.locator("#clinic-chat .cc-status")).to_be_empty()


def test_server_error_message_is_shown_then_retry(page, api):
    open_widget(page)
    api.fail_next(
        503,
        "not_saved",
        "Your message could not be saved. Please try again. In an emergency, call your local emergency " "number.",
    )
    send(page, "how long is recovery?")
    alert = page.locator("#clinic-chat .cc-error")
    expect(alert).to_contain_text("could not be saved")
    alert.get_by_role("button", name="Retry").click()
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")


BUSY = "Many people are using the assistant right now. Please wait a few seconds, then press Retry."


def _since(api, seen):
    """(requests per message_id, texts handled) for the message ids not in ``seen``."""
    calls = {mid: n for mid, n in api.calls.items() if mid not in seen}
    return sorted(calls.values()), [m for mid, m in api.received if mid in calls]


NOT_READY = "The assistant is not ready yet. Please try again in a minute."


@pytest.mark.parametrize("code, text", [("busy", BUSY), ("not_ready", NOT_READY)])
def test_a_busy_or_not_ready_answer_is_sent_again_by_itself(page, api, code, text):
    open_widget(page)
    seen = set(api.calls)
    api.fail_next(503, code, text, retry_after=1)
    send(page, "how long is recovery?")
    expect(page.locator("#clinic-chat .cc-error")).to_contain_text(text.split(".")[0])
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")  # no click
    expect(page.locator("#clinic-chat .cc-error")).to_be_hidden()
    assert _since(api, seen) == ([2], ["how long is recovery?"]), "one message_id, sent twice, handled once"


def test_after_three_busy_answers_it_waits_for_retry(page, api):
    open_widget(page)
    seen = set(api.calls)
    for _ in range(4):
        api.fail_next(503, "busy", BUSY, retry_after=1)
    send(page, "how long is recovery?")
    page.wait_for_timeout(6000)  # the first answer and three automatic retries, 1 s apart, then no more
    assert _since(api, seen) == ([4], [])
    alert = page.locator("#clinic-chat .cc-error")
    expect(alert).to_contain_text("Many people")
    alert.get_by_role("button", name="Retry").click()
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    assert _since(api, seen) == ([5], ["how long is recovery?"])


def test_emergency_advice_in_an_error_answer_is_shown(page, api):
    open_widget(page)
    api.fail_next(
        503,
        "not_saved",
        "Sorry, I could not save your message. In an emergency, call your local emergency number now.",
        messages=[
            {
                "text": "This could be a medical emergency. Please call your local emergency number now.",
                "emergency": True,
            }
        ],
    )
    send(page, "I can't control my bladder")
    expect(page.locator("#clinic-chat .cc-emergency")).to_contain_text("medical emergency")
    expect(page.locator("#clinic-chat .cc-error")).to_contain_text("could not save")
    expect(page.locator("#clinic-chat .cc-row-user.cc-failed")).to_be_visible()


def test_an_over_long_paste_is_kept_whole_and_explained_not_cut(page, api):
    """A text over the server's limit (200 here) is not cut silently at the limit: its end may be the
    red flag. It stays whole in the box, the patient is told at once, and nothing is sent."""
    open_widget(page)
    send(page, "hi")
    expect(bot_messages(page)).to_have_count(1)
    story = "My back has hurt for years and I tried everything. " * 5 + "Now I can't pee since this morning."
    assert len(story) > 200
    box = page.get_by_role("textbox", name="Your message")
    box.fill(story)
    expect(box).to_have_value(story)
    expect(page.locator("#clinic-chat .cc-input-error")).to_contain_text("under 200 characters")
    expect(box).to_have_attribute("aria-invalid", "true")
    box.press("Enter")
    expect(user_messages(page)).to_have_count(1)
    expect(box).to_have_value(story)
    box.fill("Now I can't pee since this morning.")
    expect(page.locator("#clinic-chat .cc-input-error")).to_have_count(0)
    expect(box).not_to_have_attribute("aria-invalid", "true")


def test_rejected_message_is_explained_and_given_back(page, api):
    open_widget(page)
    api.fail_next(413, "message_too_long", "Your message is too long. Please keep it under 200 characters.")
    send(page, "a long story")
    expect(page.locator("#clinic-chat .cc-row-user.cc-rejected")).to_contain_text("too long")
    expect(page.get_by_role("textbox", name="Your message")).to_have_value("a long story")
    expect(page.locator("#clinic-chat .cc-error")).to_be_hidden()
    send(page, "hi")
    expect(bot_messages(page)).to_have_count(1)


def test_unknown_session_starts_a_new_one_without_losing_the_message(page, api):
    open_widget(page)
    send(page, "hi")
    expect(bot_messages(page)).to_have_count(1)
    api.forget_sessions()
    send(page, "how long is recovery?")
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    expect(page.locator("#clinic-chat .cc-note")).to_contain_text("new one was started")


def test_talk_to_a_person_is_always_there(page):
    open_widget(page)
    for text in ("hi", "how long is recovery?"):
        send(page, text)
    expect(bot_messages(page)).to_have_count(2)
    human = page.get_by_role("button", name="Talk to a person")
    expect(human).to_be_visible()
    human.click()
    expect(user_messages(page).last).to_have_text("You said: I want to talk to a person")
    expect(bot_messages(page).last).to_contain_text("care team")


def test_phone_viewport(new_page, fake_stack):
    page = new_page(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True, device_scale_factor=2)
    page.goto(fake_stack["demo"] + "/")
    launcher = page.get_by_role("button", name="Chat with us")
    box = launcher.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    shot(page, "fake-04-phone-closed")
    launcher.tap()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    send(page, "hi")
    page.get_by_role("button", name="OK, I understand").tap()
    page.get_by_role("button", name="Recovery time").tap()
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    b = dialog.bounding_box()  # (after the opening animation)
    assert (b["x"], b["y"], b["width"], b["height"]) == (0, 0, 375, 667)
    for name in ("Close chat", "Start over", "Talk to a person", "Send"):
        bb = page.get_by_role("button", name=name).bounding_box()
        assert bb["x"] >= 0 and bb["x"] + bb["width"] <= 375 and bb["y"] + bb["height"] <= 667, name
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "fake-05-phone-open")
    page.get_by_role("button", name="Close chat").tap()
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_visible()


def test_keyboard_only(page):
    for _ in range(15):
        page.keyboard.press("Tab")
        if focused(page) == "cc-launcher":
            break
    assert focused(page) == "cc-launcher", "the launcher is not reachable with Tab"
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    assert focused(page) == "cc-input"
    page.keyboard.type("hi")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Recovery time")).to_be_visible()
    shift_tab_to(page, "Recovery time")  # backwards from the input to the first quick reply
    page.keyboard.press("Enter")
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    assert focused(page) == "cc-input"
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert focused(page) == "cc-launcher"
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    assert focused(page) == "cc-input"


def test_focus_ring_is_visible(page):
    for _ in range(15):
        page.keyboard.press("Tab")
        if focused(page) == "cc-launcher":
            break
    style = page.locator("#clinic-chat .cc-launcher").evaluate(
        "e => getComputedStyle(e).outlineStyle + ' ' + " "getComputedStyle(e).outlineWidth"
    )
    assert style == "solid 3px"


def _rgb(s):
    import re

    nums = [float(x) for x in re.findall(r"[\d.]+", s)]
    return nums[:3], (nums[3] if len(nums) > 3 else 1.0)


def _lum(rgb):
    def ch(v):
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (ch(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    la, lb = _lum(a), _lum(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


COLOURS_JS = """(sel) => {
  const root = document.querySelector('#clinic-chat').shadowRoot;
  return [...root.querySelectorAll(sel)].map(e => {
    let bg = null, n = e;
    while (n && n.nodeType === 1) {
      const c = getComputedStyle(n).backgroundColor;
      if (c && c !== 'transparent' && !c.endsWith(', 0)')) { bg = c; break; }
      n = n.parentElement || (n.getRootNode() && n.getRootNode().host);
    }
    return [getComputedStyle(e).color, bg || 'rgb(255, 255, 255)', e.className];
  });
}"""

TEXT_SELECTORS = [
    ".cc-launcher",
    ".cc-title",
    ".cc-subtitle",
    ".cc-header-btn",
    ".cc-notice li",
    ".cc-btn",
    ".cc-empty",
    ".cc-bot .cc-text",
    ".cc-user .cc-text",
    ".cc-link",
    ".cc-emergency .cc-text",
    ".cc-emergency-label",
    ".cc-msg-status",
    ".cc-error-text",
    ".cc-footer",
    ".cc-input",
    ".cc-note",
    ".cc-rate-btn",
    ".cc-rate-status",
    ".cc-badge",
    ".cc-crisis .cc-text",
    ".cc-crisis-label",
    ".cc-urgent .cc-text",
    ".cc-urgent-label",
    ".cc-notice-emergency",
    ".cc-call",
    ".cc-call-footer",
    ".cc-contact",
]


def _check_contrast(page, minimum=4.5):
    seen = set()
    low = []
    for sel in TEXT_SELECTORS:
        for fg, bg, cls in page.evaluate(COLOURS_JS, sel):
            (f, _), (b, _) = _rgb(fg), _rgb(bg)
            seen.add(sel)
            ratio = contrast(f, b)
            if ratio < minimum:
                low.append((sel, cls, fg, bg, round(ratio, 2)))
    assert not low, low
    return seen


def test_default_colours_meet_wcag_aa(page, api, fake_stack):
    open_widget(page)
    send(page, "hi")
    page.get_by_role("button", name="Recovery time").click()
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    rate_last_turn(page, "Not helpful")  # a pressed rating button and the "thanks" status
    send(page, "I can't control my bladder")
    expect(page.locator("#clinic-chat .cc-emergency")).to_be_visible()
    api.forget_sessions()
    send(page, "hi")
    expect(page.locator("#clinic-chat .cc-note")).to_be_visible()
    page.route(fake_stack["rasa"] + "/**", lambda route: route.abort())
    send(page, "another")
    expect(page.locator("#clinic-chat .cc-error")).to_be_visible()
    seen = _check_contrast(page)
    assert {
        ".cc-launcher",
        ".cc-bot .cc-text",
        ".cc-user .cc-text",
        ".cc-link",
        ".cc-emergency .cc-text",
        ".cc-error-text",
        ".cc-msg-status",
        ".cc-rate-btn",
        ".cc-rate-status",
    } <= seen
    page.unroute(fake_stack["rasa"] + "/**")


def test_triage_replies_and_call_links_meet_wcag_aa(new_page, fake_stack, api):
    page = new_page(viewport={"width": 1280, "height": 800})
    page.add_init_script(
        "window.ClinicChatConfig = {emergencyNumber: '112', clinicPhone: '+1 555 0100',"
        " crisisLine: '0800 555 0100', contactUrl: '/contact.html'};"
    )
    page.goto(fake_stack["demo"] + "/")
    open_widget(page)
    expect(page.locator("#clinic-chat .cc-notice-emergency .cc-call")).to_be_visible()
    send(page, "I can't control my bladder")
    send(page, "everyone would be better off without me")
    send(page, "the painkillers are not working")
    expect(page.locator("#clinic-chat .cc-urgent .cc-call")).to_be_visible()
    seen = _check_contrast(page)
    assert {
        ".cc-crisis .cc-text",
        ".cc-crisis-label",
        ".cc-urgent .cc-text",
        ".cc-urgent-label",
        ".cc-emergency .cc-text",
        ".cc-notice-emergency",
        ".cc-call",
        ".cc-call-footer",
        ".cc-contact",
    } <= seen


@pytest.mark.parametrize("primary", ["#ffd400", "#6a1b9a"])
def test_clinic_colour_and_language_are_configurable(new_page, fake_stack, primary):
    page = new_page()
    page.add_init_script("window.ClinicChatConfig = {lang: 'de', colors: {primary: '%s'}};" % primary)
    page.goto(fake_stack["demo"] + "/")
    launcher = page.get_by_role("button", name="Chat starten")
    expect(launcher).to_be_visible()
    launcher.click()
    expect(page.locator("#clinic-chat .cc-notice")).to_contain_text("Notruf")
    expect(page.locator("#clinic-chat .cc-root")).to_have_attribute("lang", "de")
    page.get_by_role("textbox", name="Ihre Nachricht").fill("hi")
    page.get_by_role("textbox", name="Ihre Nachricht").press("Enter")
    expect(bot_messages(page)).to_have_count(1)
    rate_last_turn(
        page, "Hilfreich", group="War diese Antwort hilfreich?", thanks="Danke f\u00fcr Ihre R\u00fcckmeldung"
    )
    _check_contrast(page)  # the pressed rating button is in the clinic colour


def test_reduced_motion_turns_animations_off(new_page, fake_stack):
    page = new_page(reduced_motion="reduce")
    page.goto(fake_stack["demo"] + "/")
    open_widget(page)
    assert page.locator("#clinic-chat .cc-panel").evaluate("e => getComputedStyle(e).animationName") == "none"
    page2 = new_page(reduced_motion="no-preference")
    page2.goto(fake_stack["demo"] + "/")
    open_widget(page2)
    assert page2.locator("#clinic-chat .cc-panel").evaluate("e => getComputedStyle(e).animationName") == "cc-pop"


# ------------------------------------------------------------------ ratings
RATE_GROUP = "Was this answer helpful?"


def rate_last_turn(page, name, group=RATE_GROUP, thanks="Thanks for your feedback"):
    rating = page.get_by_role("group", name=group).last
    button = rating.get_by_role("button", name=name, exact=True)
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(rating.get_by_role("status")).to_have_text(thanks)
    return rating


def stored_chat(page) -> dict:
    return page.evaluate("Object.values(sessionStorage).map(JSON.parse)[0]")


def test_rating_a_reply_is_sent_shown_and_kept_after_reload(page, api):
    open_widget(page)
    send(page, "how long is recovery?")
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    rating = page.get_by_role("group", name=RATE_GROUP)
    expect(rating).to_have_count(1)
    up = rating.get_by_role("button", name="Helpful", exact=True)
    down = rating.get_by_role("button", name="Not helpful", exact=True)
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(down).to_have_attribute("aria-pressed", "false")
    expect(rating.get_by_role("status")).to_have_text("")
    down.click()
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(rating.get_by_role("status")).to_have_text("Thanks for your feedback")
    shot(page, "fake-06-rated")
    chat = stored_chat(page)
    mid = chat["items"][0]["id"]
    sid = chat["sessionId"]
    assert [r for r in api.ratings if r[0] == sid] == [(sid, mid, "down")]

    page.reload()  # the choice is kept in the tab's sessionStorage
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(rating.get_by_role("status")).to_have_text("Thanks for your feedback")

    up.press("Enter")  # a change of mind, by keyboard
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(down).to_have_attribute("aria-pressed", "false")
    expect(rating.get_by_role("status")).to_have_text("Thanks for your feedback")
    assert [r for r in api.ratings if r[0] == sid] == [(sid, mid, "down"), (sid, mid, "up")]
    assert focused(page) == "cc-rate-btn cc-rate-up"


def test_ratings_only_under_answered_turns_and_a_failed_rating_is_undone(page, api):
    open_widget(page)
    send(page, "two answers")
    expect(bot_messages(page)).to_have_count(2)
    rows = page.locator("#clinic-chat .cc-row-bot")
    # One rating per turn, under its last reply.
    expect(page.get_by_role("group", name=RATE_GROUP)).to_have_count(1)
    expect(rows.nth(0).get_by_role("group", name=RATE_GROUP)).to_have_count(0)
    expect(rows.nth(1).get_by_role("group", name=RATE_GROUP)).to_have_count(1)

    # A reply that came with an error (message not stored) gets no rating; after Retry the turn does.
    api.fail_next(
        503,
        "not_saved",
        "Sorry, I could not save your message. In an emergency, call your local emergency number now.",
        messages=[{"text": "Here is a first answer that could not be saved.", "emergency": False}],
    )
    send(page, "how long is recovery?")
    expect(page.locator("#clinic-chat .cc-error")).to_be_visible()
    expect(rows).to_have_count(3)
    expect(page.get_by_role("group", name=RATE_GROUP)).to_have_count(1)
    page.locator("#clinic-chat .cc-error").get_by_role("button", name="Retry").click()
    expect(rows).to_have_count(4)
    expect(page.get_by_role("group", name=RATE_GROUP)).to_have_count(2)
    expect(rows.nth(3).get_by_role("group", name=RATE_GROUP)).to_have_count(1)

    # The server cannot store the rating: the choice is undone and the patient is told.
    api.feedback_fail.append((503, {"error": "not_saved", "message": "Please try again."}))
    rating = rows.nth(1).get_by_role("group", name=RATE_GROUP)
    up = rating.get_by_role("button", name="Helpful", exact=True)
    up.click()
    expect(rating.get_by_role("status")).to_have_text(
        "Your feedback could not be sent. Please try again. In an " "emergency, call your local emergency number now."
    )
    expect(up).to_have_attribute("aria-pressed", "false")
    _check_contrast(page)  # the failure text
    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(rating.get_by_role("status")).to_have_text("Thanks for your feedback")
    first_mid = stored_chat(page)["items"][0]["id"]
    assert api.ratings[-1][1:] == (first_mid, "up")

    # Notes (e.g. "a new conversation was started") are not rated.
    api.forget_sessions()
    send(page, "hi")
    expect(page.locator("#clinic-chat .cc-note")).to_be_visible()
    expect(bot_messages(page)).to_have_count(5)
    expect(page.get_by_role("group", name=RATE_GROUP)).to_have_count(3)
    expect(page.locator("#clinic-chat .cc-note .cc-rate")).to_have_count(0)


# ------------------------------------------------------------------ unread replies
def test_a_reply_while_the_panel_is_closed_shows_an_unread_badge(page, api):
    launcher = page.get_by_role("button", name="Chat with us")
    badge = page.locator("#clinic-chat .cc-badge")
    open_widget(page)
    api.gate = threading.Event()
    send(page, "how long is recovery?")
    expect(page.locator("#clinic-chat .cc-row-user.cc-pending")).to_be_visible()
    page.keyboard.press("Escape")  # the patient closes the panel while waiting
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher).to_have_accessible_name("Chat with us")
    expect(badge).to_be_hidden()
    gate, api.gate = api.gate, None
    gate.set()
    expect(launcher).to_have_accessible_name("Chat with us, 1 new message")
    expect(badge).to_be_visible()
    expect(badge).to_have_text("1")
    expect(page.locator("#clinic-chat .cc-unread-status")).to_have_text("Chat with us, 1 new message")
    shot(page, "fake-07-unread")
    assert ".cc-badge" in _check_contrast(page)

    page.reload()  # still unread on the next page
    expect(launcher).to_have_accessible_name("Chat with us, 1 new message")
    launcher.click()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(bot_messages(page).last).to_contain_text("3 to 6 weeks")
    expect(launcher).to_have_accessible_name("Chat with us")
    expect(badge).to_be_hidden()

    api.gate = threading.Event()
    send(page, "two answers")
    page.get_by_role("button", name="Close chat").click()
    gate, api.gate = api.gate, None
    gate.set()
    expect(launcher).to_have_accessible_name("Chat with us, 2 new messages")
    expect(badge).to_have_text("2")
    page.evaluate("window.ClinicChat.open()")
    expect(launcher).to_have_accessible_name("Chat with us")
    expect(badge).to_be_hidden()


def test_no_badge_for_replies_seen_with_the_panel_open(page):
    open_widget(page)
    send(page, "hi")
    expect(bot_messages(page)).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Chat with us")).to_have_accessible_name("Chat with us")
    expect(page.locator("#clinic-chat .cc-badge")).to_be_hidden()


# ------------------------------------------------------------------ phone layout: modal panel
IN_PANEL_JS = """() => {
  const host = document.querySelector('#clinic-chat');
  if (document.activeElement !== host) return null;
  const a = host.shadowRoot.activeElement;
  if (!a || !a.closest('#cc-panel')) return null;
  return a.getAttribute('aria-label') || (a.tagName === 'BUTTON' ? a.textContent.trim() : a.className);
}"""
PAGE_BEHIND_JS = """() => [...document.body.children].filter(e => e.id !== 'clinic-chat')
  .map(e => [e.tagName, e.hasAttribute('inert'), e.getAttribute('aria-hidden')])"""


def _tab_through(page, key, presses=24):
    seen = []
    for _ in range(presses):
        page.keyboard.press(key)
        where = page.evaluate(IN_PANEL_JS)
        assert where, f"{key} left the chat panel after {seen}"
        seen.append(where)
    return seen


def test_phone_panel_is_modal_and_keeps_the_focus_inside(new_page, fake_stack):
    page = new_page(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    page.goto(fake_stack["demo"] + "/")
    expect(page.get_by_role("link", name="Treatments").first).to_be_visible()
    assert all(not inert and hidden is None for _, inert, hidden in page.evaluate(PAGE_BEHIND_JS))
    page.get_by_role("button", name="Chat with us").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_have_attribute("aria-modal", "true")
    assert all(inert and hidden == "true" for _, inert, hidden in page.evaluate(PAGE_BEHIND_JS))
    expect(page.get_by_role("link", name="Treatments")).to_have_count(0)  # hidden from assistive tech
    dialog.get_by_role("button", name="OK, I understand").click()
    send(page, "hi")
    expect(dialog.get_by_role("button", name="Recovery time")).to_be_visible()

    forward = _tab_through(page, "Tab")
    assert {
        "Start over",
        "Close chat",
        "Helpful",
        "Not helpful",
        "Recovery time",
        "Talk to a person",
        "cc-input",
        "Send",
    } <= set(forward)
    wrap = forward.index("Send")
    assert forward[wrap + 1] == "Start over"  # from the last control back to the first
    backward = _tab_through(page, "Shift+Tab")
    wrap = backward.index("Start over")
    assert backward[wrap + 1] == "Send"  # and from the first to the last
    shot(page, "fake-08-phone-modal")

    page.reload()  # still open on the next page: still modal
    expect(dialog).to_have_attribute("aria-modal", "true")
    expect(page.get_by_role("link", name="Treatments")).to_have_count(0)
    page.keyboard.press("Tab")
    assert page.evaluate(IN_PANEL_JS)

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert focused(page) == "cc-launcher"
    assert all(not inert and hidden is None for _, inert, hidden in page.evaluate(PAGE_BEHIND_JS))
    expect(page.get_by_role("link", name="Treatments").first).to_be_visible()
    page.keyboard.press("Shift+Tab")  # the page is reachable again
    assert page.evaluate("document.activeElement.tagName") == "A"


def test_desktop_panel_stays_non_modal_and_turns_modal_at_phone_width(page):
    dialog = open_widget(page)
    expect(dialog).not_to_have_attribute("aria-modal", "true")
    assert page.evaluate("document.querySelectorAll('[inert], body > [aria-hidden]').length") == 0
    expect(page.get_by_role("link", name="Treatments").first).to_be_visible()
    page.get_by_role("button", name="Chat with us").focus()
    page.keyboard.press("Shift+Tab")  # from the launcher to the page behind
    assert page.evaluate("document.activeElement.tagName") == "A"
    page.set_viewport_size({"width": 375, "height": 667})  # e.g. a window made narrow
    expect(dialog).to_have_attribute("aria-modal", "true")
    expect(page.get_by_role("link", name="Treatments")).to_have_count(0)
    assert page.evaluate(IN_PANEL_JS) == "cc-input"  # focus was in the page: now in the panel
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(dialog).not_to_have_attribute("aria-modal", "true")
    expect(page.get_by_role("link", name="Treatments").first).to_be_visible()
    assert page.evaluate("document.querySelectorAll('[inert], body > [aria-hidden]').length") == 0


def test_an_emergency_reply_opens_the_closed_panel(page, api):
    """A red-flag answer must not wait behind a badge: the panel opens and shows it."""
    open_widget(page)
    api.gate = threading.Event()
    send(page, "I can't control my bladder")
    expect(page.locator("#clinic-chat .cc-row-user.cc-pending")).to_be_visible()
    page.keyboard.press("Escape")  # the patient closes the panel while waiting
    expect(page.get_by_role("dialog")).to_be_hidden()
    gate, api.gate = api.gate, None
    gate.set()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.locator("#clinic-chat .cc-emergency")).to_be_visible()
    expect(page.locator("#clinic-chat .cc-badge")).to_be_hidden()


def test_the_patients_quoted_words_stay_plain_text_and_the_bots_links_stay_links(page, api):
    """The server marks the patient's own words a reply quotes (segments): a web address in them is
    never a link; the bot's own address in the same reply still is."""
    open_widget(page)
    send(page, "quote who is the surgeon at http://evil.example/login")
    reply = bot_messages(page).last
    expect(reply).to_contain_text('You asked: "quote who is the surgeon at http://evil.example/login"')
    expect(reply.get_by_role("link")).to_have_count(1)
    expect(reply.get_by_role("link")).to_have_attribute("href", "https://example.org/faq")
    assert page.locator("#clinic-chat a[href*='evil.example']").count() == 0
    page.reload()  # the stored conversation renders the same way
    expect(page.get_by_role("dialog")).to_be_visible()  # stays open
    expect(bot_messages(page).last.get_by_role("link")).to_have_count(1)
    assert page.locator("#clinic-chat a[href*='evil.example']").count() == 0
