"""Real databases for the integration tests: a SQLite file always, PostgreSQL when
``TEST_DATABASE_URL`` is set (e.g. ``postgresql://postgres@127.0.0.1:5432/test``).

Every test starts and ends with an empty database, so tests are independent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.storage import make_engine, upgrade
from tests.databases import PG_SKIP_REASON
from tests.databases import drop_everything as _drop_everything


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'supportbot.db'}"
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip(PG_SKIP_REASON)
    return url


@pytest.fixture
def bare_engine(database_url: str) -> Iterator[Engine]:
    """An engine on an empty database: no tables, not migrated."""
    engine = make_engine(database_url)
    _drop_everything(engine)
    try:
        yield engine
    finally:
        _drop_everything(engine)
        engine.dispose()


@pytest.fixture
def engine(bare_engine: Engine) -> Engine:
    """An engine on a database migrated to the newest schema."""
    upgrade(bare_engine)
    return bare_engine
