"""The knowledge loop's repositories on SQL: unmatched questions and proposed symptoms."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import col, select

from bot.storage.session import SessionSource, insert
from bot.storage.tables import SuggestionRow, UnmatchedRow
from flows.learning import (
    Suggestion,
    SuggestionSource,
    SuggestionStatus,
    Unmatched,
    UnmatchedReason,
)
from flows.model import ChatId, TicketId


def text_key(text: str) -> str:
    """The words as compared for "already proposed": case and spacing folded."""
    return " ".join(text.casefold().split())[:500]


class SqlUnmatched:
    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def add(self, record: Unmatched) -> None:
        self._session().add(
            UnmatchedRow(
                at=record.at,
                chat_id=record.chat_id,
                ticket_id=record.ticket_id,
                reason=UnmatchedReason(record.reason).value,
                language=record.language,
                text=record.text,
            )
        )

    def between(self, since: datetime | None, until: datetime | None = None) -> list[Unmatched]:
        """The questions kept in [since, until), oldest first."""
        stmt = select(UnmatchedRow).order_by(col(UnmatchedRow.at), col(UnmatchedRow.id))
        if since is not None:
            stmt = stmt.where(col(UnmatchedRow.at) >= since)
        if until is not None:
            stmt = stmt.where(col(UnmatchedRow.at) < until)
        return [
            Unmatched(
                chat_id=ChatId(row.chat_id),
                text=row.text,
                reason=UnmatchedReason(row.reason),
                at=row.at,
                language=row.language,
                ticket_id=TicketId(row.ticket_id) if row.ticket_id is not None else None,
                id=row.id,
            )
            for row in self._session().scalars(stmt)
        ]


class SqlSuggestions:
    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def add(self, suggestion: Suggestion) -> bool:
        """One statement: two replicas proposing the same words cannot both store them."""
        session = self._session()
        stmt = (
            insert(session, SuggestionRow)
            .values(
                at=suggestion.at,
                entry_id=suggestion.entry_id,
                language=suggestion.language or "",
                text=suggestion.text,
                text_key=text_key(suggestion.text),
                source=SuggestionSource(suggestion.source).value,
                ticket_id=suggestion.ticket_id,
                status=SuggestionStatus(suggestion.status).value,
            )
            .on_conflict_do_nothing(index_elements=["entry_id", "language", "text_key"])
            .returning(col(SuggestionRow.id))
        )
        return session.execute(stmt).scalar_one_or_none() is not None

    def list(self, status: SuggestionStatus | None = SuggestionStatus.PENDING) -> list[Suggestion]:
        """Suggestions with ``status`` (None: all), oldest first."""
        stmt = select(SuggestionRow).order_by(col(SuggestionRow.id))
        if status is not None:
            stmt = stmt.where(col(SuggestionRow.status) == status.value)
        return [self._suggestion(row) for row in self._session().scalars(stmt)]

    def decide(self, ids: Iterable[int], status: SuggestionStatus, at: datetime) -> int:
        """Mark pending suggestions applied or rejected; returns how many changed."""
        changed = 0
        for row in self._session().scalars(
            select(SuggestionRow).where(
                col(SuggestionRow.id).in_(list(ids)),
                col(SuggestionRow.status) == SuggestionStatus.PENDING.value,
            )
        ):
            row.status = status.value
            row.decided_at = at
            changed += 1
        return changed

    @staticmethod
    def _suggestion(row: SuggestionRow) -> Suggestion:
        return Suggestion(
            entry_id=row.entry_id,
            text=row.text,
            source=SuggestionSource(row.source),
            at=row.at,
            language=row.language or None,
            ticket_id=TicketId(row.ticket_id) if row.ticket_id is not None else None,
            status=SuggestionStatus(row.status),
            id=row.id,
        )
