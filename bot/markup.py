"""Telegram-style HTML text: its length as Telegram counts it, split to fit, or made plain.

Used below both channels: the outbox stores one row per chunk (``bot.delivery``), the
terminal prints plain text (``bot.console``), the Telegram sender sends the chunks.
"""

from __future__ import annotations

import html
import re
import unicodedata

MAX_MESSAGE = 4096  # Telegram's limit, in UTF-16 code units
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)[^>]*>")


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (an emoji outside the BMP is two)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def split_html(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split Telegram HTML into chunks of at most ``limit`` UTF-16 code units.

    Splits at a paragraph, line or word boundary where it can, never inside a tag, an
    entity or a character sequence that draws as one symbol, and closes and reopens tags
    that span a split so each chunk parses on its own.
    """
    if utf16_len(text) <= limit:
        return [text]
    chunks: list[str] = []
    open_tags: list[str] = []  # full opening tags, outermost first
    rest = text
    while rest:
        prefix = "".join(open_tags)
        closing = "".join(_closing(t) for t in open_tags)
        if utf16_len(prefix) + utf16_len(rest) <= limit:
            chunks.append(prefix + rest)
            break
        budget = limit - utf16_len(prefix) - utf16_len(closing) - 16
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
    """Where to cut ``text`` so the first part has at most ``budget`` UTF-16 units."""
    end = _index_within(text, budget)
    window = text[:end]
    for sep in ("\n\n", "\n", " "):
        at = window.rfind(sep)
        if at > end // 2:
            return _safe(text, at + len(sep))
    return _safe(text, end)


def _index_within(text: str, units: int) -> int:
    """The largest index whose prefix takes at most ``units`` UTF-16 code units."""
    used = 0
    for index, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > units:
            return index
    return len(text)


def _safe(text: str, at: int) -> int:
    """Move ``at`` back so it does not fall inside a tag, an entity or a drawn symbol."""
    lt, gt = text.rfind("<", 0, at), text.rfind(">", 0, at)
    if lt > gt:
        at = lt
    amp, semi = text.rfind("&", 0, at), text.rfind(";", 0, at)
    if amp > semi and at - amp < 10:
        at = amp
    back = at
    while 1 < back < len(text) and at - back < 32 and _joins(text[back - 1], text[back]):
        back -= 1
    if back > 1 and at - back < 32:  # past 32 marks it is no symbol: cut where we were
        at = back
    return max(at, 1)


def _joins(before: str, ch: str) -> bool:
    """True when ``ch`` belongs to the symbol that ``before`` starts (ZWJ, marks, skin tones)."""
    code = ord(ch)
    return (
        before == "\u200d"
        or ch == "\u200d"
        or unicodedata.category(ch) in ("Mn", "Me")
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
    )


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
