"""The widget's layout at the screen sizes patients use (headless Chromium, fake patient channel).

The first-open notice is the one thing every patient must see: it must start at its top, with its
title, "not medical advice" and the emergency line on screen without scrolling, from a small phone
(320x480) to a desktop. A reloaded page shows the latest message, and the desktop panel is tall
enough, with the clinic's name on one line.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import bot_messages, open_widget, send

pytestmark = pytest.mark.browser

EMERGENCY_LINE = "In an emergency, call your local emergency number now."
NOT_ADVICE = "It is not medical advice."

# The viewport, and whether the browser acts as a phone (touch, mobile viewport).
SIZES = [(320, 480, True), (360, 600, True), (1280, 650, False), (1920, 1080, False)]


def _box_inside(inner: dict, outer: dict) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["y"] >= outer["y"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5
    )


@pytest.mark.parametrize("width, height, phone", SIZES, ids=[f"{w}x{h}" for w, h, _ in SIZES])
def test_notice_starts_at_its_top_with_the_emergency_line_in_view(new_page, fake_stack, tmp_path, width, height, phone):
    page = new_page(
        viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone, reduced_motion="reduce"
    )  # no opening animation: the boxes are final at once
    page.goto(fake_stack["demo"] + "/")
    page.get_by_role("button", name="Chat with us").click()  # (on a phone the open panel hides it)
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    notice = dialog.locator(".cc-notice")
    expect(notice).to_be_visible()
    scroller = dialog.locator(".cc-scroll")
    assert scroller.evaluate("e => e.scrollTop") == 0, "the notice must start at its top"
    viewport = {"x": 0, "y": 0, "width": width, "height": height}
    visible_area = scroller.bounding_box()
    parts = {
        "title": notice.get_by_role("heading", name="Before you start"),
        "not medical advice": notice.get_by_text(NOT_ADVICE, exact=False),
        "emergency line": notice.get_by_text(EMERGENCY_LINE, exact=False),
    }
    page.screenshot(path=str(tmp_path / f"notice-{width}x{height}.png"), animations="disabled", caret="hide")
    for name, part in parts.items():
        expect(part).to_be_in_viewport(ratio=1)
        box = part.bounding_box()
        assert _box_inside(box, viewport), f"{name} is outside the {width}x{height} viewport: {box}"
        assert _box_inside(box, visible_area), f"{name} is scrolled out of the chat area: {box} not in {visible_area}"
    # The notice's button works at every size (the patient can get past it).
    dialog.get_by_role("button", name="OK, I understand").click()
    expect(notice).to_be_hidden()


def test_a_reload_shows_the_latest_message(new_page, fake_stack, api):
    page = new_page(viewport={"width": 1280, "height": 650}, reduced_motion="reduce")
    page.goto(fake_stack["demo"] + "/")
    dialog = open_widget(page)
    dialog.get_by_role("button", name="OK, I understand").click()
    for n in range(1, 7):
        send(page, f"question number {n}")
        expect(bot_messages(page)).to_have_count(n)
    scroller = dialog.locator(".cc-scroll")
    assert scroller.evaluate("e => e.scrollHeight > e.clientHeight + 100"), "the history must be longer than the panel"
    page.reload()
    expect(page.get_by_role("dialog")).to_be_visible()
    last = bot_messages(page).last
    expect(last).to_contain_text("You wrote: question number 6")
    expect(last).to_be_in_viewport(ratio=1)
    assert _box_inside(last.bounding_box(), page.locator("#clinic-chat .cc-scroll").bounding_box())
    expect(bot_messages(page).first).not_to_be_in_viewport()


DESKTOPS = [(1280, 800), (1366, 768), (1440, 900), (1920, 1080)]


@pytest.mark.parametrize("width, height", DESKTOPS, ids=[f"{w}x{h}" for w, h in DESKTOPS])
def test_desktop_panel_is_tall_and_its_title_fits_on_one_line(new_page, fake_stack, width, height):
    page = new_page(viewport={"width": width, "height": height}, reduced_motion="reduce")
    page.goto(fake_stack["demo"] + "/")
    dialog = open_widget(page)
    panel = dialog.bounding_box()
    assert panel["y"] >= 0 and panel["y"] + panel["height"] <= height
    assert panel["height"] >= min(700, height - 110), f"panel only {panel['height']}px high at {width}x{height}"
    title = dialog.get_by_role("heading", name="Example Spine Clinic")
    one_line, height_px, clipped = title.evaluate(
        "e => [parseFloat(getComputedStyle(e).lineHeight), e.getBoundingClientRect().height,"
        " e.scrollWidth > e.clientWidth]"
    )
    assert height_px < 1.5 * one_line, f"the title wraps: {height_px}px for a {one_line}px line"
    assert not clipped, "the title is cut off"
