"""Who may act as an agent: admins, and the agents stored in the database."""

from __future__ import annotations

from collections.abc import Collection

from flows.model import UserId
from flows.ports import AgentRepository


def may_act(user_id: int, *, admins: Collection[int], agents: AgentRepository) -> bool:
    """True when ``user_id`` may use agent commands.

    Admins (``ADMIN_IDS``) are agents too, without a row in the agent table and without a
    database read. ``user_id`` must be Telegram's numeric id of the sender, never derived
    from a username: usernames can be given up and taken by someone else.
    """
    return user_id in admins or agents.is_agent(UserId(user_id))
