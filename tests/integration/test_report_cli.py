"""`supportbot report`: what an admin types, and what they read."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from bot import report_cli
from bot.cli import main
from bot.period import moment
from bot.storage import SqlUnitOfWork, downgrade
from flows.learning import Unmatched, UnmatchedReason
from flows.model import ChatId
from tests.report_seed import HOSTILE, seed
from tests.unit.fakes import FixedClock

WEEK = ["--since", "2026-11-02", "--until", "2026-11-09"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("KNOWLEDGE_DIR", "MATCH_ANSWER_THRESHOLD", "MATCH_SUGGEST_THRESHOLD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MATCHER", "lexical")
    monkeypatch.setenv("TIMEZONE", "UTC")
    monkeypatch.setenv("COLUMNS", "200")  # rich's width when not a terminal


@pytest.fixture
def week(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The seeded week (tests/report_seed.py) in the database DATABASE_URL names."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    seed(engine)
    return engine


def test_json_has_the_figures(week: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", *WEEK, "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert list(figures) == [
        "period",
        "tickets",
        "bot_resolved",
        "handoffs",
        "first_response",
        "resolution",
        "csat",
        "reopen",
        "replacements",
        "followups",
        "entries",
        "days",
        "unmatched",
    ]
    assert figures["period"]["since"] == "2026-11-02T00:00:00+00:00"
    assert figures["tickets"]["total"] == 11
    assert figures["bot_resolved"] == {"count": 2, "share": 0.1818}
    assert [g["size"] for g in figures["unmatched"]["groups"]] == [3, 2, 1, 1]


def test_the_tables_read_the_figures(week: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    with SqlUnitOfWork(week) as uow:  # customers' words are never rich markup
        at = datetime(2026, 11, 3, tzinfo=UTC)
        uow.unmatched.add(Unmatched(ChatId(1), "[red]alarm[/red]", UnmatchedReason.UNKNOWN, at))
        uow.commit()
    assert main(["report", *WEEK]) == 0
    out = capsys.readouterr().out
    for line in (
        "Tickets                 │ 11",
        "Solved by the bot       │ 18% (2)",
        "Handed to a person      │ 36% (4)",
        "First response (median) │ 10 min",
        "Resolution (median)     │ 30 min",
        "CSAT                    │ 3.7 of 5 (3 ratings)",
        "Reopened                │ 20% (1)",
        "Unmatched questions     │ 8",
    ):
        assert line in out
    assert "headphones-bluetooth-pairing" in out and "(not in the knowledge now)" in out
    assert "“[red]alarm[/red]”" in out
    assert "“do you ship to Canada”" in out and "candidate for a new entry" in out


def test_html_is_written_beside_the_tables(
    week: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "report.html"
    assert main(["report", *WEEK, "--html", str(page)]) == 0
    out, err = capsys.readouterr()
    assert "Solved by the bot" in out
    assert f"wrote {page}" in err
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and 'id="chart-days"' in html
    body = html.split("</head>", 1)[1]  # after plotly.js, which has "<img" in its code
    assert escape(HOSTILE) in body
    assert "<img" not in body and "<a " not in body


def test_a_fresh_database_has_no_tickets_in_the_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    assert main(["report"]) == 0
    assert "no tickets in this period" in capsys.readouterr().out
    assert main(["report", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tickets"]["total"] == 0


def test_a_database_from_an_older_version_asks_for_an_upgrade(
    week: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    downgrade(week, "0006")
    assert main(["report"]) == 2
    assert "run supportbot db upgrade" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--since", "soon-ish"], "cannot read 'soon-ish' as a time"),
        (["--since", "1d", "--until", "2d"], "UTC is empty: its start must come before its end"),
        (["--since", "0d"], "UTC is empty"),
        (["--top", "0"], "--top must be at least 1"),
    ],
)
def test_what_cannot_be_done_is_said(
    args: list[str],
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    assert main(["report", *args]) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


NOW = datetime(2026, 11, 29, 15, 30, tzinfo=UTC)


def test_a_bare_number_is_days(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    monkeypatch.setattr(report_cli, "system_clock", lambda: FixedClock(NOW))
    assert main(["report", "--since", "7", "--json"]) == 0  # not the 7th of a month
    assert json.loads(capsys.readouterr().out)["period"] == {
        "since": "2026-11-22T15:30:00+00:00",
        "until": "2026-11-29T15:30:00+00:00",
        "timezone": "UTC",
    }


def test_since_and_until_read_durations_and_dates() -> None:
    assert moment("7d", now=NOW, zone=ZoneInfo("UTC")) == NOW - timedelta(days=7)
    assert moment("24h", now=NOW, zone=ZoneInfo("UTC")) == NOW - timedelta(hours=24)
    assert moment("1h30m", now=NOW, zone=ZoneInfo("UTC")) == NOW - timedelta(minutes=90)
    # a date is its midnight where the team is
    assert moment("2026-11-01", now=NOW, zone=ZoneInfo("Europe/Berlin")) == datetime(
        2026, 10, 31, 23, tzinfo=UTC
    )
    assert moment("2026-11-01T12:00", now=NOW, zone=ZoneInfo("UTC")) == datetime(
        2026, 11, 1, 12, tzinfo=UTC
    )
    yesterday = moment("yesterday", now=NOW, zone=ZoneInfo("UTC"))
    assert yesterday.date() == datetime(2026, 11, 28).date()
    with pytest.raises(ValueError, match="30d, 24h or 2w"):
        moment("whenever", now=NOW, zone=ZoneInfo("UTC"))
