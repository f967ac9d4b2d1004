"""The report's arithmetic on hand-made records (``bot.reports.figures`` and ``unmatched``);
the whole report on a real database is in tests/integration/test_report.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.reports import duration, percent
from bot.reports import unmatched as unmatched_module
from bot.reports.figures import Durations, Outcome, compute, outcome, percentile
from bot.reports.unmatched import group_unmatched
from bot.storage.reports import ReportData
from flows.learning import Unmatched, UnmatchedReason
from flows.model import (
    ChatId,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketId,
    TicketStatus,
    UserId,
)
from flows.turn import Localised
from knowledge.schema import Entry, EntryId, KnowledgeBase, Thresholds
from tests.unit.fakes import ScriptedMatcher

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
K = TicketEventKind
AGENT = UserId(7)


def ticket(status: TicketStatus) -> Ticket:
    return Ticket(ChatId(1), "words", status, T0, T0, id=TicketId(1))


def events(*steps: tuple[TicketEventKind, UserId | None]) -> list[TicketEvent]:
    return [
        TicketEvent(TicketId(1), kind, T0 + timedelta(minutes=n), actor)
        for n, (kind, actor) in enumerate([(K.OPENED, None), *steps])
    ]


@pytest.mark.parametrize(
    ("status", "steps", "expected"),
    [
        # the customer's "yes": solved by the bot
        (TicketStatus.RESOLVED, [(K.FIX_SHOWN, None), (K.RESOLVED, None)], Outcome.BOT_RESOLVED),
        # ... and closed quietly when the follow-up went unanswered: still the bot's
        (TicketStatus.CLOSED, [(K.RESOLVED, None), (K.CLOSED, None)], Outcome.BOT_RESOLVED),
        # an agent's /fix, then the customer's "yes": a person took part
        (
            TicketStatus.RESOLVED,
            [(K.AGENT_REPLIED, AGENT), (K.FIX_SHOWN, None), (K.RESOLVED, None)],
            Outcome.AGENT_RESOLVED,
        ),
        # a replacement request, then an agent's /resolve (no hand-off event)
        (
            TicketStatus.RESOLVED,
            [(K.REPLACEMENT_REQUESTED, None), (K.RESOLVED, AGENT)],
            Outcome.AGENT_RESOLVED,
        ),
        # solved by the bot, reopened, closed by an agent unsolved
        (
            TicketStatus.CLOSED,
            [(K.RESOLVED, None), (K.REOPENED, None), (K.CLOSED, AGENT)],
            Outcome.CLOSED,
        ),
        # reopened after a replacement: open again, whatever happened before
        (
            TicketStatus.REOPENED,
            [(K.REPLACEMENT_APPROVED, AGENT), (K.REOPENED, None)],
            Outcome.OPEN,
        ),
        (TicketStatus.CLOSED, [(K.ESCALATED, None), (K.CLOSED, AGENT)], Outcome.CLOSED),
        (TicketStatus.CANCELLED, [(K.FIX_SHOWN, None)], Outcome.CLOSED),
        (TicketStatus.WAITING_AGENT, [(K.ESCALATED, None)], Outcome.OPEN),
    ],
)
def test_where_a_ticket_stands(
    status: TicketStatus,
    steps: list[tuple[TicketEventKind, UserId | None]],
    expected: Outcome,
) -> None:
    assert outcome(ticket(status), events(*steps)) is expected


def test_a_hand_off_counts_once_with_its_first_reason_and_the_reply_after_it() -> None:
    """An agent may answer before a hand-off (about a replacement request) and a ticket may be
    handed off twice: the first hand-off's reason, and the first reply after it, count."""
    history = [
        TicketEvent(TicketId(1), K.OPENED, T0),
        TicketEvent(TicketId(1), K.AGENT_REPLIED, T0 + timedelta(minutes=5), AGENT),
        TicketEvent(TicketId(1), K.ESCALATED, T0 + timedelta(minutes=10), None, "asked"),
        TicketEvent(TicketId(1), K.AGENT_REPLIED, T0 + timedelta(minutes=12), AGENT),
        TicketEvent(TicketId(1), K.ESCALATED, T0 + timedelta(minutes=20), None, "not_fixed"),
        TicketEvent(TicketId(1), K.AGENT_REPLIED, T0 + timedelta(minutes=21), AGENT),
    ]
    data = ReportData(
        T0, T0 + timedelta(days=1), (ticket(TicketStatus.WITH_AGENT),), tuple(history), (), ()
    )
    figures = compute(data, knowledge=KnowledgeBase(()))
    assert (figures.handed_off, dict(figures.handoff_reasons)) == (1, {"asked": 1})
    assert figures.first_response == Durations(count=1, median=120.0, p90=120.0)


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([1.0, 3.0], 0.5) == 2.0
    assert percentile([30.0, 3600.0, 600.0], 0.5) == 600.0
    assert percentile([30.0, 600.0, 3600.0], 0.9) == pytest.approx(3000.0)
    assert percentile([float(n) for n in range(1, 11)], 0.9) == pytest.approx(9.1)


