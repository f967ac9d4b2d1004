"""``bot.reports.build`` on a real database seeded with a week whose figures are known
(``tests/report_seed.py`` tells each ticket's story)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.reports import Report, build
from bot.storage import SqlUnitOfWork
from bot.storage.reports import read_period
from bot.storage.tables import TicketEventRow
from knowledge.loader import default_knowledge_dir, load_knowledge
from knowledge.matcher import Matcher
from knowledge.schema import KnowledgeBase
from tests.report_seed import HOSTILE, SINCE, UNTIL, seed


@pytest.fixture(scope="module")
def knowledge() -> KnowledgeBase:
    return load_knowledge(default_knowledge_dir())


@pytest.fixture(scope="module")
def matcher(knowledge: KnowledgeBase) -> Matcher:
    return Matcher(knowledge)  # lexical whatever is installed: the same figures everywhere


def report(
    engine: Engine,
    knowledge: KnowledgeBase,
    matcher: Matcher,
    since: datetime = SINCE,
    until: datetime = UNTIL,
    **options: Any,
) -> Report:
    return build(engine, knowledge=knowledge, matcher=matcher, since=since, until=until, **options)


def day(
    date: str, bot: int = 0, agent: int = 0, replaced: int = 0, open_: int = 0, closed: int = 0
) -> dict[str, Any]:
    return {
        "date": date,
        "bot_resolved": bot,
        "agent_resolved": agent,
        "replaced": replaced,
        "open": open_,
        "closed": closed,
    }


def test_every_figure_of_the_seeded_week(
    engine: Engine, knowledge: KnowledgeBase, matcher: Matcher
) -> None:
    seed(engine)
    figures = report(engine, knowledge, matcher).to_json()
    unmatched = figures.pop("unmatched")
    assert figures == {
        "period": {
            "since": "2026-11-02T00:00:00+00:00",
            "until": "2026-11-09T00:00:00+00:00",
            "timezone": "UTC",
        },
        # T1-T11; the tickets opened at the end and a second before the start are not in it
        "tickets": {
            "total": 11,
            "by_status": {
                "open": 1,
                "waiting_agent": 1,
                "with_agent": 1,
                "reopened": 0,
                "replacement_requested": 1,
                "resolved": 4,
                "cancelled": 1,
                "closed": 2,
            },
        },
        "bot_resolved": {"count": 2, "share": round(2 / 11, 4)},  # T1, T2
        "handoffs": {
            "count": 4,
            "rate": round(4 / 11, 4),
            "by_reason": {"asked": 1, "no_match": 2, "not_fixed": 1},
        },
        # T5 30 s, T3 600 s, T11 3600 s; p90 between the 2nd and 3rd: 600 + 0.8 × 3000
        "first_response": {"count": 3, "median_seconds": 600.0, "p90_seconds": 3000.0},
        # T2 240, T1 300, T6 1800, T3 3660, T5 90000 (reopened: its last resolution counts);
        # p90 at rank 3.6: 3660 + 0.6 × 86340
        "resolution": {"count": 5, "median_seconds": 1800.0, "p90_seconds": 55464.0},
        "csat": {
            "count": 3,
            "average": round(11 / 3, 4),
            "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1},
        },
        "reopen": {"reopened": 1, "resolved": 5, "rate": 0.2},
        "replacements": {"requested": 3, "approved": 1, "denied": 1, "pending": 1},
        "followups": {"sent": 4, "answered": 3, "expired": 1, "unanswered": 1},
        "entries": [
            {
                "id": "headphones-bluetooth-pairing",
                "title": "Headphones do not pair over Bluetooth",
                "offered": 3,
                "fixed": 1,
                "failed": 2,
            },
            {
                "id": "headphones-wont-charge",
                "title": "Headphones do not charge",
                "offered": 3,
                "fixed": 1,
                "failed": 0,
            },
            {"id": "retired-entry", "title": None, "offered": 1, "fixed": 0, "failed": 0},
        ],
        "days": [
            day("2026-11-02", bot=2, open_=1),
            day("2026-11-03", agent=1),
            day("2026-11-04", open_=1),
            day("2026-11-05", agent=1),
            day("2026-11-06", replaced=1, closed=1),
            day("2026-11-07", open_=1, closed=1),
            day("2026-11-08", open_=1),
        ],
    }
    assert {k: v for k, v in unmatched.items() if k != "groups"} == {
        "count": 7,  # the one asked at the start is in, the one at the end is not
        "by_reason": {"unknown": 5, "none_fit": 1, "fixes_failed": 1},
        "grouped": 7,
    }
    groups = unmatched["groups"]
    assert [(g["size"], g["examples"]) for g in groups] == [
        (3, ["do you ship to Canada", "Do you ship to Canada?", "do you ship to Norway"]),
        (2, ["how do I use my gift card", "how can I use a gift card"]),
        (1, ["my headphones will not pair with my laptop"]),
        (1, [HOSTILE]),
    ]
    assert groups[0]["reasons"] == {"unknown": 2, "none_fit": 1, "fixes_failed": 0}
    assert [g["method"] for g in groups] == ["words"] * 4


def test_groups_say_which_entry_comes_closest(
    engine: Engine, knowledge: KnowledgeBase, matcher: Matcher
) -> None:
    seed(engine)
    shipping, _, pairing, _ = report(engine, knowledge, matcher).groups
    suggest = matcher.thresholds.suggest
    assert shipping.closest is not None and shipping.closest.score < suggest
    assert shipping.advice == "candidate for a new entry"
    assert pairing.closest is not None
    assert pairing.closest.entry_id == "headphones-bluetooth-pairing"
    assert pairing.closest.title == "Headphones do not pair over Bluetooth"
    assert pairing.closest.score >= suggest
    assert pairing.advice == "new symptoms for headphones-bluetooth-pairing"
    # the closest score is the matcher's mean over the group's examples
    expected = matcher.match("my headphones will not pair with my laptop").candidates[0].score
    assert pairing.closest.score == round(expected, 1)


def test_top_limits_the_groups(engine: Engine, knowledge: KnowledgeBase, matcher: Matcher) -> None:
    seed(engine)
    assert [g.size for g in report(engine, knowledge, matcher, top=2).groups] == [3, 2]


def test_days_begin_at_midnight_where_the_team_is(
    engine: Engine, knowledge: KnowledgeBase, matcher: Matcher
) -> None:
    seed(engine)
    days = report(engine, knowledge, matcher, timezone="America/New_York").to_json()["days"]
    # T11, opened at 00:00 UTC on the 2nd, is 19:00 on the 1st in New York; T10, opened at
    # 23:59:59 UTC on the 8th, is 18:59:59 on the 8th: the period spans eight local days
    assert [d["date"] for d in days] == [f"2026-11-0{n}" for n in range(1, 9)]
    assert days[0] == day("2026-11-01", open_=1)
    assert days[1] == day("2026-11-02", bot=2)
    assert days[-1] == day("2026-11-08", open_=1)


def test_an_empty_period_gives_zeros_and_nothing_to_divide(
    engine: Engine, knowledge: KnowledgeBase, matcher: Matcher
) -> None:
    seed(engine)
    since = datetime(2026, 12, 1, tzinfo=UTC)
    empty = report(engine, knowledge, matcher, since=since, until=since + timedelta(days=2))
    figures = empty.to_json()
    assert figures["tickets"]["total"] == 0
    assert set(figures["tickets"]["by_status"].values()) == {0}
    assert figures["bot_resolved"] == {"count": 0, "share": None}
    assert figures["handoffs"] == {"count": 0, "rate": None, "by_reason": {}}
    assert figures["first_response"] == {"count": 0, "median_seconds": None, "p90_seconds": None}
    assert figures["resolution"] == {"count": 0, "median_seconds": None, "p90_seconds": None}
    assert figures["csat"] == {
        "count": 0,
        "average": None,
        "distribution": dict.fromkeys("12345", 0),
    }
    assert figures["reopen"] == {"reopened": 0, "resolved": 0, "rate": None}
    assert set(figures["replacements"].values()) == set(figures["followups"].values()) == {0}
    assert figures["entries"] == []
    assert figures["days"] == [day("2026-12-01"), day("2026-12-02")]
    assert figures["unmatched"] == {
        "count": 0,
        "by_reason": {"unknown": 0, "none_fit": 0, "fixes_failed": 0},
        "grouped": 0,
        "groups": [],
    }
    assert empty.headline() == [
        ("Tickets", "no tickets in this period"),
        ("Unmatched questions", "0"),
    ]


def test_the_headline_reads_the_figures(
    engine: Engine, knowledge: KnowledgeBase, matcher: Matcher
) -> None:
    seed(engine)
    assert report(engine, knowledge, matcher).headline() == [
        ("Tickets", "11"),
        ("Solved by the bot", "18% (2)"),
        ("Handed to a person", "36% (4)"),
        ("First response (median)", "10 min"),
        ("Resolution (median)", "30 min"),
        ("CSAT", "3.7 of 5 (3 ratings)"),
        ("Reopened", "20% (1)"),
        ("Unmatched questions", "7"),
    ]


def test_the_running_bot_passes_its_unit_of_work_factory(
    engine: Engine, knowledge: KnowledgeBase, matcher: Matcher
) -> None:
    seed(engine)
    factory = functools.partial(SqlUnitOfWork, engine)  # what App.new_uow is
    through_factory = build(factory, knowledge=knowledge, matcher=matcher, since=SINCE, until=UNTIL)
    assert through_factory.to_json() == report(engine, knowledge, matcher).to_json()


def test_a_database_never_migrated_has_no_records(bare_engine: Engine) -> None:
    data = read_period(bare_engine, SINCE, UNTIL)
    assert (data.tickets, data.events, data.followups, data.unmatched) == ((), (), (), ())


def test_events_of_kinds_this_version_does_not_know_are_left_out(engine: Engine) -> None:
    seed(engine)
    known = read_period(engine, SINCE, UNTIL).events
    with Session(engine) as session:  # as a newer version of the bot might have written it
        session.add(TicketEventRow(ticket_id=1, at=SINCE, kind="from_the_future"))
        session.commit()
    assert read_period(engine, SINCE, UNTIL).events == known
