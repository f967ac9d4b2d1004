"""Commands that write much to stdout, piped into a reader that leaves early (``| head``):
they stop quietly, with no traceback, as rich's tables do (exit 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.storage import SqlUnitOfWork, make_engine, upgrade
from flows.model import ChatId, Direction, Ticket, TicketStatus, TranscriptLine

COMMANDS = [
    ["export", "--format", "jsonl"],
    ["export", "--format", "csv"],
    ["report", "--json"],
    ["report"],
    ["kb", "test", "--json"],
    ["kb", "match", "my kettle leaks", "--json"],
    ["kb", "suggestions", "--all"],
    ["agents", "list"],
]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with a ticket in the last days, so the export has a line to write."""
    url = f"sqlite:///{tmp_path_factory.mktemp('pipe') / 'supportbot.db'}"
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    with SqlUnitOfWork(engine) as uow:
        ticket = Ticket(ChatId(7), "kettle leaks", TicketStatus.OPEN, now, now)
        uow.tickets.add(ticket)
        assert ticket.id is not None
        uow.transcript.add(TranscriptLine(ChatId(7), Direction.IN, "it leaks", now, ticket.id))
        uow.commit()
    engine.dispose()
    return url


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_a_reader_that_left_ends_the_command_quietly(
    argv: list[str], database: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MATCH", "KNOWLEDGE"))}
    env.update(DATABASE_URL=database, MATCHER="lexical", TELEGRAM_BOT_TOKEN="")
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before the first line: every write fails
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot", *argv],
            stdout=writer,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tmp_path,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(writer)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert done.returncode == 1
