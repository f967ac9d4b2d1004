"""Worker and sender in this process, on real SQLite, against the fake Bot API over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine
from telegram.ext import ExtBot

from bot.app import App, build
from bot.delivery import store_effects
from bot.settings import load_settings
from bot.storage import MessageKind, OutgoingMessage
from bot.telegram.channel import build_bot
from bot.telegram.sender import Sender
from bot.telegram.worker import FlowEngine, Worker
from flows.model import ChatId, Effect, Inbound, Reply
from flows.ports import Repositories
from knowledge.responses import Say
from tests.e2e.fake_bot_api import FakeBotApi

Bot = ExtBot[Any]
R = TypeVar("R")
ANN = 4242
AGENTS = -1009999999999
T = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


class SettableClock:
    def __init__(self) -> None:
        self.current = datetime.now(UTC)

    def now(self) -> datetime:
        return self.current


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: SettableClock) -> Iterator[App]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KNOWLEDGE_DIR", raising=False)
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    yield build(settings, clock=clock)


def make_worker(bot: Bot, app: App, conversations: FlowEngine) -> Worker:
    return Worker(
        bot=bot,
        new_uow=app.new_uow,
        conversations=conversations,
        responses=app.responses,
        clock=app.clock,
        agent_chat_id=None,
        on_outbox=asyncio.Event(),
    )


def run(coro: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coro)


def queue(app: App, text: str, chat_id: int = ANN) -> int:
    with app.new_uow() as uow:
        row = uow.outbox.add(OutgoingMessage(chat_id, MessageKind.SEND, text), app.clock.now())
        uow.commit()
    return row


def statuses(app: App, chat_id: int = ANN) -> list[str]:
    with app.new_uow() as uow:
        return [item.status for item in uow.outbox.for_chat(chat_id)]


async def with_bot(fake: FakeBotApi, work: Callable[[Bot], Awaitable[R]]) -> R:
    bot = build_bot(fake.token, fake.base_url, fake.base_file_url)
    await bot.initialize()
    try:
        return await work(bot)
    finally:
        await bot.shutdown()


def test_network_errors_are_retried_in_order(
    fake_api: FakeBotApi, app: App, clock: SettableClock
) -> None:
    queue(app, "first")
    queue(app, "second")
    fake_api.fail_next("sendMessage", 502, "Bad Gateway")

    async def work(bot: Bot) -> None:
        sender = Sender(bot=bot, new_uow=app.new_uow, clock=clock)
        await sender.send_due()
        assert fake_api.sent_messages(ANN) == []  # "second" waits behind "first"
        assert statuses(app) == ["pending", "pending"]
        await sender.send_due()  # the retry is not due yet: nothing is sent
        assert len(fake_api.requests_for("sendMessage")) == 1
        clock.current += timedelta(seconds=3)
        await sender.send_due()

    run(with_bot(fake_api, work))
    assert [m["text"] for m in fake_api.sent_messages(ANN)] == ["first", "second"]
    assert statuses(app) == ["sent", "sent"]


def test_a_message_that_does_not_parse_is_sent_as_plain_text(
    fake_api: FakeBotApi, app: App, clock: SettableClock
) -> None:
    queue(app, "broken <b>markup & more")

    async def work(bot: Bot) -> None:
        await Sender(bot=bot, new_uow=app.new_uow, clock=app.clock).send_due()

    run(with_bot(fake_api, work))
    [sent] = fake_api.sent_messages(ANN)
    assert sent["text"] == "broken markup & more" and "parse_mode" not in sent
    assert statuses(app) == ["sent"]


class Exploding:
    """A flow engine with a bug in it, for the chats in ``broken`` (all when None)."""

    def __init__(
        self,
        real: FlowEngine | None = None,
        broken: set[int] | None = None,
        message: str = "a bug in the flows",
    ):
        self.real = real
        self.broken = broken
        self.message = message

    def handle(self, repos: Repositories, event: Inbound) -> list[Effect]:
        if self.broken is None or event.person.chat_id in self.broken:
            raise RuntimeError(self.message)
        assert self.real is not None
        return self.real.handle(repos, event)


def store_update(app: App, fake: FakeBotApi, update_id: int, chat_id: int = ANN) -> None:
    with app.new_uow() as uow:
        payload = json.dumps(fake.pushed_update(update_id))
        uow.inbox.add(update_id, payload, app.clock.now(), chat_id=chat_id)
        uow.commit()


def test_a_bug_is_tried_again_then_set_aside_with_an_apology(
    fake_api: FakeBotApi, app: App, clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    store_update(app, fake_api, fake_api.push_text(ANN, "hello there, my kettle is broken"))

    async def work(bot: Bot) -> None:
        worker = make_worker(bot, app, Exploding())
        assert await worker.drain() == 0  # first failure: kept for another try
        assert await worker.drain() == 0  # not due yet: not tried again
        clock.current += timedelta(seconds=2)
        assert await worker.drain() == 0  # second failure
        clock.current += timedelta(seconds=10)
        assert await worker.drain() == 1  # third: set aside
        assert await worker.drain() == 0  # marked done: not handled again

    with caplog.at_level(logging.WARNING, logger="bot.telegram.worker"):
        run(with_bot(fake_api, work))
    with app.new_uow() as uow:
        [reply] = uow.outbox.for_chat(ANN)
        assert uow.inbox.pending() == []
    assert reply.text == app.responses.text(Say.SOMETHING_WENT_WRONG)
    levels = [r.levelname for r in caplog.records if r.name == "bot.telegram.worker"]
    assert levels == ["WARNING", "WARNING", "ERROR"]


def test_a_bug_holds_back_its_own_chat_and_nobody_else(
    fake_api: FakeBotApi, app: App, clock: SettableClock
) -> None:
    ben = ANN + 1
    first = fake_api.push_command(ANN, "start")
    store_update(app, fake_api, first)
    store_update(app, fake_api, fake_api.push_command(ben, "start"), chat_id=ben)
    store_update(app, fake_api, fake_api.push_command(ANN, "help"))
    flaky = Exploding(app.conversations, broken={ANN})

    async def work(bot: Bot) -> None:
        worker = make_worker(bot, app, flaky)
        assert await worker.drain() == 1  # Ben's /start; Ann's two wait
        flaky.broken = set()  # the fault was passing: the retry works
        assert await worker.drain() == 0  # Ann's first is not due yet, her second waits
        clock.current += timedelta(seconds=2)
        assert await worker.drain() == 2

    run(with_bot(fake_api, work))
    with app.new_uow() as uow:
        anns = [item.text for item in uow.outbox.for_chat(ANN)]
        bens = [item.text for item in uow.outbox.for_chat(ben)]
    welcome = app.responses.text(Say.WELCOME, name="Ann")
    assert bens == [welcome]
    assert anns == [welcome, app.responses.text(Say.HELP)]  # her order kept after the retry


def test_a_bug_in_the_middle_of_a_run_is_tried_and_the_others_go_on(
    fake_api: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker handles a run of updates in one trip to a thread; one that fails there is
    tried on its own (and logged), the rest of its chat waits, the other chats go on."""
    ben, cid = ANN + 1, ANN + 2
    store_update(app, fake_api, fake_api.push_command(ben, "start"), chat_id=ben)
    store_update(app, fake_api, fake_api.push_command(ANN, "start"))
    store_update(app, fake_api, fake_api.push_command(ben, "help"), chat_id=ben)
    store_update(app, fake_api, fake_api.push_command(ANN, "help"))
    store_update(app, fake_api, fake_api.push_command(cid, "start"), chat_id=cid)
    flaky = Exploding(app.conversations, broken={ANN})

    async def work(bot: Bot) -> None:
        assert await make_worker(bot, app, flaky).drain() == 3  # Ben's two, Cid's

    with caplog.at_level(logging.WARNING, logger="bot.telegram.worker"):
        run(with_bot(fake_api, work))
    warnings = [r for r in caplog.records if r.name == "bot.telegram.worker"]
    assert len(warnings) == 1 and "failed" in warnings[0].getMessage()  # Ann's first, once
    with app.new_uow() as uow:
        pending = uow.inbox.pending()
        bens = [item.text for item in uow.outbox.for_chat(ben)]
        assert uow.outbox.for_chat(ANN) == []
        assert len(uow.outbox.for_chat(cid)) == 1
    assert [(item.chat_id, item.attempts) for item in pending] == [(ANN, 1), (ANN, 0)]
    assert bens == [app.responses.text(Say.WELCOME, name="Ann"), app.responses.text(Say.HELP)]


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_an_update_another_replica_holds_holds_back_its_chat_and_nobody_else(
    fake_api: FakeBotApi,
    database: tuple[str, Engine],
    clock: SettableClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Another replica is handling Ann's first update (its row lock is held): the worker's
    run passes over her chat and handles the others; hers follow in order once it is free."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KNOWLEDGE_DIR", raising=False)
    app = build(load_settings(database_url=database[0]), clock=clock)
    ben, cid = ANN + 1, ANN + 2
    held = fake_api.push_command(ANN, "start")
    store_update(app, fake_api, held)
    store_update(app, fake_api, fake_api.push_command(ben, "start"), chat_id=ben)
    store_update(app, fake_api, fake_api.push_command(ANN, "help"))
    store_update(app, fake_api, fake_api.push_command(cid, "start"), chat_id=cid)
    with contextlib.ExitStack() as replica:  # the other one, handling Ann's first
        other = replica.enter_context(app.new_uow())
        [item] = [i for i in other.inbox.pending() if i.update_id == held]
        assert other.inbox.claim(item)

        async def work(bot: Bot) -> None:
            worker = make_worker(bot, app, app.conversations)
            assert await worker.drain() == 2  # Ben's and Cid's
            replica.close()  # the other replica died before committing
            assert await worker.drain() == 2  # Ann's two, in order

        run(with_bot(fake_api, work))
    with app.new_uow() as uow:
        anns = [item.text for item in uow.outbox.for_chat(ANN)]
        assert len(uow.outbox.for_chat(ben)) == len(uow.outbox.for_chat(cid)) == 1
    assert anns == [app.responses.text(Say.WELCOME, name="Ann"), app.responses.text(Say.HELP)]


