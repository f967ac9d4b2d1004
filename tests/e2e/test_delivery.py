"""Worker and sender in this process, on real SQLite, against the fake Bot API over HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App, build
from bot.settings import load_settings
from bot.storage import SEND, OutgoingMessage
from bot.telegram.channel import build_bot
from bot.telegram.sender import Sender
from bot.telegram.worker import Worker
from flows.engine import Conversations
from flows.model import Effect, Inbound
from flows.ports import Repositories
from tests.e2e.fake_bot_api import FakeBotApi

ANN = 4242


class SettableClock:
    def __init__(self) -> None:
        self.current = datetime.now(UTC)

    def now(self) -> datetime:
        return self.current


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KNOWLEDGE_DIR", raising=False)
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    yield build(settings, clock=SettableClock())


def make_worker(bot, app: App, conversations: Conversations) -> Worker:  # type: ignore[no-untyped-def]
    return Worker(
        bot=bot,
        new_uow=app.new_uow,
        conversations=conversations,
        responses=app.responses,
        clock=app.clock,
        agent_chat_id=None,
        on_outbox=asyncio.Event(),
    )


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def queue(app: App, text: str, chat_id: int = ANN) -> int:
    with app.new_uow() as uow:
        row = uow.outbox.add(OutgoingMessage(chat_id, SEND, text), app.clock.now())
        uow.commit()
    return row


def statuses(app: App, chat_id: int = ANN) -> list[str]:
    with app.new_uow() as uow:
        return [item.status for item in uow.outbox.for_chat(chat_id)]


async def with_bot(fake: FakeBotApi, work):  # type: ignore[no-untyped-def]
    bot = build_bot(fake.token, fake.base_url, fake.base_file_url)
    await bot.initialize()
    try:
        return await work(bot)
    finally:
        await bot.shutdown()


def test_network_errors_are_retried_in_order(fake_api: FakeBotApi, app: App) -> None:
    queue(app, "first")
    queue(app, "second")
    fake_api.fail_next("sendMessage", 502, "Bad Gateway")
    clock = app.clock

    async def work(bot):  # type: ignore[no-untyped-def]
        sender = Sender(bot=bot, new_uow=app.new_uow, clock=clock)
        await sender.send_due()
        assert fake_api.sent_messages(ANN) == []  # "second" waits behind "first"
        assert statuses(app) == ["pending", "pending"]
        await sender.send_due()  # the retry is not due yet: nothing is sent
        assert len(fake_api.requests_for("sendMessage")) == 1
        clock.current += timedelta(seconds=3)  # type: ignore[attr-defined]
        await sender.send_due()

    run(with_bot(fake_api, work))
    assert [m["text"] for m in fake_api.sent_messages(ANN)] == ["first", "second"]
    assert statuses(app) == ["sent", "sent"]


def test_a_message_that_does_not_parse_is_sent_as_plain_text(
    fake_api: FakeBotApi, app: App
) -> None:
    queue(app, "broken <b>markup & more")

    async def work(bot):  # type: ignore[no-untyped-def]
        await Sender(bot=bot, new_uow=app.new_uow, clock=app.clock).send_due()

    run(with_bot(fake_api, work))
    [sent] = fake_api.sent_messages(ANN)
    assert sent["text"] == "broken markup & more" and "parse_mode" not in sent
    assert statuses(app) == ["sent"]


class Exploding:
    """A flow engine with a bug in it."""

    def handle(self, repos: Repositories, event: Inbound) -> list[Effect]:
        raise RuntimeError("a bug in the flows")


def test_a_bug_while_handling_answers_with_an_apology(fake_api: FakeBotApi, app: App) -> None:
    update_id = fake_api.push_text(ANN, "hello there, my kettle is broken")
    payload = json.dumps(fake_api.pushed_update(update_id))
    with app.new_uow() as uow:
        uow.inbox.add(update_id, payload, app.clock.now())
        uow.commit()

    async def work(bot):  # type: ignore[no-untyped-def]
        worker = make_worker(bot, app, Exploding())  # type: ignore[arg-type]
        assert await worker.drain() == 1
        assert await worker.drain() == 0  # marked done: not handled again

    run(with_bot(fake_api, work))
    with app.new_uow() as uow:
        [reply] = uow.outbox.for_chat(ANN)
        assert uow.inbox.pending() == []
    assert "something went wrong on my side" in reply.text


def test_an_unreadable_stored_update_is_set_aside(fake_api: FakeBotApi, app: App) -> None:
    with app.new_uow() as uow:
        uow.inbox.add(77, "{not json", app.clock.now())
        uow.inbox.add(78, json.dumps({"update_id": 78}), app.clock.now())  # nothing in it
        uow.commit()

    async def work(bot):  # type: ignore[no-untyped-def]
        worker = make_worker(bot, app, app.conversations)
        assert await worker.drain() == 2
        assert await worker.drain() == 0

    run(with_bot(fake_api, work))
