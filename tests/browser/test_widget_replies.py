"""Triage replies, phone links and the contact route in the widget (headless Chromium, fake channel).

An emergency reply shows one warning sign and no rating buttons; a crisis reply (self-harm) has a
calm style of its own, not the red alarm, and offers the crisis line when the clinic configured
one; urgent replies keep their rating. Tap-to-call links appear only for numbers the clinic
configured on the script tag. The demo site's contact page is real and starts the callback request.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import bot_messages, open_widget, send, user_messages, widget_ready

pytestmark = pytest.mark.browser

RATE_GROUP = "Was this answer helpful?"
WARNING_SIGN = "\u26a0"


@pytest.fixture
def page(new_page, fake_stack, api):
    p = new_page(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    p.goto(fake_stack["demo"] + "/")
    return p


def configured_page(new_page, fake_stack, attributes: dict, path: str = "/"):
    """A demo page whose widget tag carries extra data- attributes, as a clinic would write them.

    They are put on the tag when the page is parsed and before the deferred widget runs (document
    readyState "interactive"): a page rewritten by the test itself would no longer count as a
    loopback page, and Chromium would block its requests to the loopback patient channel."""
    page = new_page(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    page.add_init_script(
        """(attrs => document.addEventListener('readystatechange', () => {
      if (document.readyState !== 'interactive') return;
      const tag = document.querySelector('script[src$="clinic-chat.js"]');
      for (const [k, v] of Object.entries(attrs)) tag.setAttribute(k, v);
    }))(%s);"""
        % json.dumps(attributes)
    )
    page.goto(fake_stack["demo"] + path)
    return page


def _rgb(css: str):
    return tuple(int(v) for v in re.findall(r"\d+", css)[:3])


def test_emergency_reply_shows_one_warning_sign_and_no_rating(page, api):
    open_widget(page)
    send(page, "how long is recovery?")
    expect(page.get_by_role("group", name=RATE_GROUP)).to_have_count(1)
    send(page, "I can't control my bladder since this morning")
    em = page.locator("#clinic-chat .cc-emergency")
    expect(em).to_contain_text("medical emergency")
    expect(em).to_have_attribute("role", "alert")
    text = em.evaluate("e => e.textContent")
    icons = em.locator("svg").count()
    assert text.count(WARNING_SIGN) + icons == 1, f"{text.count(WARNING_SIGN)} warning signs and {icons} icons"
    expect(page.locator("#clinic-chat .cc-row-bot").last.get_by_role("group", name=RATE_GROUP)).to_have_count(0)
    expect(page.get_by_role("group", name=RATE_GROUP)).to_have_count(1)  # only the earlier answer's
    page.reload()  # the same after a reload
    expect(page.locator("#clinic-chat .cc-emergency")).to_be_visible()
    expect(page.get_by_role("group", name=RATE_GROUP)).to_have_count(1)


def test_crisis_reply_is_calm_and_distinct_without_rating_and_urgent_keeps_its_rating(page, api):
    open_widget(page)
    send(page, "I can't control my bladder")
    emergency = page.locator("#clinic-chat .cc-emergency")
    expect(emergency).to_be_visible()
    send(page, "everyone would be better off without me")
    crisis = page.locator("#clinic-chat .cc-crisis")
    expect(crisis).to_contain_text("really sorry")
    expect(crisis).to_have_attribute("role", "alert")  # still announced at once
    expect(crisis.locator(".cc-crisis-label")).to_have_text("Please reach out now")
    expect(page.locator("#clinic-chat .cc-emergency")).to_have_count(1)  # not in the emergency style
    expect(crisis.locator("svg")).to_have_count(0)  # no alarm triangle
    assert WARNING_SIGN not in crisis.evaluate("e => e.textContent")
    style = (
        "e => { const c = getComputedStyle(e); "
        "return [c.backgroundColor, c.borderLeftColor, c.color, c.fontWeight]; }"
    )
    em_bg, em_border, _, _ = emergency.evaluate(style)
    cr_bg, cr_border, _, cr_weight = crisis.evaluate(style)
    r, g, b = _rgb(cr_border)
    assert not (r > g + 40 and r > b + 40), f"the crisis border is red: {cr_border}"
    r, g, b = _rgb(cr_bg)
    assert not (r > g + 10 and r > b + 10), f"the crisis background is reddish: {cr_bg}"
    assert cr_bg != em_bg and cr_border != em_border
    assert int(cr_weight) < 600, "the crisis text is not set in the emergency's bold"
    # The follow-up with the crisis line belongs to the same turn: no rating under either.
    expect(bot_messages(page).last).to_contain_text("crisis line now")
    expect(page.get_by_role("group", name=RATE_GROUP)).to_have_count(0)

    send(page, "the painkillers are not working")
    urgent = page.locator("#clinic-chat .cc-urgent")
    expect(urgent.locator(".cc-urgent-label")).to_have_text("See a doctor today")
    assert urgent.get_attribute("role") is None
    ur_bg = urgent.evaluate("e => getComputedStyle(e).backgroundColor")
    # Urgent answers keep their rating (staff learn from "not helpful" on an urgent answer).
    expect(page.get_by_role("group", name=RATE_GROUP)).to_have_count(1)
    expect(page.locator("#clinic-chat .cc-row-bot").last.get_by_role("group", name=RATE_GROUP)).to_have_count(1)
    send(page, "hi")
    expect(bot_messages(page)).to_have_count(6)
    normal_bg = bot_messages(page).last.evaluate("e => getComputedStyle(e).backgroundColor")
    assert len({em_bg, cr_bg, ur_bg, normal_bg}) == 4


def test_no_phone_link_when_no_number_is_configured(page, api):
    dialog = open_widget(page)
    send(page, "I can't control my bladder")
    send(page, "everyone would be better off without me")
    send(page, "the painkillers are not working")
    expect(bot_messages(page)).to_have_count(5)
    expect(dialog.locator('a[href^="tel:"]')).to_have_count(0)


def test_configured_numbers_become_tap_to_call_links(new_page, fake_stack, api):
    page = configured_page(
        new_page,
        fake_stack,
        {"data-emergency-number": "112", "data-clinic-phone": "+1 555 0100", "data-crisis-line": "0800 555 0100"},
    )
    dialog = open_widget(page)
    notice = dialog.locator(".cc-notice")
    call_emergency = notice.get_by_role("link", name="Call the emergency number: 112")
    expect(call_emergency).to_have_attribute("href", "tel:112")
    expect(call_emergency).to_be_in_viewport(ratio=1)
    expect(dialog.locator(".cc-footer").get_by_role("link")).to_have_attribute("href", "tel:112")
    dialog.get_by_role("button", name="OK, I understand").click()

    send(page, "I can't control my bladder")
    em = dialog.locator(".cc-emergency")
    expect(em.get_by_role("link", name="Call the emergency number: 112")).to_have_attribute("href", "tel:112")

    send(page, "everyone would be better off without me")
    crisis = dialog.locator(".cc-crisis")
    crisis_link = crisis.get_by_role("link", name="Call a crisis line: 0800 555 0100")
    expect(crisis_link).to_have_attribute("href", "tel:08005550100")
    # The number in the server's follow-up text is a link too.
    number_link = bot_messages(page).last.get_by_role("link", name="0800 555 0100")
    expect(number_link).to_have_attribute("href", "tel:08005550100")

    send(page, "the painkillers are not working")
    urgent = dialog.locator(".cc-urgent")
    expect(urgent.get_by_role("link", name="Call the clinic: +1 555 0100")).to_have_attribute("href", "tel:+15550100")
    expect(bot_messages(page).last.get_by_role("link", name="+1 555 0100")).to_have_attribute("href", "tel:+15550100")
    # Only the configured numbers: nothing else in the replies became a link.
    hrefs = set(dialog.locator('a[href^="tel:"]').evaluate_all("els => els.map(e => e.getAttribute('href'))"))
    assert hrefs == {"tel:112", "tel:08005550100", "tel:+15550100"}


def test_a_number_that_is_not_a_phone_number_is_ignored(new_page, fake_stack, api):
    page = configured_page(new_page, fake_stack, {"data-emergency-number": "call 112 javascript:alert(1)"})
    dialog = open_widget(page)
    expect(dialog.locator(".cc-notice")).to_be_visible()
    expect(dialog.locator("a[href^='tel:'], a[href^='javascript:']")).to_have_count(0)


def test_the_contact_link_leads_to_the_contact_page_and_its_callback_request(page, api, fake_stack):
    dialog = open_widget(page)
    dialog.get_by_role("button", name="OK, I understand").click()
    contact = dialog.get_by_role("link", name="Contact page")
    expect(contact).to_have_attribute("href", "/contact.html")
    contact.click()
    expect(page).to_have_url(fake_stack["demo"] + "/contact.html")
    expect(page.get_by_role("heading", level=1)).to_have_text("Contact us")
    widget_ready(page)
    page.get_by_role("button", name="Ask for a callback in the chat").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(user_messages(page).last).to_have_text("You said: I want to talk to a person")
    expect(bot_messages(page).last).to_contain_text("care team")
    page.get_by_role("button", name="Yes, call me back").click()
    expect(bot_messages(page).last).to_contain_text("What name should the clinic ask for?")


def test_without_a_contact_url_there_is_no_contact_link(new_page, fake_stack, api):
    page = new_page(viewport={"width": 1280, "height": 800})
    page.add_init_script("window.ClinicChatConfig = {contactUrl: ''};")
    page.goto(fake_stack["demo"] + "/")
    dialog = open_widget(page)
    expect(dialog.get_by_role("button", name="Talk to a person")).to_be_visible()
    expect(dialog.get_by_role("link", name="Contact page")).to_have_count(0)