def test_an_unreadable_stored_update_is_set_aside(
    fake_api: FakeBotApi, app: App, clock: SettableClock
) -> None:
    with app.new_uow() as uow:
        uow.inbox.add(77, "{not json", app.clock.now())
        uow.inbox.add(78, json.dumps({"update_id": 78}), app.clock.now())  # nothing in it
        uow.commit()

    async def work(bot: Bot) -> None:
        worker = make_worker(bot, app, app.conversations)
        assert await worker.drain() == 2
        assert await worker.drain() == 0

    run(with_bot(fake_api, work))


def test_429s_and_outages_never_make_a_reply_give_up(
    fake_api: FakeBotApi, app: App, clock: SettableClock
) -> None:
    """Twenty 429s and twenty 502s in a row: the reply still arrives, charged no attempt."""
    queue(app, "still here")
    fake_api.enforce_retry_after = False  # this test moves the bot's clock instead of waiting

    async def work(bot: Bot) -> None:
        sender = Sender(bot=bot, new_uow=app.new_uow, clock=clock)
        for _ in range(20):
            fake_api.fail_next("sendMessage", 429, retry_after=3)
            await sender.send_due()
            clock.current += timedelta(seconds=3)
        for _ in range(20):
            fake_api.fail_next("sendMessage", 502, "Bad Gateway")
            await sender.send_due()
            clock.current += timedelta(minutes=2)
        assert statuses(app) == ["pending"]
        await sender.send_due()

    run(with_bot(fake_api, work))
    assert [m["text"] for m in fake_api.sent_messages(ANN)] == ["still here"]
    with app.new_uow() as uow:
        [row] = uow.outbox.for_chat(ANN)
    assert (row.status, row.attempts) == ("sent", 0)  # neither 429s nor outages count
    assert len(fake_api.requests_for("sendMessage")) == 41


