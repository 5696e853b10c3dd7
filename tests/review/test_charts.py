"""review/charts.py: accessible SVG whose bars are proportional to the numbers and whose text is escaped."""

from __future__ import annotations

import re

import pytest

from review import charts

pytestmark = pytest.mark.unit


def test_axis_maximum_is_round():
    assert [charts.nice_max(v) for v in (0, 0.3, 3, 7, 9, 10, 11, 33, 250)] == [1, 0.4, 4, 8, 10, 10, 20, 40, 400]


def test_bar_chart_bars_match_values_and_are_labelled():
    svg = str(charts.bar_chart("Volume", "Two series", ["a", "b", "c"], [("x", [0, 5, 10]), ("y", [2, None, 4])]))
    assert svg.startswith('<svg class="chart ') and 'role="img"' in svg
    title, desc = re.search(r'aria-labelledby="(\S+) (\S+)"', svg).groups()
    assert f'<title id="{title}">Volume</title>' in svg and f'<desc id="{desc}">Two series</desc>' in svg
    bars = re.findall(r'height="([\d.]+)" data-label="(\w)" data-series="(\w)" data-value="([\d.]+)"', svg)
    assert [(label, series, float(v)) for _, label, series, v in bars] == [
        ("a", "x", 0),
        ("a", "y", 2),
        ("b", "x", 5),
        ("c", "x", 10),
        ("c", "y", 4),
    ]  # None: no bar
    ratios = {round(float(h) / float(v), 3) for h, _, _, v in bars if float(v)}
    assert len(ratios) == 1
    assert "style=" not in svg and "<script" not in svg


def test_text_is_escaped():
    svg = str(charts.hbar_chart("<b>t</b>", "d & d", ["<img src=x onerror=alert(1)>"], [3]))
    assert "<img" not in svg and "&lt;img" in svg and "&lt;b&gt;" in svg and "d &amp; d" in svg


def test_horizontal_bars_are_proportional():
    svg = str(charts.hbar_chart("t", "d", ["a", "b"], [3, 6]))
    widths = [float(w) for w in re.findall(r'<rect class="bar series-0" x="\d+" y="[\d.]+" width="([\d.]+)"', svg)]
    assert widths[1] == 2 * widths[0] > 0
