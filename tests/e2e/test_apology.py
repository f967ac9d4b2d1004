"""The apology for an update set aside after a bug says only what happened: the update is
kept (with its error) and logged; no notice went to the team's chat, so it does not tell the
customer that the team was told, in any shipped language."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import App, build
from bot.settings import load_settings
from bot.telegram.worker import Worker
from knowledge.responses import Responses, Say, default_responses_path
from tests.e2e.fake_bot_api import FakeBotApi
from tests.e2e.test_delivery import (
    AGENTS,
    ANN,
    Bot,
    Exploding,
    SettableClock,
    run,
    store_update,
    with_bot,
)

# how each shipped catalogue names the team
TEAM = {"en": "team", "ru": "команд", "es": "equipo"}


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: SettableClock) -> App:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KNOWLEDGE_DIR", raising=False)
    return build(load_settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}"), clock=clock)


def test_the_apology_for_a_set_aside_update_does_not_say_the_team_was_told(
    fake_api: FakeBotApi, app: App, clock: SettableClock
) -> None:
    store_update(app, fake_api, fake_api.push_text(ANN, "my kettle is broken"))

    async def work(bot: Bot) -> None:
        worker = Worker(
            bot=bot,
            new_uow=app.new_uow,
            conversations=Exploding(),
            responses=app.responses,
            clock=app.clock,
            agent_chat_id=AGENTS,
            on_outbox=asyncio.Event(),
        )
        for _ in range(3):  # tried three times, then set aside
            await worker.drain()
            clock.current += timedelta(seconds=10)

    run(with_bot(fake_api, work))
    with app.new_uow() as uow:
        [apology] = [item.text for item in uow.outbox.for_chat(ANN)]
        assert uow.outbox.for_chat(AGENTS) == []  # the team was sent nothing
    assert apology == app.responses.text(Say.SOMETHING_WENT_WRONG)
    assert TEAM["en"] not in apology.lower()


@pytest.mark.parametrize("language", sorted(TEAM))
def test_no_shipped_apology_for_a_bug_claims_a_notice_to_the_team(language: str) -> None:
    path = default_responses_path()
    if language != "en":
        path = path.with_name(f"responses.{language}.yaml")
    apology = Responses.load(path, language=language).text(Say.SOMETHING_WENT_WRONG)
    assert TEAM[language] not in apology.lower()
