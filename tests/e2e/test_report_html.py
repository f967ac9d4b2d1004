"""`supportbot report --html` as an admin opens it: the real command writes the page, and
Debian's headless Chromium renders it with no network; plotly must have drawn every chart,
with a bar for each figure of the seeded week."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from bot.storage import make_engine, upgrade
from tests.report_seed import HOSTILE, seed

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium on PATH: install Debian's chromium (apt-get install chromium) to render"
    " the HTML report in a browser",
)
CHARTS = ("chart-days", "chart-csat", "chart-entries", "chart-unmatched")
BAR = re.compile(r"M([\d.]+),([\d.]+)V([\d.]+)H([\d.]+)V([\d.]+)Z")


@dataclass
class Chart:
    svgs: int = 0  # plotly's <svg class="main-svg"> layers
    bars: list[tuple[float, float]] = field(default_factory=list)  # (width, height), pixels

    def lengths(self, horizontal: bool = False) -> list[float]:
        """How long each bar was drawn: its height, or its width for horizontal bars."""
        return [width if horizontal else height for width, height in self.bars]

    texts: list[str] = field(default_factory=list)  # what its <text> elements read


class RenderedPage(HTMLParser):
    """What Chromium drew: per chart its svg layers, bars and texts; every script, image,
    link and anchor; the table cells' text."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, Chart] = {}
        self.scripts: list[dict[str, str | None]] = []
        self.images: list[dict[str, str | None]] = []
        self.links: list[dict[str, str | None]] = []
        self.anchors: list[dict[str, str | None]] = []
        self.cells: list[str] = []
        self._chart: Chart | None = None
        self._in_point = False
        self._in_text = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if found.get("id") in CHARTS:
            self._chart = self.charts[str(found["id"])] = Chart()
        elif tag == "script":
            self.scripts.append(found)
        elif tag in ("img", "image"):
            self.images.append(found)
        elif tag == "link":
            self.links.append(found)
        elif tag == "a":
            self.anchors.append(found)
        elif tag == "td":
            self._cell = []
        if self._chart is None:
            return
        if tag == "svg" and "main-svg" in classes:
            self._chart.svgs += 1
        elif tag == "text":
            self._chart.texts.append("")
            self._in_text = True
        elif tag == "g" and "point" in classes:
            self._in_point = True
        elif tag == "path" and self._in_point:
            shape = BAR.fullmatch(found.get("d") or "")
            assert shape is not None, f"not a bar: {found.get('d')}"
            x0, y0, y1, x1, _ = (float(v) for v in shape.groups())
            self._chart.bars.append((abs(x1 - x0), abs(y1 - y0)))
            self._in_point = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._chart is not None and self._in_text:
            self._chart.texts[-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "text":
            self._in_text = False
        if tag == "td" and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None


def report(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """The seeded week, then `supportbot report --json --html` on it as a subprocess."""
    url = f"sqlite:///{tmp_path / 'week.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seed(engine)
    engine.dispose()
    page = tmp_path / "report.html"
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env |= {"DATABASE_URL": url, "MATCHER": "lexical", "TIMEZONE": "UTC"}
    week = ["--since", "2026-11-02", "--until", "2026-11-09"]
    done = subprocess.run(
        [sys.executable, "-m", "bot", "report", *week, "--json", "--html", str(page)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return page, json.loads(done.stdout)


def render(page: Path, profile: Path) -> RenderedPage:
    """The DOM once the page's scripts ran, with every network request refused."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--proxy-server=127.0.0.1:9",  # nothing listens there: no request gets out
            "--virtual-time-budget=10000",
            "--window-size=1280,2000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    parsed = RenderedPage()
    parsed.feed(done.stdout)
    return parsed


@needs_chromium
def test_the_charts_are_drawn_offline_with_a_bar_per_figure(tmp_path: Path) -> None:
    page, figures = report(tmp_path)
    source = page.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img)\b[^>]*\b(src|href)=", source)
    rendered = render(page, tmp_path / "chromium")

    assert set(rendered.charts) == set(CHARTS)
    for name, chart in rendered.charts.items():
        assert chart.svgs >= 1, f"plotly drew nothing in {name}"
    bars = {
        name: chart.lengths("entries" in name or "unmatched" in name)
        for name, chart in rendered.charts.items()
    }
    # tickets per day: 7 days x 5 outcomes, 10 of them with tickets (tests/report_seed.py)
    days = figures["days"]
    assert len(bars["chart-days"]) == 7 * 5
    assert (
        sum(b > 0 for b in bars["chart-days"])
        == 10
        == sum(1 for d in days for k, v in d.items() if k != "date" and v)
    )
    # CSAT: a bar per rating 1-5; ratings 2, 4 and 5 were given
    assert len(bars["chart-csat"]) == 5 and sum(b > 0 for b in bars["chart-csat"]) == 3
    # failing entries: only headphones-bluetooth-pairing failed (twice)
    assert len(bars["chart-entries"]) == 1 == sum(e["failed"] > 0 for e in figures["entries"])
    # unmatched groups: one bar each, as long as the group is big (3, 2, 1, 1)
    sizes = [g["size"] for g in figures["unmatched"]["groups"]]
    assert sizes == [3, 2, 1, 1]
    drawn = sorted(bars["chart-unmatched"], reverse=True)
    assert len(drawn) == 4 and drawn[0] == pytest.approx(3 * drawn[2], rel=0.01)
    assert drawn[1] == pytest.approx(2 * drawn[2], rel=0.01) and drawn[2] == drawn[3]

    # nothing is fetched, and the customer's "<img ...>" stayed text
    assert all(not script.get("src") for script in rendered.scripts)
    assert rendered.links == rendered.images == rendered.anchors == []
    assert f"“{HOSTILE}”" in rendered.cells
    assert f"#4 {HOSTILE}" in rendered.charts["chart-unmatched"].texts
    assert "11" in rendered.cells  # the tickets, in the first table
