"""Outbox rows into Bot API calls: keyboards, and text split under Telegram's limit."""

from __future__ import annotations

import html
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.storage import OutboxItem

MAX_MESSAGE = 4096
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)[^>]*>")


def keyboard(item: OutboxItem) -> InlineKeyboardMarkup | None:
    if not item.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b["label"][:64], callback_data=b["data"]) for b in row]
            for row in item.buttons
        ]
    )


def split_html(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split Telegram HTML into chunks of at most ``limit`` characters.

    Splits at a paragraph, line or word boundary where it can, never inside a tag or an
    entity, and closes and reopens tags that span a split so each chunk parses on its own.
    """
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    open_tags: list[str] = []  # full opening tags, outermost first
    rest = text
    while rest:
        prefix = "".join(open_tags)
        budget = limit - len(prefix) - sum(len(_closing(t)) for t in open_tags) - 16
        if len(prefix) + len(rest) <= limit:
            chunks.append(prefix + rest)
            break
        cut = _cut_point(rest, max(budget, 64))
        piece = rest[:cut]
        rest = rest[cut:].lstrip("\n ")
        body = prefix + piece
        open_tags = _still_open(open_tags, piece)
        chunks.append(body + "".join(_closing(t) for t in reversed(open_tags)))
    return [c for c in chunks if c.strip()]


def plain(text: str) -> str:
    """The text without markup, for a terminal or a retry without parse mode."""
    return html.unescape(_TAG.sub("", text))


def _cut_point(text: str, budget: int) -> int:
    window = text[:budget]
    for sep in ("\n\n", "\n", " "):
        at = window.rfind(sep)
        if at > budget // 2:
            return _safe(text, at + len(sep))
    return _safe(text, budget)


def _safe(text: str, at: int) -> int:
    """Move ``at`` back so it does not fall inside a tag or an entity."""
    lt, gt = text.rfind("<", 0, at), text.rfind(">", 0, at)
    if lt > gt:
        at = lt
    amp, semi = text.rfind("&", 0, at), text.rfind(";", 0, at)
    if amp > semi and at - amp < 10:
        at = amp
    return max(at, 1)


def _still_open(open_tags: list[str], piece: str) -> list[str]:
    tags = list(open_tags)
    for match in _TAG.finditer(piece):
        closing, name = match.group(1), match.group(2).lower()
        if closing:
            for i in range(len(tags) - 1, -1, -1):
                if _name(tags[i]) == name:
                    del tags[i]
                    break
        else:
            tags.append(match.group(0))
    return tags


def _name(tag: str) -> str:
    match = _TAG.match(tag)
    return match.group(2).lower() if match else ""


def _closing(tag: str) -> str:
    return f"</{_name(tag)}>"
