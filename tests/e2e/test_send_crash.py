"""A sender killed in the middle of a send: the row it held is sent again, once, after its
lease (at once for the only sender of a SQLite database), with a warning that it may
arrive twice; nothing behind it in its chat overtakes it. A sender that lives on through a
lost connection does not wait for its own leases. A call whose answer was lost on the way
back is the other way a message arrives twice, and the log says so."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.app import App, build
from bot.settings import load_settings
from bot.storage import SqlUnitOfWork, UnitOfWorkFactory
from bot.telegram.channel import build_bot
from bot.telegram.sender import LEASE, Sender
from tests.e2e.fake_bot_api import FakeBotApi
from tests.e2e.test_delivery import ANN, Bot, SettableClock, queue, run, statuses, with_bot


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: SettableClock) -> App:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KNOWLEDGE_DIR", raising=False)
    return build(load_settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}"), clock=clock)


def claimed_by_a_dead_sender(app: App, clock: SettableClock) -> None:
    """What a kill between the claim (or the call) and the mark leaves: a row ``sending``."""
    queue(app, "first")
    queue(app, "second")
    with app.new_uow() as uow:
        [first] = uow.outbox.claim(clock.now(), clock.now() + LEASE, 10)
        uow.commit()
    assert first.text == "first"


def test_a_restarted_sole_sender_sends_its_unfinished_row_again_at_once(
    fake_api: FakeBotApi, app: App, clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    claimed_by_a_dead_sender(app, clock)

    async def work(bot: Bot) -> None:
        await Sender(bot=bot, new_uow=app.new_uow, clock=clock, sole=True).send_due()

    with caplog.at_level(logging.WARNING, logger="bot.telegram.sender"):
        run(with_bot(fake_api, work))
    assert [m["text"] for m in fake_api.sent_messages(ANN)] == ["first", "second"]
    assert statuses(app) == ["sent", "sent"]
    [warning] = [r.getMessage() for r in caplog.records if r.name == "bot.telegram.sender"]
    assert "may arrive twice" in warning and str(ANN) in warning


def test_another_replica_takes_up_a_dead_senders_row_only_after_its_lease(
    fake_api: FakeBotApi, app: App, clock: SettableClock
) -> None:
    claimed_by_a_dead_sender(app, clock)

    async def work(bot: Bot) -> None:
        other = Sender(bot=bot, new_uow=app.new_uow, clock=clock)  # PostgreSQL: not sole
        await other.send_due()
        assert fake_api.sent_messages(ANN) == []  # the holder may only be slow: wait
        clock.current += LEASE + timedelta(seconds=1)
        await other.send_due()

    run(with_bot(fake_api, work))
    assert [m["text"] for m in fake_api.sent_messages(ANN)] == ["first", "second"]


class CommitAnswerLost:
    """A unit-of-work factory whose first claim that takes rows commits, and then reports the
    connection lost: the server's answer to COMMIT never came back (a reset, a proxy)."""

    def __init__(self, new_uow: UnitOfWorkFactory) -> None:
        self.new_uow = new_uow
        self.armed = True

    def __call__(self) -> SqlUnitOfWork:
        uow = self.new_uow()
        claim, commit = uow.outbox.claim, uow.commit

        def claiming(*args: Any, **kwargs: Any) -> Any:
            items = claim(*args, **kwargs)
            if items and self.armed:
                self.armed = False
                uow.commit = lost  # type: ignore[method-assign]
            return items

        def lost() -> None:
            commit()
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

        uow.outbox.claim = claiming  # type: ignore[method-assign]
        return uow


def test_a_claim_whose_commit_answer_was_lost_is_sent_without_waiting_for_its_lease(
    fake_api: FakeBotApi, app: App, clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    queue(app, "first")
    queue(app, "second")
    flaky = CommitAnswerLost(app.new_uow)

    async def work(bot: Bot) -> None:
        sender = Sender(bot=bot, new_uow=flaky, clock=clock)  # PostgreSQL's: not sole
        with pytest.raises(OperationalError):
            await sender.send_due()
        assert statuses(app) == ["sending", "pending"]  # the claim did commit
        await sender.send_due()  # the clock stands still: the lease has not run out

    with caplog.at_level(logging.WARNING, logger="bot.telegram.sender"):
        run(with_bot(fake_api, work))
    assert [m["text"] for m in fake_api.sent_messages(ANN)] == ["first", "second"]
    assert statuses(app) == ["sent", "sent"]
    assert not [r for r in caplog.records if "may arrive twice" in r.getMessage()]  # never sent


def sender_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.telegram.sender"]


def test_a_call_whose_answer_was_lost_is_sent_again_and_the_log_says_it_may_arrive_twice(
    fake_api: FakeBotApi, app: App, clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    queue(app, "first")
    fake_api.delay_next("sendMessage", 2.0)  # acted on after the bot stopped waiting for it

    async def work() -> None:
        bot: Bot = ExtBot(
            fake_api.token,
            base_url=fake_api.base_url,
            request=HTTPXRequest(read_timeout=0.5),
        )
        await bot.initialize()
        try:
            sender = Sender(bot=bot, new_uow=app.new_uow, clock=clock)
            await sender.send_due()
            assert fake_api.wait_for_messages(ANN, count=1)  # Telegram did send it
            clock.current += timedelta(seconds=3)
            await sender.send_due()
        finally:
            await bot.shutdown()

    with caplog.at_level(logging.WARNING, logger="bot.telegram.sender"):
        run(work())
    # the Bot API has no idempotency key: sent again, it arrives twice
    assert [m["text"] for m in fake_api.sent_messages(ANN)] == ["first", "first"]
    [warning] = sender_warnings(caplog)
    assert "may arrive twice" in warning and str(ANN) in warning


def test_a_call_that_never_reached_the_bot_api_is_not_said_to_arrive_twice(
    fake_api: FakeBotApi, app: App, clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    queue(app, "first")

    async def work() -> None:
        bot = build_bot(fake_api.token, fake_api.base_url, fake_api.base_file_url)
        await bot.initialize()
        fake_api.stop()  # nothing listens there now: the connection is refused
        try:
            await Sender(bot=bot, new_uow=app.new_uow, clock=clock).send_due()
        finally:
            await bot.shutdown()

    with caplog.at_level(logging.WARNING, logger="bot.telegram.sender"):
        run(work())
    assert statuses(app) == ["pending"]
    [warning] = sender_warnings(caplog)
    assert str(ANN) in warning and "twice" not in warning
