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
    TeamMessage,
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


def to_event(
    update: Update, bot_username: str | None, agent_chat_id: int | None = None
) -> Inbound | TeamMessage | MembershipChange | None:
    """The flows' event for a customer's update in a private chat, or for a message in the
    team's chat (``agent_chat_id``); None to ignore it."""
    chat = update.effective_chat
    if agent_chat_id is not None and chat is not None and chat.id == agent_chat_id:
        return _team_message(update, bot_username)
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


def _team_message(update: Update, bot_username: str | None) -> TeamMessage | None:
    """A message someone wrote in the team's chat; service messages and bots are ignored."""
    message, user = update.message, update.effective_user
    if message is None or user is None or user.is_bot:
        return None
    media = bool(
        message.photo
        or message.document
        or message.video
        or message.voice
        or message.audio
        or message.video_note
        or message.sticker
        or message.animation
    )
    text = message.text if message.text is not None else (message.caption or "")
    if not text and not media:
        return None  # a topic created, a member joined ...
    thread_id = message.message_thread_id if message.is_topic_message else None
    reply = message.reply_to_message
    reply_to = reply.message_id if reply is not None else None
    command = _command(text, bot_username) if message.text is not None else None
    return TeamMessage(
        chat_id=message.chat.id,
        user_id=user.id,
        name=user.first_name or "",
        message_id=message.message_id,
        thread_id=thread_id,
        reply_to=reply_to,
        text=text,
        command=command[0] if command is not None else None,
        args=command[1] if command is not None else "",
        media=media,
    )