def test_the_sender_reads_only_what_is_due_and_sleeps_until_then(
    fake_api: FakeBotApi, app: App, clock: SettableClock
) -> None:
    """150 rows backing off do not hide a new one, and the sender naps until the first is due."""
    soon = clock.now() + timedelta(seconds=7)
    with app.new_uow() as uow:
        for chat in range(1000, 1150):
            row = uow.outbox.add(OutgoingMessage(chat, MessageKind.SEND, "later"), clock.now())
            uow.outbox.mark_retry(row, soon + timedelta(seconds=chat - 1000), "network")
        uow.commit()
    queue(app, "new")

    async def work(bot: Bot) -> float:
        sender = Sender(bot=bot, new_uow=app.new_uow, clock=clock)
        return await sender.send_due()

    delay = run(with_bot(fake_api, work))
    assert [m["text"] for m in fake_api.sent_messages()] == ["new"]
    assert delay == 7.0  # exactly until the first waiting row is due, not a polling tick


def test_replicas_hold_no_more_than_a_second_of_the_budget_between_them(
    fake_api: FakeBotApi, app: App, clock: SettableClock
) -> None:
    """Two replicas (the shared budget, on one database) and 40 customers waiting: the first
    takes a second's worth of the budget, not a row per free lane (32), and the second none
    until that second has begun to pass; the clock stands still, so only its moving frees
    room."""
    for chat in range(2000, 2040):
        queue(app, "hello", chat_id=chat)

    async def work(bot: Bot) -> tuple[int, float, int, int]:
        first = Sender(bot=bot, new_uow=app.new_uow, clock=clock)
        second = Sender(bot=bot, new_uow=app.new_uow, clock=clock)
        delay = await first.send_due()
        sent_first = len(fake_api.requests_for("sendMessage"))
        await second.send_due()
        sent_second = len(fake_api.requests_for("sendMessage")) - sent_first
        clock.current += timedelta(seconds=2)
        await second.send_due()
        return sent_first, delay, sent_second, len(fake_api.requests_for("sendMessage"))

    sent_first, delay, sent_second, sent = run(with_bot(fake_api, work))
    assert sent_first == 29  # the slots beginning within a second, at 30 a second (5 % under)
    assert 0 < delay < 0.1  # until the next slot is within a second: not an idle nap
    assert sent_second == 0
    assert sent == 40


