"""Start-up against an unreachable Bot API (bot.telegram.channel.connect): tried for as long
as it takes, one line a try and never the token; a refused token stops at once."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import pytest
from telegram.error import InvalidToken, NetworkError
from telegram.ext import ExtBot

from bot.telegram.channel import ChannelError, connect

TOKEN = "123456:SECRET-token"


class Unreachable:
    """``initialize`` fails ``failures`` times (with ``error``), then succeeds."""

    def __init__(self, failures: int, error: Exception | None = None, stop: Any = None) -> None:
        self.failures = failures
        self.error = error or NetworkError("httpx.ConnectError: All connection attempts failed")
        self.calls = 0
        self.stop: asyncio.Event | None = stop

    async def initialize(self) -> None:
        self.calls += 1
        if self.stop is not None and self.calls == self.failures:
            self.stop.set()  # SIGTERM while the Bot API is still away
        if self.calls <= self.failures:
            raise self.error


def run(bot: Unreachable, stop: asyncio.Event | None = None) -> bool:
    async def go() -> bool:
        return await connect(cast(ExtBot[Any], bot), stop or asyncio.Event(), first=0.0, most=0.0)

    return asyncio.run(go())


def test_an_unreachable_bot_api_is_tried_until_it_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = Unreachable(failures=30)
    with caplog.at_level(logging.WARNING, logger="bot.telegram.channel"):
        assert run(bot) is True
    assert bot.calls == 31
    tries = [r.getMessage() for r in caplog.records if "cannot reach the Bot API" in r.getMessage()]
    assert len(tries) == 30
    assert "try 30 failed" in tries[-1]
    assert all(TOKEN not in line for line in caplog.text.splitlines())


def test_a_refused_token_stops_at_once_with_one_clear_line() -> None:
    bot = Unreachable(failures=99, error=InvalidToken(f"The token `{TOKEN}` was rejected"))
    with pytest.raises(ChannelError) as raised:
        run(bot)
    assert bot.calls == 1
    message = str(raised.value)
    assert "TELEGRAM_BOT_TOKEN was refused" in message and "\n" not in message
    assert TOKEN not in message


def test_a_stop_while_waiting_for_the_bot_api_ends_the_tries() -> None:
    async def go() -> tuple[bool, int]:
        stop = asyncio.Event()
        bot = Unreachable(failures=3, stop=stop)
        reached = await connect(cast(ExtBot[Any], bot), stop, first=0.0, most=0.0)
        return reached, bot.calls

    assert asyncio.run(go()) == (False, 3)


def test_the_wait_between_tries_doubles_up_to_a_cap() -> None:
    from bot.telegram.timing import backoff

    waits = [backoff(n, first=1.0, most=60.0) for n in range(1, 10)]
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
