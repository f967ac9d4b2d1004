"""Shared by the tests that use a real database."""

from __future__ import annotations

import os

from sqlalchemy import Engine, MetaData

PG_SKIP_REASON = "TEST_DATABASE_URL not set: PostgreSQL tests skipped"


def postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def drop_everything(engine: Engine) -> None:
    """Drop every table, ``alembic_version`` included."""
    with engine.begin() as connection:
        metadata = MetaData()
        metadata.reflect(connection)
        metadata.drop_all(connection)
