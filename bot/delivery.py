"""Turning the flows' effects into outbox rows, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.storage import CLEAR_BUTTONS, SEND, OutgoingMessage, SqlUnitOfWork
from flows.model import ClearButtons, Effect, NotifyAgents, Reply


def store_effects(
    uow: SqlUnitOfWork, effects: Iterable[Effect], *, agent_chat_id: int | None, at: datetime
) -> list[int]:
    """Write each effect to the outbox; nothing is sent before the caller commits."""
    ids: list[int] = []
    for effect in effects:
        message = to_outgoing(effect, agent_chat_id=agent_chat_id)
        if message is not None:
            ids.append(uow.outbox.add(message, at))
    return ids


def to_outgoing(effect: Effect, *, agent_chat_id: int | None) -> OutgoingMessage | None:
    if isinstance(effect, Reply):
        buttons = [[{"label": b.label, "data": b.data} for b in row] for row in effect.buttons]
        return OutgoingMessage(effect.chat_id, SEND, effect.text, buttons or None)
    if isinstance(effect, ClearButtons):
        return OutgoingMessage(effect.chat_id, CLEAR_BUTTONS, target_message_id=effect.message_id)
    if isinstance(effect, NotifyAgents):
        if agent_chat_id is None:
            return None
        return OutgoingMessage(agent_chat_id, SEND, effect.text)
    raise TypeError(f"unknown effect {effect!r}")
