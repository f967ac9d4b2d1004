"""Unmatched questions and proposed symptoms on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from bot.storage import SqlUnitOfWork
from flows.learning import (
    Suggestion,
    SuggestionSource,
    SuggestionStatus,
    Unmatched,
    UnmatchedReason,
)
from flows.model import ChatId, TicketId

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_unmatched_questions_come_back_by_period_oldest_first(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        for day, text in enumerate(["coffee tastes burnt", "where is the manual", "lid is stuck"]):
            uow.unmatched.add(
                Unmatched(ChatId(7), text, UnmatchedReason.UNKNOWN, T0 + timedelta(days=day), "ru")
            )
        uow.unmatched.add(
            Unmatched(ChatId(8), "x", UnmatchedReason.FIXES_FAILED, T0, None, TicketId(3))
        )
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        everything = uow.unmatched.between(None)
        later = uow.unmatched.between(T0 + timedelta(days=1), T0 + timedelta(days=2))
    assert [u.text for u in everything] == [
        "coffee tastes burnt",
        "x",
        "where is the manual",
        "lid is stuck",
    ]
    assert everything[0].language == "ru" and everything[1].ticket_id == 3
    assert everything[1].reason is UnmatchedReason.FIXES_FAILED
    assert [u.text for u in later] == ["where is the manual"]  # until is exclusive


def test_the_same_words_are_proposed_once_per_entry_and_language(engine: Engine) -> None:
    def proposal(text: str, entry: str = "pairing", language: str | None = None) -> Suggestion:
        return Suggestion(entry, text, SuggestionSource.PICKED, T0, language, TicketId(1))

    with SqlUnitOfWork(engine) as uow:
        added = [
            uow.suggestions.add(proposal("cant pair my buds")),
            uow.suggestions.add(proposal("Cant  pair my BUDS")),  # the same words
            uow.suggestions.add(proposal("cant pair my buds", entry="reset")),
            uow.suggestions.add(proposal("cant pair my buds", language="ru")),
        ]
        uow.commit()
    assert added == [True, False, True, True]
    with SqlUnitOfWork(engine) as uow:
        pending = uow.suggestions.list()
        first = pending[0]
        assert uow.suggestions.decide([first.id or 0], SuggestionStatus.APPLIED, T0) == 1
        assert uow.suggestions.decide([first.id or 0], SuggestionStatus.REJECTED, T0) == 0
        uow.commit()
    assert [(s.entry_id, s.language) for s in pending] == [
        ("pairing", None),
        ("reset", None),
        ("pairing", "ru"),
    ]
    with SqlUnitOfWork(engine) as uow:
        assert len(uow.suggestions.list()) == 2
        [applied] = uow.suggestions.list(SuggestionStatus.APPLIED)
        assert applied.text == "cant pair my buds" and applied.source is SuggestionSource.PICKED
        # once decided, the same words are not proposed again
        assert not uow.suggestions.add(proposal("cant pair my buds"))
