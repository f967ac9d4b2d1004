"""Agents, the audit log and ticket events; a ticket's topic, card and assignee.

Agents are the people who may use agent commands (by Telegram user id); the audit log
records every attempt, allowed or refused; ticket events timestamp each change in a ticket's
life (first-response and resolution times come from them). A ticket gains the forum topic
and context card it has in the agent chat, and the agent who took it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Surrogate keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
surrogate_key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("topic_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("card_message_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("assignee_id", sa.BigInteger(), nullable=True))
    op.create_index(op.f("ix_ticket_topic_id"), "ticket", ["topic_id"])
    op.create_index(op.f("ix_ticket_card_message_id"), "ticket", ["card_message_id"])

    op.create_table(
        "ticket_event",
        sa.Column("id", surrogate_key, autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("at", timestamp(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_event")),
    )
    op.create_index(op.f("ix_ticket_event_ticket_id"), "ticket_event", ["ticket_id"])

    op.create_table(
        "agent",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("added_by", sa.BigInteger(), nullable=True),
        sa.Column("added_at", timestamp(), nullable=False),
        sa.Column("removed_at", timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agent")),
    )

    op.create_table(
        "audit",
        sa.Column("id", surrogate_key, autoincrement=True, nullable=False),
        sa.Column("at", timestamp(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
    )
    op.create_index(op.f("ix_audit_at"), "audit", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_at"), table_name="audit")
    op.drop_table("audit")
    op.drop_table("agent")
    op.drop_index(op.f("ix_ticket_event_ticket_id"), table_name="ticket_event")
    op.drop_table("ticket_event")
    # Indexes first: SQLite's batch mode copies the table with its indexes.
    op.drop_index(op.f("ix_ticket_card_message_id"), table_name="ticket")
    op.drop_index(op.f("ix_ticket_topic_id"), table_name="ticket")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_column("assignee_id")
        batch.drop_column("card_message_id")
        batch.drop_column("topic_id")
