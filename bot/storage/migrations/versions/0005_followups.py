"""Follow-ups: the bot comes back after a resolution; a ticket keeps the customer's rating.

``followup`` is the list of timers (the database holds them, the scheduler is only the
clock): unique per (ticket, kind, round), claimed by due time through (status, due_at).
An outbox row's ``priority`` lets the sender take live replies before follow-ups.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Surrogate keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
surrogate_key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("rating", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("rating_comment", sa.Text(), nullable=True))

    with op.batch_alter_table("outbox") as batch:  # live replies first, follow-ups after
        batch.add_column(
            sa.Column("priority", sa.SmallInteger(), nullable=False, server_default=sa.text("0"))
        )

    op.create_table(
        "followup",
        sa.Column("id", surrogate_key, autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("due_at", timestamp(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", timestamp(), nullable=True),
        sa.Column("sent_at", timestamp(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.Column("updated_at", timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_followup_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup")),
        sa.UniqueConstraint("ticket_id", "kind", "round", name=op.f("uq_followup_ticket_id")),
    )
    op.create_index(op.f("ix_followup_chat_id"), "followup", ["chat_id"])
    op.create_index("ix_followup_status_due_at", "followup", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_followup_status_due_at", table_name="followup")
    op.drop_index(op.f("ix_followup_chat_id"), table_name="followup")
    op.drop_table("followup")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("priority")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_column("rating_comment")
        batch.drop_column("rating")
