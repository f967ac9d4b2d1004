"""Turning the flows' effects into outbox rows, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from bot.markup import split_html
from bot.storage import LIVE, MessageKind, OutgoingMessage, SqlUnitOfWork
from flows.model import (
    ClearButtons,
    CloseTopic,
    CopyToAgents,
    CopyToCustomer,
    Effect,
    NotifyAgents,
    OpenTopic,
    ReopenTopic,
    Reply,
)


def store_effects(
    uow: SqlUnitOfWork,
    effects: Iterable[Effect],
    *,
    agent_chat_id: int | None,
    at: datetime,
    priority: int = LIVE,
    update_id: int | None = None,
) -> list[int]:
    """Write each effect to the outbox; nothing is sent before the caller commits.

    ``priority``: ``FOLLOW_UP`` for the follow-up dispatcher's, which the sender takes
    after live replies and at most ``FOLLOWUP_RATE`` a second. ``update_id``: the update
    the effects answer; the sender serves chats in the order of their updates.

    A text longer than one Telegram message becomes one row per chunk (the buttons go with
    the last), so a chunk that fails is retried alone and never sends the others twice.
    """
    ids: list[int] = []
    for effect in effects:
        message = to_outgoing(effect, agent_chat_id=agent_chat_id)
        if message is not None:
            message = replace(message, priority=priority, update_id=update_id)
            ids.extend(uow.outbox.add(chunk, at) for chunk in chunked(message))
    return ids


def to_outgoing(effect: Effect, *, agent_chat_id: int | None) -> OutgoingMessage | None:
    if isinstance(effect, Reply):
        buttons = [[{"label": b.label, "data": b.data} for b in row] for row in effect.buttons]
        return OutgoingMessage(effect.chat_id, MessageKind.SEND, effect.text, buttons or None)
    if isinstance(effect, ClearButtons):
        return OutgoingMessage(
            effect.chat_id, MessageKind.CLEAR_BUTTONS, target_message_id=effect.message_id
        )
    if agent_chat_id is None:  # everything else involves the team's chat: none is set
        return None
    if isinstance(effect, NotifyAgents):
        kind = MessageKind.CARD if effect.card else MessageKind.SEND
        return OutgoingMessage(agent_chat_id, kind, effect.text, ticket_id=effect.ticket_id)
    if isinstance(effect, OpenTopic):
        return OutgoingMessage(
            agent_chat_id, MessageKind.CREATE_TOPIC, effect.name, ticket_id=effect.ticket_id
        )
    if isinstance(effect, CopyToAgents):
        return OutgoingMessage(
            agent_chat_id,
            MessageKind.COPY,
            ticket_id=effect.ticket_id,
            from_chat_id=effect.from_chat_id,
            source_message_id=effect.message_id,
        )
    if isinstance(effect, CopyToCustomer):
        return OutgoingMessage(
            effect.chat_id,
            MessageKind.COPY,
            from_chat_id=agent_chat_id,
            source_message_id=effect.message_id,
        )
    if isinstance(effect, CloseTopic):
        return OutgoingMessage(agent_chat_id, MessageKind.CLOSE_TOPIC, ticket_id=effect.ticket_id)
    if isinstance(effect, ReopenTopic):
        return OutgoingMessage(agent_chat_id, MessageKind.REOPEN_TOPIC, ticket_id=effect.ticket_id)
    raise TypeError(f"unknown effect {effect!r}")


def chunked(message: OutgoingMessage) -> list[OutgoingMessage]:
    """The message as rows that each fit in one Telegram message; buttons on the last."""
    if message.kind not in (MessageKind.SEND, MessageKind.CARD):
        return [message]
    parts = split_html(message.text)
    if len(parts) <= 1:
        return [message]
    last = len(parts) - 1
    return [  # a card's first part is the card; the rest follow it as plain messages
        replace(
            message,
            kind=message.kind if i == 0 else MessageKind.SEND,
            text=part,
            buttons=message.buttons if i == last else None,
        )
        for i, part in enumerate(parts)
    ]
