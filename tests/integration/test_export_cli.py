"""`supportbot export`: the tickets of a period with their transcript and events, as CSV and
JSON lines, checked to the byte on a seeded database (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

import json
import stat
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.cli import main
from bot.storage import SqlUnitOfWork, export
from bot.storage.export import TicketRecord, tickets_created
from flows.model import (
    ChatId,
    Direction,
    Person,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketId,
    TicketStatus,
    TranscriptLine,
    UserId,
)


def t(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


FEB_28 = datetime(2026, 2, 28, 23, 59, tzinfo=UTC)
PERIOD = ["--since", "2026-03-01", "--until", "2026-03-08"]


@pytest.fixture(autouse=True)
def settings_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TIMEZONE", "UTC")


def add_ticket(engine: Engine, ticket: Ticket, *lines: tuple[Direction, str, datetime]) -> int:
    with SqlUnitOfWork(engine) as uow:
        uow.tickets.add(ticket)
        assert ticket.id is not None
        for direction, text, at in lines:
            line = TranscriptLine(ticket.chat_id, direction, text, at, ticket.id)
            uow.transcript.add(line)
        uow.commit()
    return ticket.id


@pytest.fixture
def seeded(engine: Engine) -> tuple[int, int]:
    """Two tickets in the first week of March 2026, and three outside it."""
    with SqlUnitOfWork(engine) as uow:
        uow.customers.upsert(Person(ChatId(1001), 1001, "Anna", language="ru"), t(1))
        uow.customers.upsert(Person(ChatId(1002), 1002, "Ben", language="en"), t(1))
        uow.customers.choose_language(ChatId(1002), "es", t(1))
        # outside the transcript of any ticket
        uow.transcript.add(TranscriptLine(ChatId(1001), Direction.IN, "hello", t(2, 8)))
        uow.commit()
    add_ticket(engine, Ticket(ChatId(1001), "before", TicketStatus.CLOSED, FEB_28, t(1)))
    first = add_ticket(
        engine,
        Ticket(
            ChatId(1001),
            'kettle, "cold"',
            TicketStatus.RESOLVED,
            t(2, 9),
            t(3, 10),
            entry_id="kettle-cold",
            tried=[{"id": "kettle-cold", "score": 41.5, "answer": "yes"}],
            assignee_id=UserId(77),
            rating=5,
            rating_comment="great,\nспасибо",
        ),
        (Direction.IN, 'my kettle, it\'s "cold"\nhelp', t(2, 9)),
        (Direction.OUT, "Try this:\r\n1. Plug it in.", t(2, 9, 1)),
        (Direction.NOTE, "sounds upset; check the order", t(2, 9, 5)),
        (Direction.AGENT, "Bea from our team: done", t(2, 9, 6)),
    )
    second = add_ticket(
        engine,
        Ticket(
            ChatId(1002),
            "no words",
            TicketStatus.OPEN,
            t(7, 23, 59),
            t(7, 23, 59),
            order_number="NW-123456",
            purchase_date=date(2026, 2, 20),
        ),
    )
    add_ticket(engine, Ticket(ChatId(1002), "at the end", TicketStatus.OPEN, t(8), t(8)))
    with SqlUnitOfWork(engine) as uow:
        events = [
            TicketEvent(TicketId(first), TicketEventKind.RESOLVED, t(2, 9, 7), UserId(77), "agent"),
            TicketEvent(TicketId(first), TicketEventKind.OPENED, t(2, 9)),
            TicketEvent(TicketId(first), TicketEventKind.RATED, t(3, 10), detail="5"),
        ]
        for event in events:
            uow.ticket_events.add(event)
        uow.commit()
    return first, second


def test_csv_has_a_row_per_transcript_line_quoted_by_the_book(
    seeded: tuple[int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = seeded
    assert main(["export", *PERIOD, "--format", "csv"]) == 0
    captured = capsys.readouterr()
    a = (
        f"{first},T-{first:05d},2026-03-02T09:00:00+00:00,2026-03-03T10:00:00+00:00,resolved,"
        f'1001,ru,kettle-cold,"kettle, ""cold""",,,5,"great,\nспасибо",77'
    )
    b = (
        f"{second},T-{second:05d},2026-03-07T23:59:00+00:00,2026-03-07T23:59:00+00:00,open,"
        "1002,es,,no words,NW-123456,2026-02-20,,,"
    )
    assert captured.out == (
        "ticket_id,ref,created_at,updated_at,status,chat_id,language,entry_id,summary,"
        "order_number,purchase_date,rating,rating_comment,assignee_id,"
        "line,at,direction,internal,text\r\n"
        f'{a},1,2026-03-02T09:00:00+00:00,in,false,"my kettle, it\'s ""cold""\nhelp"\r\n'
        f'{a},2,2026-03-02T09:01:00+00:00,out,false,"Try this:\r\n1. Plug it in."\r\n'
        f"{a},3,2026-03-02T09:05:00+00:00,note,true,sounds upset; check the order\r\n"
        f"{a},4,2026-03-02T09:06:00+00:00,agent,false,Bea from our team: done\r\n"
        f"{b},,,,,\r\n"
    )
    assert captured.err == (
        "exported 2 ticket(s), 4 transcript line(s): created from 2026-03-01 00:00 to"
        " 2026-03-08 00:00 UTC\n"
    )


