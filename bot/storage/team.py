"""The support team's repositories on SQL: agents and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case
from sqlmodel import col, select

from bot.storage.session import SessionSource, insert
from bot.storage.tables import (
    AgentRow,
    AuditRow,
)
from flows.model import (
    Agent,
    AuditEntry,
    ChatId,
    TicketId,
    UserId,
)

# ---- the support team's repositories ------------------------------------------------


class SqlAgentRepository:
    """Agents by Telegram user id. Removal is soft (``removed_at``), so that the audit rows
    naming a former agent keep their meaning; adding them again clears it."""

    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def is_agent(self, user_id: UserId) -> bool:
        return self.get(user_id) is not None

    def get(self, user_id: UserId) -> Agent | None:
        """The current agent with this id; None when removed or never added."""
        row = self._session().get(AgentRow, user_id, populate_existing=True)
        if row is None or row.removed_at is not None:
            return None
        return self._agent(row)

    def add(self, agent: Agent, at: datetime) -> None:
        """Add the agent, or update a current one's name (keeping when and by whom they were
        added). A removed agent comes back as newly added by ``agent.added_by`` at ``at``.

        One statement, so two admins adding the same person at once cannot collide.
        """
        stmt = insert(self._session(), AgentRow).values(
            user_id=agent.user_id,
            name=agent.name[:256],
            added_by=agent.added_by,
            added_at=at,
            removed_at=None,
        )
        removed = col(AgentRow.removed_at).is_not(None)
        stmt = stmt.on_conflict_do_update(
            index_elements=["user_id"],
            set_={
                "name": stmt.excluded.name,
                "added_by": case((removed, stmt.excluded.added_by), else_=col(AgentRow.added_by)),
                "added_at": case((removed, stmt.excluded.added_at), else_=col(AgentRow.added_at)),
                "removed_at": None,
            },
        )
        self._session().execute(stmt)

    def remove(self, user_id: UserId, at: datetime) -> bool:
        """Mark a current agent removed; False (nothing changed) if they were not one."""
        row = self._session().get(AgentRow, user_id, populate_existing=True)
        if row is None or row.removed_at is not None:
            return False
        row.removed_at = at
        self._session().flush()
        return True

    def list(self) -> list[Agent]:
        """Current agents, in the order they were added."""
        stmt = (
            select(AgentRow)
            .where(col(AgentRow.removed_at).is_(None))
            .order_by(col(AgentRow.added_at), col(AgentRow.user_id))
            .execution_options(populate_existing=True)
        )
        return [self._agent(row) for row in self._session().scalars(stmt)]

    @staticmethod
    def _agent(row: AgentRow) -> Agent:
        return Agent(
            user_id=UserId(row.user_id),
            name=row.name,
            added_by=UserId(row.added_by) if row.added_by is not None else None,
            added_at=row.added_at,
        )


class SqlAuditLog:
    """Who tried what, when, and whether it was allowed."""

    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def add(self, entry: AuditEntry) -> None:
        self._session().add(
            AuditRow(
                at=entry.at,
                actor_id=entry.actor_id,
                chat_id=entry.chat_id,
                ticket_id=entry.ticket_id,
                action=entry.action[:64],
                detail=entry.detail,
                allowed=entry.allowed,
            )
        )

    def recent(self, limit: int = 100) -> list[AuditEntry]:
        """The latest entries, newest first (for people and tests reading the log)."""
        stmt = (
            select(AuditRow).order_by(col(AuditRow.at).desc(), col(AuditRow.id).desc()).limit(limit)
        )
        return [
            AuditEntry(
                at=row.at,
                action=row.action,
                allowed=row.allowed,
                actor_id=UserId(row.actor_id) if row.actor_id is not None else None,
                chat_id=ChatId(row.chat_id) if row.chat_id is not None else None,
                ticket_id=TicketId(row.ticket_id) if row.ticket_id is not None else None,
                detail=row.detail,
            )
            for row in self._session().scalars(stmt)
        ]
