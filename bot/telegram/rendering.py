"""Outbox rows into Bot API pieces: the inline keyboard of a message."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.storage import OutboxItem


def keyboard(item: OutboxItem) -> InlineKeyboardMarkup | None:
    if not item.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b["label"][:64], callback_data=b["data"]) for b in row]
            for row in item.buttons
        ]
    )
