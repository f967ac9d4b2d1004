"""Fixtures for end-to-end tests against the fake Telegram Bot API."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.storage import make_engine, upgrade
from tests.databases import PG_SKIP_REASON, drop_everything
from tests.e2e.botprocess import BotProcess
from tests.e2e.fake_bot_api import FakeBotApi


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    """A started :class:`FakeBotApi`; stopped after the test."""
    fake = FakeBotApi().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def knowledge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small shop's knowledge, written here so the tests do not depend on the demo."""
    directory = tmp_path_factory.mktemp("knowledge")
    (directory / "kettles.yaml").write_text(KETTLES, encoding="utf-8")
    return directory


@pytest.fixture
def bot(fake_api: FakeBotApi, tmp_path: Path, knowledge_dir: Path) -> Iterator[BotProcess]:
    """The real bot, running against ``fake_api``; stopped (or killed) after the test."""
    # a low suggest floor, so the second kettle entry is a "next candidate" after "No"
    process = BotProcess(
        fake_api, tmp_path, KNOWLEDGE_DIR=str(knowledge_dir), MATCH_SUGGEST_THRESHOLD="20"
    ).start()
    try:
        yield process
    finally:
        if process.alive():
            process.kill()
        assert fake_api.token not in process.log(), "the bot token was written to the log"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """An empty, migrated database of each kind, and an engine on it for the test."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'bot.db'}"
    else:
        url = os.environ.get("TEST_DATABASE_URL") or ""
        if not url:
            pytest.skip(PG_SKIP_REASON)
    engine = make_engine(url)
    drop_everything(engine)
    upgrade(engine)
    try:
        yield url, engine
    finally:
        drop_everything(engine)
        engine.dispose()


KETTLES = """\
product: Brewster kettle
entries:
  - id: kettle-does-not-heat
    title: Kettle does not heat up
    symptoms:
      - my kettle does not heat the water
      - kettle switches on but the water stays cold
      - the kettle light is on but it won't boil
    fix: |
      1. Check the kettle sits flat on its base.
      2. Wipe the contacts on the base with a dry cloth.
    replacement: {within_days: 30}
  - id: kettle-switches-off-early
    title: Kettle switches off before the water boils
    symptoms:
      - my kettle turns off before the water boils
      - kettle clicks off too early and the water is not hot
    fix: |
      1. Descale the kettle with one part vinegar and two parts water.
  - id: kettle-leaks
    title: Water leaks from the kettle
    symptoms:
      - there is water under my kettle
      - the kettle is leaking from the bottom
    fix: |
      1. Do not fill above the MAX line.
"""