def test_jsonl_has_a_ticket_a_line_with_transcript_and_events_nested(
    seeded: tuple[int, int], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first, second = seeded
    out = tmp_path / "march.jsonl"
    assert main(["export", *PERIOD, "--output", str(out)]) == 0  # the format from the suffix
    assert capsys.readouterr().out == ""
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # personal data: the admin's alone
    lines = out.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 3
    assert json.loads(lines[0]) == {
        "ticket_id": first,
        "ref": f"T-{first:05d}",
        "created_at": "2026-03-02T09:00:00+00:00",
        "updated_at": "2026-03-03T10:00:00+00:00",
        "status": "resolved",
        "chat_id": 1001,
        "language": "ru",
        "entry_id": "kettle-cold",
        "summary": 'kettle, "cold"',
        "order_number": None,
        "purchase_date": None,
        "rating": 5,
        "rating_comment": "great,\nспасибо",
        "assignee_id": 77,
        "tried": [{"id": "kettle-cold", "score": 41.5, "answer": "yes"}],
        "transcript": [
            {
                "at": "2026-03-02T09:00:00+00:00",
                "direction": "in",
                "internal": False,
                "text": 'my kettle, it\'s "cold"\nhelp',
            },
            {
                "at": "2026-03-02T09:01:00+00:00",
                "direction": "out",
                "internal": False,
                "text": "Try this:\r\n1. Plug it in.",
            },
            {
                "at": "2026-03-02T09:05:00+00:00",
                "direction": "note",
                "internal": True,
                "text": "sounds upset; check the order",
            },
            {
                "at": "2026-03-02T09:06:00+00:00",
                "direction": "agent",
                "internal": False,
                "text": "Bea from our team: done",
            },
        ],
        "events": [  # by time, whatever order they were written in
            {"at": "2026-03-02T09:00:00+00:00", "kind": "opened", "actor_id": None, "detail": None},
            {
                "at": "2026-03-02T09:07:00+00:00",
                "kind": "resolved",
                "actor_id": 77,
                "detail": "agent",
            },
            {"at": "2026-03-03T10:00:00+00:00", "kind": "rated", "actor_id": None, "detail": "5"},
        ],
    }
    assert json.loads(lines[1]) == {
        "ticket_id": second,
        "ref": f"T-{second:05d}",
        "created_at": "2026-03-07T23:59:00+00:00",
        "updated_at": "2026-03-07T23:59:00+00:00",
        "status": "open",
        "chat_id": 1002,
        "language": "es",
        "entry_id": None,
        "summary": "no words",
        "order_number": "NW-123456",
        "purchase_date": "2026-02-20",
        "rating": None,
        "rating_comment": None,
        "assignee_id": None,
        "tried": [],
        "transcript": [],
        "events": [],
    }
    assert '"great,\\nспасибо"' in lines[0]  # UTF-8 as it is, not \\u escapes


def test_an_empty_period_exports_the_header_alone_and_says_so(
    seeded: tuple[int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["export", "--since", "2026-04-01", "--until", "2026-05-01", "--format", "csv"]) == 0
    )
    captured = capsys.readouterr()
    assert captured.out.count("\r\n") == 1 and captured.out.startswith("ticket_id,ref,")
    assert captured.err == (
        "no tickets created from 2026-04-01 00:00 to 2026-05-01 00:00 UTC; the export has no rows\n"
    )
    assert (
        main(["export", "--since", "2026-04-01", "--until", "2026-05-01", "--format", "jsonl"]) == 0
    )
    assert capsys.readouterr().out == ""


def test_tickets_are_read_a_page_at_a_time_as_they_are_written(
    engine: Engine, seeded: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = seeded
    read: list[int] = []  # tickets per page read

    def counted(*args: Any) -> list[TicketRecord]:
        page = real(*args)
        read.append(len(page))
        return page

    real = export._page
    monkeypatch.setattr(export, "_page", counted)
    pages = tickets_created(engine, t(1), t(31), page_size=2)
    assert next(pages).ticket.id == first
    assert read == [2]
    # the next page is read only when needed: a ticket stored meanwhile comes with it
    late = add_ticket(engine, Ticket(ChatId(1001), "late", TicketStatus.OPEN, t(9), t(9)))
    assert [record.ticket.id for record in pages] == [second, second + 1, late]
    assert read == [2, 2, 0]


def test_a_failed_export_leaves_no_half_file(
    seeded: tuple[int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "march.csv"
    out.write_text("the last export\n", encoding="utf-8")

    def broken(*args: object, **kwargs: object) -> object:
        raise ConnectionError("the database went away")

    monkeypatch.setattr("bot.export_cli.tickets_created", broken)
    with pytest.raises(ConnectionError):
        main(["export", *PERIOD, "--output", str(out)])
    assert out.read_text(encoding="utf-8") == "the last export\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--since", "soonish", "--format", "csv"], "cannot read 'soonish' as a time"),
        (["--since", "2026-03-08", "--until", "2026-03-01", "--format", "csv"], "is empty"),
        (["--since", "0d", "--format", "csv"], "is empty"),
        (["--since", "7d"], "say --format csv or --format jsonl"),
        (["--output", "march.xlsx"], "say --format csv or --format jsonl"),
    ],
)
def test_bad_usage_exits_2(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("supportbot: ")
    assert says in captured.err
