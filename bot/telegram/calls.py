"""The Bot API call behind each kind of outbox row, and where in its chat a row goes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from telegram import Bot, ReplyParameters
from telegram.constants import ParseMode

from bot.markup import split_html
from bot.storage import MessageKind, OutboxItem, UnitOfWorkFactory
from bot.telegram.rendering import keyboard
from flows.model import TicketId


@dataclass(frozen=True)
class Place:
    """Where a row goes in its chat: a topic, and a message it answers."""

    thread_id: int | None
    topic_id: int | None = None  # the ticket's topic, when it has one
    reply: ReplyParameters | None = None


async def call(bot: Bot, item: OutboxItem, where: Callable[[], Place]) -> int | None:
    """Make the Bot API call an outbox row stands for; the message id it made, if any.

    ``where`` says where in its chat the row goes (read only for the kinds that need it)."""
    if item.kind is MessageKind.CLEAR_BUTTONS:
        if item.target_message_id is None:
            return None
        await bot.edit_message_reply_markup(
            chat_id=item.chat_id, message_id=item.target_message_id, reply_markup=None
        )
        return None
    place = where()
    if item.kind is MessageKind.CREATE_TOPIC:
        if place.topic_id is not None:  # asked twice (escalated again): it has one
            return place.topic_id
        topic = await bot.create_forum_topic(chat_id=item.chat_id, name=item.text[:128])
        return topic.message_thread_id
    if item.kind is MessageKind.CLOSE_TOPIC:
        if place.topic_id is not None:
            await bot.close_forum_topic(chat_id=item.chat_id, message_thread_id=place.topic_id)
        return None
    if item.kind is MessageKind.REOPEN_TOPIC:
        if place.topic_id is not None:
            await bot.reopen_forum_topic(chat_id=item.chat_id, message_thread_id=place.topic_id)
        return None
    if item.kind is MessageKind.COPY:
        assert item.from_chat_id is not None and item.source_message_id is not None
        copied = await bot.copy_message(
            chat_id=item.chat_id,
            from_chat_id=item.from_chat_id,
            message_id=item.source_message_id,
            message_thread_id=place.thread_id,
            reply_parameters=place.reply,
        )
        return copied.message_id
    # Rows are stored one chunk each (bot.delivery); splitting here only serves rows
    # queued before that, which are sent whole again if a later chunk fails.
    chunks = split_html(item.text)
    message_id = None
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        sent = await bot.send_message(
            chat_id=item.chat_id,
            text=chunk,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(item) if last else None,
            message_thread_id=place.thread_id,
            reply_parameters=place.reply,
            disable_web_page_preview=True,
        )
        message_id = sent.message_id
    return message_id


def place_of(new_uow: UnitOfWorkFactory, item: OutboxItem) -> Place:
    """Where in its chat a row goes: its ticket's topic, or an answer to its card."""
    if item.ticket_id is None:
        return Place(item.message_thread_id)
    with new_uow() as uow:
        ticket = uow.tickets.get(TicketId(item.ticket_id))
    if ticket is None:
        return Place(item.message_thread_id)
    if ticket.topic_id is not None or item.kind is MessageKind.CARD:
        return Place(ticket.topic_id, ticket.topic_id)
    if ticket.card_message_id is None:
        return Place(None)
    # a chat without topics: answering the card keeps the ticket's messages together
    reply = ReplyParameters(ticket.card_message_id, allow_sending_without_reply=True)
    return Place(None, None, reply)
