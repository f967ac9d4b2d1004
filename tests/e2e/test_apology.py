"""The apology for an update set aside after a bug says only what happened: the update is
kept (with its error) and logged, and each admin (``ADMIN_IDS``) gets a private notice; the
customer is told that the team knows only when an admin was told, in every shipped language."""

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


ADMIN = 777


def set_aside(fake_api: FakeBotApi, app: App, clock: SettableClock, admins: tuple[int, ...]) -> int:
    """Ann's message meets a bug three times and is set aside; its update_id."""
    update_id = fake_api.push_text(ANN, "my kettle is broken")
    store_update(app, fake_api, update_id)

    async def work(bot: Bot) -> None:
        worker = Worker(
            bot=bot,
            new_uow=app.new_uow,
            conversations=Exploding(message="bad <state> & more"),
            responses=app.responses,
            clock=app.clock,
            agent_chat_id=AGENTS,
            on_outbox=asyncio.Event(),
            admin_ids=admins,
        )
        for _ in range(3):  # tried three times, then set aside
            await worker.drain()
            clock.current += timedelta(seconds=10)
        assert worker.set_aside == 1

    run(with_bot(fake_api, work))
    return update_id


def test_with_no_admin_the_apology_does_not_say_the_team_was_told(
    fake_api: FakeBotApi, app: App, clock: SettableClock
) -> None:
    set_aside(fake_api, app, clock, admins=())
    with app.new_uow() as uow:
        [apology] = [item.text for item in uow.outbox.for_chat(ANN)]
        assert uow.outbox.for_chat(AGENTS) == []  # the team was sent nothing
    assert apology == app.responses.text(Say.SOMETHING_WENT_WRONG)
    assert TEAM["en"] not in apology.lower()


def test_the_admins_are_told_and_then_the_apology_says_so(
    fake_api: FakeBotApi, app: App, clock: SettableClock
) -> None:
    update_id = set_aside(fake_api, app, clock, admins=(ADMIN,))
    with app.new_uow() as uow:
        [apology] = [item.text for item in uow.outbox.for_chat(ANN)]
        [notice] = [item.text for item in uow.outbox.for_chat(ADMIN)]
        assert uow.outbox.for_chat(AGENTS) == []
    assert apology == app.responses.text(Say.SOMETHING_WENT_WRONG_TEAM_TOLD)
    assert TEAM["en"] in apology.lower()
    assert f"<code>{update_id}</code>" in notice and f"<code>{ANN}</code>" in notice
    assert "RuntimeError: bad &lt;state&gt; &amp; more" in notice  # the error, escaped


@pytest.mark.parametrize("language", sorted(TEAM))
def test_no_shipped_apology_for_a_bug_claims_a_notice_to_the_team(language: str) -> None:
    path = default_responses_path()
    if language != "en":
        path = path.with_name(f"responses.{language}.yaml")
    responses = Responses.load(path, language=language)
    assert TEAM[language] not in responses.text(Say.SOMETHING_WENT_WRONG).lower()
    assert TEAM[language] in responses.text(Say.SOMETHING_WENT_WRONG_TEAM_TOLD).lower()
