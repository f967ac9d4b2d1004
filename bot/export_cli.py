"""`supportbot export`: tickets created in a period, with their transcript and history, for
people who analyse elsewhere.

``jsonl``: one ticket a line, its transcript and events nested. ``csv``: one row a
transcript line (a ticket without any has one row with those columns empty), the ticket's
columns repeated on each. Internal notes are included, marked ``internal``; the customer's
chat id is included. Tickets are read a page at a time and written as they come.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from bot.clock import system_clock
from bot.period import period
from bot.settings import Settings
from bot.storage import make_engine, upgrade
from bot.storage.export import TicketRecord, tickets_created
from flows.model import Direction

FORMATS = ("csv", "jsonl")

TICKET_COLUMNS = (
    "ticket_id",
    "ref",
    "created_at",
    "updated_at",
    "status",
    "chat_id",
    "language",
    "entry_id",
    "summary",
    "order_number",
    "purchase_date",
    "rating",
    "rating_comment",
    "assignee_id",
)
LINE_COLUMNS = ("line", "at", "direction", "internal", "text")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``export`` command and its options."""
    export_ = sub.add_parser("export", help="tickets with their transcript, as CSV or JSON lines")
    export_.add_argument(
        "--since", default="30d", help="created since: 30d or 30, 24h, 2w, 2026-03-01 (default 30d)"
    )
    export_.add_argument("--until", help="created before this (same forms; default now)")
    export_.add_argument(
        "--format", choices=FORMATS, help="csv or jsonl (default: --output's suffix)"
    )
    export_.add_argument("--output", type=Path, metavar="FILE", help="default: standard output")
    export_.set_defaults(handler=export)


def export(args: argparse.Namespace, settings: Settings) -> int:
    now = system_clock().now()
    try:
        since, until = period(args.since, args.until, now=now, zone=settings.zone)
    except ValueError as exc:  # unreadable, or empty
        return _refuse(str(exc))
    kind = args.format or (args.output.suffix.lstrip(".").lower() if args.output else "")
    if kind not in FORMATS:
        return _refuse("say --format csv or --format jsonl")
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with _destination(args.output) as out:
            writer = CsvWriter(out) if kind == "csv" else JsonLinesWriter(out)
            tickets = lines = 0
            for record in tickets_created(engine, since, until):
                writer.write(record)
                tickets += 1
                lines += len(record.transcript)
    finally:
        engine.dispose()
    span = f"created from {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC"
    if tickets:
        where = f" to {args.output}" if args.output else ""
        said = f"exported {tickets} ticket(s), {lines} transcript line(s){where}: {span}"
    else:
        said = f"no tickets {span}; the export has no rows"
    print(said, file=sys.stderr)
    return 0


def _refuse(message: str) -> int:
    print(f"supportbot: {message}", file=sys.stderr)
    return 2


@contextmanager
def _destination(path: Path | None) -> Iterator[IO[str]]:
    """stdout, or ``path`` written whole or not at all (a temporary file renamed over it)."""
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    directory = path.resolve().parent
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with open(handle, "w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Writer(Protocol):
    def write(self, record: TicketRecord) -> None: ...


def _ticket_fields(record: TicketRecord) -> dict[str, Any]:
    ticket = record.ticket
    return {
        "ticket_id": ticket.id,
        "ref": ticket.ref,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "status": ticket.status.value,
        "chat_id": ticket.chat_id,
        "language": record.language,
        "entry_id": ticket.entry_id,
        "summary": ticket.summary,
        "order_number": ticket.order_number,
        "purchase_date": ticket.purchase_date,
        "rating": ticket.rating,
        "rating_comment": ticket.rating_comment,
        "assignee_id": ticket.assignee_id,
    }


def _text(value: object) -> str:
    """A CSV cell: empty for none, ISO 8601 for times and dates."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class CsvWriter:
    """One row a transcript line; quoting (commas, quotes, line breaks) by the csv module."""

    def __init__(self, out: IO[str]) -> None:
        self._csv = csv.writer(out)
        self._csv.writerow(TICKET_COLUMNS + LINE_COLUMNS)

    def write(self, record: TicketRecord) -> None:
        ticket = [_text(value) for value in _ticket_fields(record).values()]
        if not record.transcript:
            self._csv.writerow(ticket + [""] * len(LINE_COLUMNS))
        for number, line in enumerate(record.transcript, start=1):
            internal = line.direction is Direction.NOTE
            cells = (number, line.at, line.direction.value, internal, line.text)
            self._csv.writerow(ticket + [_text(cell) for cell in cells])


class JsonLinesWriter:
    """One ticket a line, with ``transcript`` and ``events`` nested."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out

    def write(self, record: TicketRecord) -> None:
        fields = _ticket_fields(record)
        fields["tried"] = record.ticket.tried
        fields["transcript"] = [
            {
                "at": line.at,
                "direction": line.direction.value,
                "internal": line.direction is Direction.NOTE,
                "text": line.text,
            }
            for line in record.transcript
        ]
        fields["events"] = [
            {"at": e.at, "kind": e.kind.value, "actor_id": e.actor_id, "detail": e.detail}
            for e in record.events
        ]
        self._out.write(json.dumps(fields, ensure_ascii=False, default=_json) + "\n")


def _json(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
