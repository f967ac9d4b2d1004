"""Tickets with their transcript and history, read page by page for ``supportbot export``.

One short session per page: a large export never holds a transaction (or 100,000 tickets)
at once, and what a page yields is complete: each ticket comes with all of its lines and
events.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlmodel import col, select

from bot.storage.conversations import ticket_event, transcript_line
from bot.storage.tables import CustomerRow, MessageRow, TicketEventRow, TicketRow
from bot.storage.tickets import ticket_of
from flows.model import Ticket, TicketEvent, TranscriptLine

PAGE_SIZE = 500


@dataclass(frozen=True)
class TicketRecord:
    """A ticket as exported: its customer's language, transcript and events, oldest first."""

    ticket: Ticket
    language: str | None  # the one the customer chose (/language), else Telegram's
    transcript: tuple[TranscriptLine, ...]
    events: tuple[TicketEvent, ...]


def tickets_created(
    engine: Engine, since: datetime, until: datetime, *, page_size: int = PAGE_SIZE
) -> Iterator[TicketRecord]:
    """Tickets created in [since, until), by id; ``page_size`` tickets read at a time."""
    after = 0
    while True:
        with Session(engine) as session:
            page = _page(session, since, until, after, page_size)
        yield from page  # the session is closed while the caller writes them out
        if len(page) < page_size:
            return
        after = page[-1].ticket.id or 0


def _page(
    session: Session, since: datetime, until: datetime, after: int, size: int
) -> list[TicketRecord]:
    rows = session.execute(
        select(TicketRow, CustomerRow.chosen_language, CustomerRow.language)
        .outerjoin(CustomerRow, col(CustomerRow.chat_id) == col(TicketRow.chat_id))
        .where(
            col(TicketRow.created_at) >= since,
            col(TicketRow.created_at) < until,
            col(TicketRow.id) > after,
        )
        .order_by(col(TicketRow.id))
        .limit(size)
    ).all()
    ids = [row[0].id for row in rows]
    lines: dict[int, list[TranscriptLine]] = {i: [] for i in ids if i is not None}
    for message in session.scalars(
        select(MessageRow)
        .where(col(MessageRow.ticket_id).in_(ids))
        .order_by(col(MessageRow.ticket_id), col(MessageRow.id))
    ):
        assert message.ticket_id is not None
        lines[message.ticket_id].append(transcript_line(message))
    events: dict[int, list[TicketEvent]] = {i: [] for i in lines}
    for event in session.scalars(
        select(TicketEventRow)
        .where(col(TicketEventRow.ticket_id).in_(ids))
        .order_by(col(TicketEventRow.ticket_id), col(TicketEventRow.at), col(TicketEventRow.id))
    ):
        events[event.ticket_id].append(ticket_event(event))
    records = []
    for ticket_row, chosen, telegram in rows:
        ticket = ticket_of(ticket_row)
        assert ticket.id is not None
        records.append(
            TicketRecord(
                ticket=ticket,
                language=chosen or telegram,
                transcript=tuple(lines[ticket.id]),
                events=tuple(events[ticket.id]),
            )
        )
    return records
