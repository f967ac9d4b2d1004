"""Shared by the tests that use a real database."""

from __future__ import annotations

import os
from urllib.parse import urlencode

import pytest
from sqlalchemy import Engine, MetaData

from bot.storage import make_engine

PG_SKIP_REASON = "TEST_DATABASE_URL not set: PostgreSQL tests skipped"


def postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def drop_everything(engine: Engine) -> None:
    """Drop every table, ``alembic_version`` included."""
    with engine.begin() as connection:
        metadata = MetaData()
        metadata.reflect(connection)
        metadata.drop_all(connection)


def empty_postgres(**query: str) -> str:
    """``TEST_DATABASE_URL`` emptied of every table, with ``query`` added to the URL (a
    PostgreSQL test is skipped without it)."""
    url = postgres_url()
    if url is None:
        pytest.skip(PG_SKIP_REASON)
    engine = make_engine(url)
    drop_everything(engine)
    engine.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{urlencode(query)}" if query else url