def test_durations_and_shares_as_people_read_them() -> None:
    assert [duration(s) for s in (None, 0.4, 59.4, 61, 3599, 3600, 3660, 86400, 90000)] == [
        "–",
        "0 s",
        "59 s",
        "1 min",
        "1 h",
        "1 h",
        "1 h 1 min",
        "1 d",
        "1 d 1 h",
    ]
    assert (percent(None), percent(0.1818), percent(1.0)) == ("–", "18%", "100%")


# ---- unmatched questions --------------------------------------------------------------

KB = KnowledgeBase(
    (Entry(EntryId("ship"), "Shipping abroad", "P", ("do you ship abroad",), "We do."),)
)
BANDS = Thresholds(answer=60.0, suggest=40.0, margin=5.0)


def asked(text: str, language: str | None = None, minutes: int = 0) -> Unmatched:
    at = T0 + timedelta(minutes=minutes)
    return Unmatched(ChatId(1), text, UnmatchedReason.UNKNOWN, at, language)


def test_a_group_close_to_an_entry_brings_it_new_symptoms() -> None:
    matcher = ScriptedMatcher(
        {"do you ship to canada": [("ship", 50.0)], "do you ship to norway": [("ship", 40.0)]},
        BANDS,
    )
    found = group_unmatched(
        [asked("do you ship to canada"), asked("do you ship to norway")],
        knowledge=KB,
        matcher=matcher,
    )
    [group] = found.groups
    assert group.closest is not None
    assert (group.closest.entry_id, group.closest.title, group.closest.score) == (
        "ship",
        "Shipping abroad",
        45.0,  # the mean over the examples
    )
    assert group.advice == "new symptoms for ship"


def test_a_group_far_from_every_entry_is_a_candidate_for_a_new_entry() -> None:
    matcher = ScriptedMatcher(
        {"gift card please": [("ship", 45.0)], "gift card pls": [("ship", 30.0)]}, BANDS
    )
    found = group_unmatched(
        [asked("gift card please"), asked("gift card pls")], knowledge=KB, matcher=matcher
    )
    [group] = found.groups
    assert group.closest is not None and group.closest.score == 37.5  # below suggest (40)
    assert group.advice == "candidate for a new entry"
    nothing = group_unmatched([asked("zzz")], knowledge=KB, matcher=ScriptedMatcher({}, BANDS))
    assert nothing.groups[0].closest is None
    assert nothing.groups[0].advice == "candidate for a new entry"


def test_a_translated_language_is_grouped_and_matched_on_its_own() -> None:
    english = ScriptedMatcher({"do you ship abroad": [("ship", 90.0)]}, BANDS)
    russian = ScriptedMatcher({"доставка за границу": [("ship", 70.0)]}, BANDS)
    found = group_unmatched(
        [
            asked("доставка за границу", "ru-RU"),
            asked("do you ship abroad", "en"),
            asked("доставка за границу", "ru"),
        ],
        knowledge=KB,
        matcher=english,
        localised={"ru": Localised(KB, russian, BANDS)},
    )
    assert [(g.size, g.language, g.examples) for g in found.groups] == [
        (2, "ru", ("доставка за границу",)),
        (1, None, ("do you ship abroad",)),
    ]
    assert russian.queries == ["доставка за границу"]
    assert english.queries == ["do you ship abroad"]


def test_only_the_latest_questions_are_grouped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unmatched_module, "GROUPED_AT_MOST", 3)
    texts = ["coffee tastes burnt", "lid is stuck", "manual missing", "box was wet", "no receipt"]
    questions = [asked(text, minutes=n) for n, text in enumerate(texts)]
    notes: list[str] = []
    found = group_unmatched(
        questions, knowledge=KB, matcher=ScriptedMatcher({}, BANDS), progress=notes.append
    )
    assert (found.count, found.grouped) == (5, 3)
    assert sorted(g.examples[0] for g in found.groups) == [
        "box was wet",
        "manual missing",
        "no receipt",
    ]
    assert notes == ["grouping 3 unmatched questions", "finding the closest entries for 3 groups"]


def test_examples_are_the_most_asked_first_and_three_at_most() -> None:
    texts = [
        "my gift card",
        "gift card",
        "my gift card",
        "the gift card",
        "a gift card",
        "gift card",
    ]
    found = group_unmatched(
        [asked(t, minutes=n) for n, t in enumerate(texts)],
        knowledge=KB,
        matcher=ScriptedMatcher({}, BANDS),
    )
    assert [(g.size, g.examples) for g in found.groups] == [
        (6, ("my gift card", "gift card", "the gift card"))
    ]
