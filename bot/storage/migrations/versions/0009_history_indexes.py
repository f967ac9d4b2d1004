"""Indexes for questions asked often that read the whole history without them, so that a
bot got slower with each month it ran:

- the inbox's updates still to handle (every pass of the worker; PostgreSQL, 100,000
  handled: 38 ms a pass): a partial index holds only the unhandled ones, as small as the
  backlog whatever the history;
- the latest hand-overs (every hand-over, for the typical wait; SQLite, 50,000 tickets:
  74 ms): ticket events by kind and time.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNHANDLED = sa.text("processed_at IS NULL")


def upgrade() -> None:
    op.create_index(op.f("ix_ticket_event_kind_at"), "ticket_event", ["kind", "at"])
    op.create_index(
        op.f("ix_inbox_pending"),
        "inbox",
        ["update_id"],
        sqlite_where=_UNHANDLED,
        postgresql_where=_UNHANDLED,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_inbox_pending"), table_name="inbox")
    op.drop_index(op.f("ix_ticket_event_kind_at"), table_name="ticket_event")
