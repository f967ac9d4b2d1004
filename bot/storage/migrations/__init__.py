"""Alembic migrations of the supportbot schema (run them with ``bot.storage.upgrade``)."""
