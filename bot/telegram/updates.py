"""Telegram updates in, the flows' events out: the one place that reads an ``Update``."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Chat, Update

from flows.model import (
    ButtonPress,
    ChatId,
    Command,
    Inbound,
    Media,
    MediaKind,
    Person,
    TextMessage,
)


@dataclass(frozen=True)
class MembershipChange:
    """The customer blocked (or unblocked) the bot in their private chat."""

    chat_id: int
    blocked: bool


@dataclass(frozen=True)
class CallbackToAnswer:
    """A button press needs ``answerCallbackQuery`` before anything else."""

    query_id: str


def to_event(update: Update, bot_username: str | None) -> Inbound | MembershipChange | None:
    """The flows' event for a customer's update in a private chat, or None to ignore it."""
    member = update.my_chat_member
    if member is not None:
        if member.chat.type != Chat.PRIVATE:
            return None
        status = member.new_chat_member.status
        return MembershipChange(member.chat.id, blocked=status in ("kicked", "left"))
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != Chat.PRIVATE or user.is_bot:
        return None
    person = Person(
        ChatId(chat.id),
        user.id,
        name=user.first_name or "",
        username=user.username,
        language=user.language_code,
    )
    query = update.callback_query
    if query is not None:
        message_id = query.message.message_id if query.message else None
        return ButtonPress(person, query.data or "", message_id)
    message = update.message  # edited messages and channel posts are not part of the flow
    if message is None:
        return None
    if message.text is not None:
        command = _command(message.text, bot_username)
        if command is not None:
            name, args = command
            return Command(person, name, args)
        return TextMessage(person, message.text, message.message_id)
    caption, mid = message.caption or "", message.message_id
    if message.photo:
        return Media(
            person, MediaKind.PHOTO, caption, message.photo[-1].file_id, message.message_id
        )
    if message.document:
        return Media(
            person, MediaKind.DOCUMENT, caption, message.document.file_id, message.message_id
        )
    if message.video:
        return Media(person, MediaKind.VIDEO, caption, message.video.file_id, mid)
    if message.sticker:
        return Media(person, MediaKind.STICKER, "", message.sticker.file_id, mid)
    if message.voice or message.audio or message.video_note:
        return Media(person, MediaKind.VOICE, caption, None, mid)
    return Media(person, MediaKind.OTHER, caption, None, mid)


def callback_to_answer(update: Update) -> CallbackToAnswer | None:
    query = update.callback_query
    return CallbackToAnswer(query.id) if query is not None else None


def _command(text: str, bot_username: str | None) -> tuple[str, str] | None:
    """``/name@bot args`` -> (name, args); None when the text is not a command for us."""
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, args = text.partition(" ")
    name, _, target = head[1:].partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    if not name or not all(ch.isalnum() or ch == "_" for ch in name):
        return None
    return name.lower(), args.strip()
