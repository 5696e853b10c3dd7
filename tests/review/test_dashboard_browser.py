"""The dashboard in headless Chromium: it is the landing page after log-in, its charts are drawn under
the app's CSP without errors, every bar says what the table under its chart says (value and height),
the CSV download works, and a group of unanswered questions becomes corrections with one click.

The run writes ``docs/dashboard.png`` (the README's screenshot) from the seeded data.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.review.conftest import seeded_database
from tests.review.dashboard_seed import make_specs, write_specs
from tests.support.review_app import PASSWORD, review_server

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "dashboard.png"
TZ = "Europe/London"


def _seed(url: str) -> None:
    write_specs(url, make_specs(TZ, datetime.now(ZoneInfo(TZ)).date()))


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dash-browser")
    with seeded_database("sqlite", tmp, _seed) as url:
        with review_server(url, tmp / "server.log", REVIEW_SECURE_COOKIES="true", REVIEW_TIMEZONE=TZ) as base:
            yield base


def bars(page, svg):
    """The bars of a chart (a CSS selector or a locator of its <svg>) with their data and drawn size."""
    svg = page.locator(svg) if isinstance(svg, str) else svg
    return svg.locator("rect.bar").evaluate_all(
        "els => els.map(e => ({label: e.dataset.label, series: e.dataset.series, value: parseFloat(e.dataset.value),"
        " height: e.getBBox().height, width: e.getBBox().width}))"
    )


def table_cells(page, chart: str):
    """{(row key, series): text} of the table under a chart (read even while its <details> is closed)."""
    return {
        (c["row"], c["series"]): c["text"]
        for c in page.eval_on_selector_all(
            f"table[data-chart={chart}] td[data-series]",
            "els => els.map(e => ({row: e.closest('tr').dataset.bucket, series: e.dataset.series,"
            " text: (e.dataset.value !== undefined ? e.dataset.value : e.textContent).trim()}))",
        )
    }


def assert_proportional(found, length: str) -> None:
    scaled = [(b[length] / b["value"]) for b in found if b["value"] > 0]
    assert scaled and max(scaled) - min(scaled) < 0.01 * max(scaled), "bar lengths are not proportional to the values"
    assert all(b[length] == pytest.approx(0, abs=0.01) for b in found if b["value"] == 0)


def test_dashboard_in_chromium(browser, app_url, tmp_path):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    page.goto(app_url + "/")  # the landing page: after logging in, the dashboard
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(app_url + "/")
    assert page.locator("h1").inner_text() == "Dashboard"
    assert TZ in page.inner_text("main")

    # every chart is an image with a name and a description
    for svg in page.locator("svg.chart").all():
        assert svg.get_attribute("role") == "img"
        ids = svg.get_attribute("aria-labelledby").split()
        assert page.locator(f"#{ids[0]}").text_content() and page.locator(f"#{ids[1]}").text_content()

    # volume: each bar's value is its table cell, and bar heights are proportional to the values
    volume = bars(page, "svg.chart-volume")
    cells = table_cells(page, "volume")
    assert len(volume) == len(cells) and volume
    for b in volume:
        assert float(cells[(b["label"], b["series"])]) == b["value"]
    for series in ("Conversations", "Patient messages"):
        assert_proportional([b for b in volume if b["series"] == series], "height")
    assert sum(b["value"] for b in volume if b["series"] == "Conversations") > 0

    # rates: each small chart against its column of the rates table
    rate_cells = table_cells(page, "rates")
    rate_svgs = page.locator("svg.chart-rate")
    assert rate_svgs.count() == 8
    checked = 0
    for i in range(rate_svgs.count()):
        found = bars(page, rate_svgs.nth(i))
        for b in found:
            assert float(rate_cells[(b["label"], b["series"])]) == b["value"]
            checked += 1
        if any(b["value"] for b in found):
            assert_proportional(found, "height")
    assert checked > 0

    # topics and unanswered groups: horizontal bars, widths proportional
    for chart, svg in (("topics", "svg.chart-topics"), ("groups", "svg.chart-groups")):
        found = bars(page, svg)
        cells = table_cells(page, chart)
        assert found and all(float(cells[(b["label"], b["series"])]) == b["value"] for b in found)
        assert_proportional(found, "width")

    # the three most common unanswered questions are on the landing page
    assert page.locator("ol.top-unanswered li").count() == 3

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": 1500})
    assert SCREENSHOT.stat().st_size > 10_000

    # the CSV download is the table
    with page.expect_download() as info:
        page.click("#volume button:has-text('Download CSV')")
    path = tmp_path / "volume.csv"
    info.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    charted = sum(b["value"] for b in volume if b["series"] == "Conversations")
    assert sum(int(r["conversations"]) for r in rows) == charted

    # weekly buckets from the range form
    page.select_option("select[name=bucket]", "week")
    page.click("form.range button:has-text('Show')")
    page.wait_for_url("**bucket=week**")
    weekly = bars(page, "svg.chart-volume")
    assert sum(b["value"] for b in weekly if b["series"] == "Patient messages") >= sum(
        b["value"] for b in volume if b["series"] == "Patient messages"
    )  # the weeks cover at least those days

    # one click turns the largest unanswered group into corrections
    page.click("nav >> text=Unanswered")
    page.wait_for_url("**/unanswered")
    group = page.locator("section.group").first
    group.locator("select[name=intent]").select_option("ask_recovery_time")
    group.locator("button:has-text('Save as training examples')").click()
    page.wait_for_url("**done=corrected**")
    page.click("nav >> text=Corrections")
    assert page.locator("table tbody tr:has-text('ask_recovery_time')").count() == 5

    assert problems == []  # no CSP violations, no script errors
    context.close()
