"""Follow-ups through the real bot process against the fake Bot API: sent exactly once,
also when the process is killed after claiming and before sending; a 403 cancels them.

The follow-ups run through ``tests.followup_standin`` (``tests.e2e.standin_bot``) until the
customer side (``flows.followup``) lands; what is tested here is the dispatcher, the
storage and the sender around it.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from bot.storage import OutboxStatus, SqlUnitOfWork, make_engine, upgrade
from flows.model import (
    ChatId,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Person,
    Ticket,
    TicketStatus,
)
from tests.e2e.botprocess import ROOT, BotProcess
from tests.e2e.fake_bot_api import FakeBotApi
from tests.followup_standin import QUESTION

ANN = 4242
CONSOLE = 1  # bot.console.CONSOLE_CHAT
LEASE = "3s"


def bot_process(
    fake: FakeBotApi, tmp_path: Path, url: str, knowledge: Path, **env: str
) -> BotProcess:
    return BotProcess(
        fake,
        tmp_path,
        module="tests.e2e.standin_bot",
        DATABASE_URL=url,
        KNOWLEDGE_DIR=str(knowledge),
        PYTHONPATH=str(ROOT),
        FOLLOWUP_LEASE=LEASE,
        FOLLOWUP_RATE="10",
        **env,
    )


def add_followup(engine: Engine, due_at: datetime, chat_id: int = ANN) -> int:
    with SqlUnitOfWork(engine) as uow:
        uow.customers.upsert(Person(ChatId(chat_id), chat_id, "Ann", None), due_at)
        ticket = uow.tickets.add(
            Ticket(ChatId(chat_id), "kettle is cold", TicketStatus.RESOLVED, due_at, due_at)
        )
        assert ticket.id is not None
        row = uow.followups.add(FollowUp(ticket.id, ChatId(chat_id), FollowUpKind.CHECK, due_at))
        uow.commit()
    assert row is not None and row.id is not None
    return row.id


def followup(engine: Engine, row_id: int) -> FollowUp:
    with SqlUnitOfWork(engine) as uow:
        row = uow.followups.get(row_id)
    assert row is not None
    return row


def wait_until(what: Callable[[], bool], bot: BotProcess, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if not bot.alive():
            raise AssertionError(f"the bot exited:\n{bot.log()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; the bot's log:\n{bot.log()[-4000:]}")
        time.sleep(0.05)


def questions(fake: FakeBotApi, chat_id: int = ANN) -> list[str]:
    return [m["text"] for m in fake.sent_messages(chat_id) if m["text"].startswith(QUESTION)]


def outbox_settled(engine: Engine, chat_id: int = ANN) -> bool:
    with SqlUnitOfWork(engine) as uow:
        return not uow.outbox.for_chat(chat_id, status=OutboxStatus.PENDING)


def test_a_due_follow_up_is_sent_exactly_once(
    fake_api: FakeBotApi,
    tmp_path: Path,
    knowledge_dir: Path,
    database: tuple[str, Engine],
) -> None:
    url, engine = database
    row_id = add_followup(engine, datetime.now(UTC) - timedelta(minutes=1))
    bot = bot_process(fake_api, tmp_path, url, knowledge_dir).start()
    try:
        wait_until(lambda: followup(engine, row_id).status is FollowUpStatus.SENT, bot)
        # a second one, due now: the claim that takes it would take the first again too,
        # were a sent row ever claimed twice
        second = add_followup(engine, datetime.now(UTC))
        wait_until(lambda: followup(engine, second).status is FollowUpStatus.SENT, bot)
        wait_until(lambda: outbox_settled(engine), bot)
        assert bot.stop() == 0
    finally:
        if bot.alive():
            bot.kill()
    assert questions(fake_api) == [f"{QUESTION} (T-00001)", f"{QUESTION} (T-00002)"]
    message = fake_api.sent_messages(ANN)[0]
    labels = [b["text"] for b in message["reply_markup"]["inline_keyboard"][0]]
    assert labels == ["Yes", "No", "Remind me later"]
    assert followup(engine, row_id).attempts == 1
    assert fake_api.token not in bot.log()


def test_killed_after_claiming_and_before_sending_it_is_sent_once_after_the_lease(
    fake_api: FakeBotApi,
    tmp_path: Path,
    knowledge_dir: Path,
    database: tuple[str, Engine],
) -> None:
    url, engine = database
    row_id = add_followup(engine, datetime.now(UTC) - timedelta(minutes=1))
    hanging = bot_process(
        fake_api, tmp_path, url, knowledge_dir, SUPPORTBOT_TEST_HANG_AFTER_CLAIM="1"
    ).start(wait=False)
    try:
        wait_until(lambda: "test hook: claimed 1 follow-up" in hanging.log(), hanging)
        claimed = followup(engine, row_id)
        assert (claimed.status, claimed.attempts) == (FollowUpStatus.SENDING, 1)
    finally:
        hanging.kill()  # SIGKILL: claimed, leased, nothing handed to the outbox
    assert questions(fake_api) == []
    with SqlUnitOfWork(engine) as uow:
        assert uow.outbox.for_chat(ANN) == []

    bot = bot_process(fake_api, tmp_path, url, knowledge_dir).start()
    try:
        wait_until(lambda: followup(engine, row_id).status is FollowUpStatus.SENT, bot)
        wait_until(lambda: outbox_settled(engine), bot)
        assert bot.stop() == 0
    finally:
        if bot.alive():
            bot.kill()
    row = followup(engine, row_id)
    assert (row.status, row.attempts) == (FollowUpStatus.SENT, 2)  # taken again: the lease
    assert row.sent_at is not None and claimed.lease_until is not None
    assert row.sent_at >= claimed.lease_until  # not before the dead claim's lease ran out
    assert questions(fake_api) == [f"{QUESTION} (T-00001)"]


def test_a_403_cancels_the_customers_pending_follow_ups(
    fake_api: FakeBotApi,
    tmp_path: Path,
    knowledge_dir: Path,
    database: tuple[str, Engine],
) -> None:
    url, engine = database
    fake_api.block_chat(ANN)
    later = add_followup(engine, datetime.now(UTC) + timedelta(hours=1))
    bot = bot_process(fake_api, tmp_path, url, knowledge_dir).start()
    try:
        fake_api.push_text(ANN, "my kettle does not heat the water")  # the reply gets a 403
        wait_until(lambda: followup(engine, later).status is FollowUpStatus.CANCELLED, bot)
        assert bot.stop() == 0
    finally:
        if bot.alive():
            bot.kill()
    row = followup(engine, later)
    assert row.last_error == "customer blocked the bot"
    with SqlUnitOfWork(engine) as uow:
        assert uow.customers.is_blocked(ANN)
    sends = [r for r in fake_api.requests_for("sendMessage") if r.get("chat_id") == ANN]
    assert len(sends) == 1  # the refused reply; no retries, no follow-up


def test_a_kicked_bot_cancels_the_customers_pending_follow_ups(
    fake_api: FakeBotApi,
    tmp_path: Path,
    knowledge_dir: Path,
    database: tuple[str, Engine],
) -> None:
    url, engine = database
    later = add_followup(engine, datetime.now(UTC) + timedelta(hours=1))
    bot = bot_process(fake_api, tmp_path, url, knowledge_dir).start()
    try:
        fake_api.push_my_chat_member(ANN, "kicked")
        wait_until(lambda: followup(engine, later).status is FollowUpStatus.CANCELLED, bot)
        assert bot.stop() == 0
    finally:
        if bot.alive():
            bot.kill()
    assert followup(engine, later).last_error == "customer blocked the bot"
    assert fake_api.sent_messages(ANN) == []


# ---- the terminal chat ------------------------------------------------------------------


def test_the_terminal_chat_shows_follow_ups_at_start_and_while_it_waits(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    add_followup(engine, now - timedelta(minutes=1), chat_id=CONSOLE)
    add_followup(engine, now - timedelta(minutes=1), chat_id=ANN)  # Telegram's: not here
    clean = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    chat = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.standin_bot", "chat"],
        env={**clean, "DATABASE_URL": url, "MATCHER": "lexical", "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert chat.stdin is not None and chat.stdout is not None
    output: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for text in chat.stdout or ():
            output.put(text)

    reader = threading.Thread(target=read)
    reader.start()
    seen: list[str] = []
    try:
        later: int | None = None
        while sum(QUESTION in line for line in seen) < 2:  # stdin still open: it waits
            try:
                line = output.get(timeout=30)
            except queue.Empty:
                raise AssertionError("no follow-up shown:\n" + "".join(seen)) from None
            seen.append(line)
            if QUESTION in line and later is None:  # one falls due while the chat waits
                later = add_followup(engine, datetime.now(UTC), chat_id=CONSOLE)
        assert later is not None
        assert followup(engine, later).status is FollowUpStatus.SENT
        chat.stdin.write("2\n")  # "No" on the second question's buttons (the stand-in's)
        chat.stdin.close()
        assert chat.wait(30) == 0
    finally:
        if chat.poll() is None:
            chat.kill()
        reader.join(10)
        engine.dispose()
    while not output.empty():
        seen.append(output.get())
    transcript = "".join(seen)
    asked = [line for line in transcript.splitlines() if line.startswith("bot › " + QUESTION)]
    assert asked == [f"bot › {QUESTION} (T-00001)", f"bot › {QUESTION} (T-00003)"]
    assert "[1] Yes   [2] No   [3] Remind me later" in transcript
    assert "you › 2" in transcript


def test_the_terminal_chat_shows_a_due_follow_up_before_the_first_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    engine = make_engine(url)
    upgrade(engine)
    add_followup(engine, datetime.now(UTC) - timedelta(hours=1), chat_id=CONSOLE)
    engine.dispose()
    clean = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.e2e.standin_bot", "chat"],
        input="/help\n",
        env={**clean, "DATABASE_URL": url, "MATCHER": "lexical", "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    asked = lines.index(f"bot › {QUESTION} (T-00001)")
    assert asked < lines.index("you › /help")
