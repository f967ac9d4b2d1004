"""Several senders on one database: an outbox row being sent holds a lease
(``lease_until``) so that one replica sends it and a dead one's rows are taken up again;
``send_pace`` holds the shared rate budget (key 0) and each group's pace (its chat id).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    # the sender's question "which rows of this chat come before this one and are not done"
    op.create_index(op.f("ix_outbox_chat_id_status"), "outbox", ["chat_id", "status"])
    op.create_index(op.f("ix_inbox_chat_id_processed_at"), "inbox", ["chat_id", "processed_at"])
    op.create_table(
        "send_pace",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_send_pace")),
    )


def downgrade() -> None:
    op.drop_table("send_pace")
    op.drop_index(op.f("ix_inbox_chat_id_processed_at"), table_name="inbox")
    op.drop_index(op.f("ix_outbox_chat_id_status"), table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("lease_until")