def test_a_wake_up_while_the_sender_is_busy_is_not_lost(
    fake_api: FakeBotApi, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message queued while a send is in flight goes out without waiting for a timer."""
    monkeypatch.setattr("bot.telegram.sender.IDLE", 3600.0)  # only a wake-up can start a pass
    queue(app, "first")
    fake_api.delay_next("sendMessage", 1.0)

    async def work(bot: Bot) -> None:
        sender = Sender(bot=bot, new_uow=app.new_uow, clock=app.clock)
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        await asyncio.to_thread(fake_api.wait_for_requests, "sendMessage", 1)
        queue(app, "second")  # while "first" is still in flight
        sender.wake.set()
        await asyncio.to_thread(fake_api.wait_for_messages, ANN, 2, 20.0)
        stop.set()
        sender.wake.set()
        await task

    run(with_bot(fake_api, work))
    assert [m["text"] for m in fake_api.sent_messages(ANN)] == ["first", "second"]


def test_a_lane_whose_end_is_noted_late_leaves_the_chats_next_lane_alone(
    fake_api: FakeBotApi, app: App
) -> None:
    """A lane's end is noted by a callback that runs a moment after it ended; if the chat's
    next lane has started meanwhile, that note must not take the new lane off the books: the
    sender would stop waiting for it and sleep its idle time with the chat's next reply due
    (seen: "Did this fix it?" 10 s late, when claims ran on the loop without yielding)."""
    queue(app, "first")
    queue(app, "second")

    async def work(bot: Bot) -> None:
        sender = Sender(bot=bot, new_uow=app.new_uow, clock=app.clock)
        await sender._fill()
        first = sender._lanes[ANN]
        await first
        await sender._fill()  # "first" is sent: the chat's next row gets a lane
        second = sender._lanes[ANN]
        assert second is not first
        sender._done(ANN, True, first)  # the first lane's end, noted late
        assert sender._lanes.get(ANN) is second
        await second

    run(with_bot(fake_api, work))
    assert [m["text"] for m in fake_api.sent_messages(ANN)] == ["first", "second"]


def test_a_long_reply_is_one_row_per_chunk_and_a_failed_chunk_is_sent_alone(
    fake_api: FakeBotApi, app: App, clock: SettableClock
) -> None:
    words = " ".join(f"word{n}" for n in range(1200))  # 9,689 characters: 3 messages
    with app.new_uow() as uow:
        ids = store_effects(uow, [Reply(ChatId(ANN), words)], agent_chat_id=None, at=T)
        uow.commit()
    assert len(ids) == 3

    async def work(bot: Bot) -> None:
        sender = Sender(bot=bot, new_uow=app.new_uow, clock=clock)
        with app.new_uow() as uow:
            first = uow.outbox.claim(clock.now(), clock.now(), 1)[0]
            uow.commit()
        assert await sender.deliver(first)
        fake_api.fail_next("sendMessage", 502, "Bad Gateway")  # chunk 2 fails
        await sender.send_due()
        assert statuses(app) == ["sent", "pending", "pending"]
        clock.current += timedelta(seconds=3)
        await sender.send_due()

    run(with_bot(fake_api, work))
    texts = [m["text"] for m in fake_api.sent_messages(ANN)]
    assert len(texts) == 3  # each chunk once: chunk 1 was not sent again
    assert " ".join(t.strip() for t in texts) == words


def test_ten_thousand_emoji_arrive_whole(fake_api: FakeBotApi, app: App) -> None:
    """Telegram counts UTF-16 units: an emoji outside the BMP is two of them."""
    emoji = "😀" * 10_000
    with app.new_uow() as uow:
        store_effects(uow, [Reply(ChatId(ANN), emoji)], agent_chat_id=None, at=T)
        uow.commit()

    async def work(bot: Bot) -> None:
        await Sender(bot=bot, new_uow=app.new_uow, clock=app.clock).send_due()

    run(with_bot(fake_api, work))
    texts = [m["text"] for m in fake_api.sent_messages(ANN)]
    assert all(len(t.encode("utf-16-le")) // 2 <= 4096 for t in texts)
    assert "".join(texts) == emoji
    assert set(statuses(app)) == {"sent"}


def test_a_403_from_the_agent_chat_keeps_the_notices_and_touches_no_customer(
    fake_api: FakeBotApi, app: App, clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The bot was removed from the agent chat: customers' replies still go out, the notices
    wait in order (an ERROR once, not per try) and are sent when the bot is back."""
    agents = -1009999999999
    queue(app, "card 1", agents)
    queue(app, "card 2", agents)
    queue(app, "reply 1")
    fake_api.block_chat(agents)  # 403 "bot was kicked from the supergroup chat"

    async def work(bot: Bot) -> None:
        sender = Sender(bot=bot, new_uow=app.new_uow, clock=clock, agent_chat_id=agents)
        await sender.send_due()
        queue(app, "reply 2")
        clock.current += timedelta(seconds=3)
        await sender.send_due()  # the card is tried again: 403 again
        assert statuses(app, agents) == ["pending", "pending"]
        assert statuses(app) == ["sent", "sent"]
        fake_api.unblock_chat(agents)  # the bot was added back
        clock.current += timedelta(seconds=10)
        await sender.send_due()

    with caplog.at_level(logging.INFO, logger="bot.telegram.sender"):
        run(with_bot(fake_api, work))
    assert [m["text"] for m in fake_api.sent_messages(ANN)] == ["reply 1", "reply 2"]
    assert [m["text"] for m in fake_api.sent_messages(agents)] == ["card 1", "card 2"]
    assert statuses(app, agents) == ["sent", "sent"]
    tries = [r for r in fake_api.requests_for("sendMessage") if r["chat_id"] == agents]
    assert len(tries) == 4  # two refused tries of card 1 (card 2 waited behind it), two sends
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "removed from the agent chat" in errors[0]


def test_admins_are_told_once_per_loss_of_the_agent_chat(
    fake_api: FakeBotApi, app: App, clock: SettableClock
) -> None:
    """The first refusal of a loss writes each admin a notice with what waits; tries again,
    and a restart while still out, tell nobody again; a later loss does. An admin who never
    started the bot refuses it: that notice fails once and is not tried again."""
    agents, admins = -1009999999999, (111, 222)
    with app.new_uow() as uow:
        topic = OutgoingMessage(agents, MessageKind.CREATE_TOPIC, "T-00001 · kettle · Ann")
        uow.outbox.add(topic, clock.now())  # not a notice: not counted
        uow.commit()
    queue(app, "card 1", agents)
    queue(app, "card 2", agents)
    fake_api.block_chat(agents)
    fake_api.block_chat(222)

    def sender(bot: Bot) -> Sender:
        return Sender(
            bot=bot,
            new_uow=app.new_uow,
            clock=clock,
            agent_chat_id=agents,
            admin_ids=admins,
            responses=app.responses,
        )

    async def work(bot: Bot) -> None:
        first = sender(bot)
        await first.send_due()  # refused: the admins' notices are queued, and go out in
        assert len(fake_api.sent_messages(111)) == 1  # the same pass: it is woken for them
        await first.send_due()
        clock.current += timedelta(seconds=3)
        await first.send_due()  # refused again: nobody is told again
        fake_api.fail_next("createForumTopic", 502, "Bad Gateway", chat_id=agents)
        clock.current += timedelta(seconds=10)
        await first.send_due()  # a network error between two refusals ...
        clock.current += timedelta(seconds=20)
        await first.send_due()  # ... does not make the next one a new loss
        await first.send_due()
        restarted = sender(bot)  # the bot restarts while it is still out of the chat
        clock.current += timedelta(seconds=40)
        await restarted.send_due()
        await restarted.send_due()
        assert len(fake_api.sent_messages(111)) == 1
        fake_api.unblock_chat(agents)  # added back
        clock.current += timedelta(seconds=60)
        await restarted.send_due()
        assert statuses(app, agents) == ["sent", "sent", "sent"]
        queue(app, "card 3", agents)
        fake_api.block_chat(agents)  # removed again: a new loss
        await restarted.send_due()
        await restarted.send_due()

    run(with_bot(fake_api, work))
    refused = [r for r in fake_api.requests_for("createForumTopic") if r["chat_id"] == agents]
    assert len(refused) == 6  # four refusals and a network error while out, then the topic
    assert [m["text"] for m in fake_api.sent_messages(agents)] == ["card 1", "card 2"]
    notices = [m["text"] for m in fake_api.sent_messages(111)]
    assert len(notices) == 2
    assert (
        "can no longer post in the support team's chat (<code>-1009999999999</code>)"
        in (notices[0])
    )
    assert "Notices waiting for the team: 2." in notices[0]
    assert "Notices waiting for the team: 1." in notices[1]
    assert "administrator allowed to <b>Manage topics</b>" in notices[0]
    to_222 = [r for r in fake_api.requests_for("sendMessage") if r["chat_id"] == 222]
    assert len(to_222) == 2  # one per loss, neither tried again
    assert statuses(app, 222) == ["failed", "failed"]
    assert statuses(app, agents)[-1] == "pending"  # card 3 waits for the bot's return


def test_a_handled_429_is_one_warning_line_without_a_traceback(
    fake_api: FakeBotApi, app: App, clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A 429 is routine: one WARNING that says how long, no ERROR, no traceback."""
    queue(app, "slow down")
    fake_api.enforce_retry_after = False  # the bot's clock is moved instead of waiting
    fake_api.fail_next("sendMessage", 429, retry_after=7)

    async def work(bot: Bot) -> None:
        sender = Sender(bot=bot, new_uow=app.new_uow, clock=clock)
        await sender.send_due()
        clock.current += timedelta(seconds=7)
        await sender.send_due()

    with caplog.at_level(logging.DEBUG):
        run(with_bot(fake_api, work))
    assert [m["text"] for m in fake_api.sent_messages(ANN)] == ["slow down"]
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.levelname, r.getMessage()) for r in loud] == [
        ("WARNING", "Telegram asked to slow down: pausing sends for 7 s")
    ]
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def test_a_reply_older_than_the_staleness_limit_is_given_up_logged_and_counted(
    fake_api: FakeBotApi, app: App, clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    """An outage that outlasts SEND_STALE_AFTER gives the old reply up; the next one goes.
    The team's notices are kept however old."""
    queue(app, "old")
    queue(app, "card", chat_id=AGENTS)
    clock.current += timedelta(hours=23, minutes=59)
    queue(app, "new")
    fake_api.fail_next("sendMessage", 502, "Bad Gateway", chat_id=ANN)
    fake_api.fail_next("sendMessage", 502, "Bad Gateway", chat_id=AGENTS)

    async def work(bot: Bot) -> Sender:
        sender = Sender(
            bot=bot,
            new_uow=app.new_uow,
            clock=clock,
            agent_chat_id=AGENTS,
            stale_after=timedelta(hours=24),
        )
        await sender.send_due()  # "old" meets the outage; "new" waits behind it
        assert statuses(app) == ["pending", "pending"]
        clock.current += timedelta(minutes=2)  # "old" is now 24 h 1 min old
        await sender.send_due()
        return sender

    with caplog.at_level(logging.WARNING, logger="bot.telegram.sender"):
        sender = run(with_bot(fake_api, work))
    assert [m["text"] for m in fake_api.sent_messages(ANN)] == ["new"]
    assert [m["text"] for m in fake_api.sent_messages(AGENTS)] == ["card"]
    assert len(fake_api.requests_for("sendMessage")) == 4  # two 502s, then "card" and "new"
    assert statuses(app) == ["failed", "sent"]
    assert statuses(app, AGENTS) == ["sent"]
    assert sender.stale == 1
    [gave_up] = [r.getMessage() for r in caplog.records if "gave up" in r.getMessage()]
    assert gave_up.startswith(f"gave up a message to chat {ANN}: not sent within 24 h")
    assert "Bad Gateway" in gave_up
