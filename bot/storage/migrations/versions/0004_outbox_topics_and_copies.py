"""Outbox rows for the agent chat's topics: which ticket a row belongs to, and copies.

A row with ``ticket_id`` goes into that ticket's forum topic (or answers its card in a
chat without topics); ``from_chat_id`` and ``source_message_id`` say what a copyMessage
copies.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("ticket_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("from_chat_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("source_message_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("source_message_id")
        batch.drop_column("from_chat_id")
        batch.drop_column("ticket_id")
