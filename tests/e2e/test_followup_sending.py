"""The sender with follow-up rows in the outbox: live replies first, follow-ups at most
FOLLOWUP_RATE a second, each chat still in order (in this process, real SQLite, fake API)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, build
from bot.followups import SendBudget
from bot.settings import load_settings
from bot.storage import FOLLOW_UP, MessageKind, OutgoingMessage
from bot.telegram.channel import build_bot
from bot.telegram.sender import Sender
from tests.e2e.fake_bot_api import FakeBotApi


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KNOWLEDGE_DIR", raising=False)
    return build(load_settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}"))


def queue(app: App, chat_id: int, text: str, priority: int = 0) -> None:
    with app.new_uow() as uow:
        message = OutgoingMessage(chat_id, MessageKind.SEND, text, priority=priority)
        uow.outbox.add(message, app.clock.now())
        uow.commit()


def test_live_first_follow_ups_within_the_budget_and_each_chat_in_order(
    fake_api: FakeBotApi, app: App
) -> None:
    for n in range(5):
        queue(app, 100 + n, f"follow-up {n}", FOLLOW_UP)
    queue(app, 100, "live to a chat with a follow-up queued before it")
    queue(app, 7, "live")
    mono = [50.0]
    waits: list[float] = []

    async def work() -> None:
        bot: Any = build_bot(fake_api.token, fake_api.base_url, fake_api.base_file_url)
        await bot.initialize()
        try:
            sender = Sender(bot=bot, new_uow=app.new_uow, clock=app.clock)
            sender.followup_budget = SendBudget(2, now=lambda: mono[0])
            waits.append(await sender.send_due())
            waits.append(await sender.send_due())  # the budget is spent: nothing more
            mono[0] += 1.0
            waits.append(await sender.send_due())
        finally:
            await bot.shutdown()

    asyncio.run(work())
    texts = [m["text"] for m in fake_api.sent_messages()]
    # chats are served side by side, so only each chat's order is fixed: the live reply
    # first; two follow-ups (the budget); chat 100's live reply right after its earlier
    # follow-up, in the same pass, without the budget
    assert texts[0] == "live"
    assert sorted(texts[1:4]) == [
        "follow-up 0",
        "follow-up 1",
        "live to a chat with a follow-up queued before it",
    ]
    assert waits[0] == pytest.approx(1.0) and waits[1] == pytest.approx(1.0)
    assert sorted(texts[4:]) == ["follow-up 2", "follow-up 3"]  # the next second: two more
    sent_100 = [m["text"] for m in fake_api.sent_messages(100)]
    assert sent_100 == ["follow-up 0", "live to a chat with a follow-up queued before it"]
