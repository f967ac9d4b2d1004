"""Inbox retries: the update's chat, attempts and the next try.

An update whose handling failed with a bug is tried again a few times with backoff before it
is set aside; later updates of the same chat wait for it (``chat_id``), other chats do not.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))
        batch.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_inbox_chat_id"), "inbox", ["chat_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_inbox_chat_id"), table_name="inbox")
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("next_attempt_at")
        batch.drop_column("attempts")
        batch.drop_column("chat_id")
