"""What the knowledge missed (``unmatched``) and what customers and agents taught it
(``suggestion``), for ``supportbot report`` and ``supportbot kb suggestions``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Surrogate keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
surrogate_key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "unmatched",
        sa.Column("id", surrogate_key, autoincrement=True, nullable=False),
        sa.Column("at", timestamp(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmatched")),
    )
    op.create_index(op.f("ix_unmatched_at"), "unmatched", ["at"])
    op.create_table(
        "suggestion",
        sa.Column("id", surrogate_key, autoincrement=True, nullable=False),
        sa.Column("at", timestamp(), nullable=False),
        sa.Column("entry_id", sa.String(length=128), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_key", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_at", timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion")),
        sa.UniqueConstraint(
            "entry_id", "language", "text_key", name=op.f("uq_suggestion_entry_id")
        ),
    )
    op.create_index(op.f("ix_suggestion_status"), "suggestion", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_suggestion_status"), table_name="suggestion")
    op.drop_table("suggestion")
    op.drop_index(op.f("ix_unmatched_at"), table_name="unmatched")
    op.drop_table("unmatched")
