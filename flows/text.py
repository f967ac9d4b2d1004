"""Reading what customers type: order numbers, purchase dates (yes, no, thanks and the
like are data: knowledge/phrases.yaml)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Literal

from dateparser.data import language_order
from dateparser.date import DateDataParser

# ---- order numbers ------------------------------------------------------------------
# The default ORDER_NUMBER_PATTERN: what shops print on confirmations (NW-123456, 123456,
# 123-4567890, A1B2C3D4): 4 to 24 letters, digits and single hyphens, at least 3 of them
# digits, so that no word ("dunno", "help", "cancel") is ever taken for an order number.
DEFAULT_ORDER_NUMBER_PATTERN = r"(?=.{4,24}$)(?=(?:\D*\d){3})[A-Z0-9]+(?:-[A-Z0-9]+)*"
# what a pattern must refuse: words customers type at the order-number question
ORDER_NUMBER_WORDS = ("HELP", "CANCEL", "NO", "DUNNO", "NONE", "ORDER")
# "order", "order number:", "order no.", "#": said before the number, not part of it
_ORDER_LABEL = re.compile(
    r"^(?:(?:(?:my|the)\s+)?order(?:\s*(?:number|num|no\.?|nr\.?|id))?(?:\s+is)?\b|#|:|\s)+"
)
_PREFIXED = re.compile(r"^([A-Z]{1,4})[\s_-]*(\d+)$")  # NW 123456, nw123456, NW_123456
_NO_ORDER_NUMBER = re.compile(
    r"^(?:i\s+)?(?:do\s*n[o']?t|don't|dont|have\s+no|got\s+no|can't|cant|cannot|can\s+not)"
    r"(?:\s+\w+){0,4}$"  # "I don't have it", "don't know", "can't find it", "have no idea"
    r"|^(?:no|none|without)(?:\s+(?:an?|the|order|number|idea|receipt|one|clue))+$"
    r"|^(?:none|dunno|idk|lost\s+it|i\s+lost\s+it|not\s+sure|n/?a)$"
)

# ---- purchase dates -------------------------------------------------------------------
DateOrder = Literal["DMY", "MDY", "YMD"]
# the other reading of a numeric date: day and month swapped
_SWAPPED: dict[DateOrder, str] = {"DMY": "MDY", "MDY": "DMY", "YMD": "YDM"}
# 11/05/2026, 5.11.26, 11-05, 2026/11/05: numbers only, one separator kind
_NUMERIC = re.compile(r"^(\d{1,4})([./\- ])(\d{1,2})(?:\2(\d{2,4}))?$")
# words around a date that dateparser need not read ("I bought it on Nov 5")
_SKIP = ["t", "i", "bought", "got", "purchased", "ordered", "it", "them", "on", "around",
         "about", "approximately", "roughly", "think", "was", "maybe", "probably"]  # fmt: skip
# "a couple of weeks ago", "a few days ago": said as numbers, which dateparser reads
_VAGUE = ((re.compile(r"\ba\s+couple(?:\s+of)?\b"), "2"), (re.compile(r"\b(?:a\s+)?few\b"), "3"))
# number words dateparser's own data lacks ("hace dos semanas"; English and Russian it reads),
# and a leading article it refuses ("el 5 de noviembre")
_SPANISH_NUMBERS = {
    "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8,
    "nueve": 9, "diez": 10, "once": 11, "doce": 12, "quince": 15, "veinte": 20, "treinta": 30,
}  # fmt: skip
_SPANISH_WORDS = re.compile(r"\b(" + "|".join(_SPANISH_NUMBERS) + r")\b")
_ARTICLE = re.compile(r"^(?:el|la|the|on|on the)\s+(?=\d)")
# a day, or a span back from today ("last week", "a month ago"); a month or a year alone
# ("December", "2025") cannot decide a replacement window
_DAY_OR_SPAN = ("day", "week")
_DATEPARSER_LANGUAGES = frozenset(language_order)


def _simple(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"[\s.!,]+$", "", re.sub(r"\s+", " ", text))


def printable(text: str) -> str:
    """``text`` without control and format characters (a bell, an escape, a zero-width
    joiner's stray cousins), keeping line breaks, tabs and the joiners emoji are made of."""
    return "".join(
        ch
        for ch in text
        if ch in "\n\t\u200d\ufe0f" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )


def letters_in(text: str) -> int:
    """How many letters or digits the text has (emoji and punctuation do not count)."""
    return sum(1 for ch in text if ch.isalnum())


def order_pattern(source: str) -> re.Pattern[str]:
    """ORDER_NUMBER_PATTERN compiled as it is used: whole number, any case.

    ``re.error`` for a broken expression; ``ValueError`` for one that accepts nothing
    sensible (the empty text, or a plain word such as "help").
    """
    pattern = re.compile(source, re.IGNORECASE)
    if pattern.fullmatch(""):
        raise ValueError("accepts an empty order number")
    for word in ORDER_NUMBER_WORDS:
        if pattern.fullmatch(word):
            raise ValueError(
                f"accepts the plain word {word!r}; an order number pattern should need digits"
            )
    return pattern


DEFAULT_ORDER_PATTERN = order_pattern(DEFAULT_ORDER_NUMBER_PATTERN)


def order_number(text: str, pattern: re.Pattern[str] = DEFAULT_ORDER_PATTERN) -> str | None:
    """The order number in ``text``, normalised, or None when ``pattern`` refuses it.

    Upper-cased, with "order", "order number:" or "#" before it and a full stop after it
    dropped; letters then digits ("NW 123456", "nw123456", "NW_123456") are written
    ``NW-123456`` when the pattern accepts that, else without the separator
    (``NW123456``); other spaces become hyphens (``123 4567890`` -> ``123-4567890``), or
    go when the pattern wants none. The first of those the pattern accepts.
    """
    simple = unicodedata.normalize("NFKC", text).strip().rstrip(".!,;")
    simple = _ORDER_LABEL.sub("", simple.lower()).strip().upper()
    if not simple or len(simple) > 64:
        return None
    prefixed = _PREFIXED.match(simple)
    if prefixed:
        letters, digits = prefixed.groups()
        candidates = [f"{letters}-{digits}", f"{letters}{digits}"]
    else:
        candidates = [re.sub(r"\s+", "-", simple), re.sub(r"\s+", "", simple)]
    for candidate in candidates:
        if pattern.fullmatch(candidate):
            return candidate
    return None


def no_order_number(text: str) -> bool:
    """True when the customer says they have no order number ("I don't have one")."""
    simple = _simple(text).replace("\u2019", "'")
    return bool(_NO_ORDER_NUMBER.match(simple))


def purchase_dates(
    text: str,
    *,
    today: date,
    order: DateOrder = "DMY",
    languages: Sequence[str] = ("en",),
) -> tuple[date, ...]:
    """The dates ``text`` may mean, read as a customer writes a purchase date.

    Empty: not a date. One: that date. Two: a numeric date whose day and month can swap
    (``11/05/2026``), the reading in ``order`` first. Relative phrases ("yesterday", "two
    weeks ago", "last Friday") count back from ``today``, the turn's clock, never the
    machine's; a named month without a year ("Nov 5") is the latest one up to ``today``.
    ``languages`` are tried in turn (dateparser's codes: "en", "ru", "es", ...).
    """
    simple = _simple(text)
    if not simple or len(simple) > 80:
        return ()
    for vague, number in _VAGUE:
        simple = vague.sub(number, simple)
    simple = _ARTICLE.sub("", simple)
    simple = _SPANISH_WORDS.sub(lambda m: str(_SPANISH_NUMBERS[m.group(1)]), simple)
    numeric = _NUMERIC.match(simple)
    if not any(ch.isalpha() for ch in simple) and numeric is None:
        return ()  # "5", "2025", "12:30", "dos": a number, not a day
    # "pt-BR" is dateparser's "pt"; a language it does not know is left to English
    codes = (re.split(r"[-_]", language)[0].lower() for language in languages)
    readable = list(dict.fromkeys([*(c for c in codes if c in _DATEPARSER_LANGUAGES), "en"]))
    first = _read(simple, today, order, readable)
    if first is None:
        return ()
    if numeric is None or len(numeric.group(1)) == 4:
        return (first,)  # words, or year first (2026-11-05): one reading
    second = _read(simple, today, _SWAPPED[order], readable)
    return (first,) if second is None or second == first else (first, second)


def _read(text: str, today: date, order: str, languages: list[str]) -> date | None:
    settings: dict[str, object] = {
        "DATE_ORDER": order,
        "PREFER_LOCALE_DATE_ORDER": False,  # DATE_ORDER decides, in every language
        "PREFER_DATES_FROM": "past",  # "Nov 5" on 3 November is last year's
        "RELATIVE_BASE": datetime.combine(today, time(12)),
        "TIMEZONE": "UTC",  # never the machine's zone
        "SKIP_TOKENS": _SKIP,
    }
    found = DateDataParser(languages=languages, settings=settings).get_date_data(text)
    if found.date_obj is None:
        return None
    if found.period not in _DAY_OR_SPAN:
        # "a month ago" is a span back from today, "December 2025" a month without a day:
        # dateparser's REQUIRE_PARTS tells them apart (it lets relative phrases through)
        strict = {**settings, "REQUIRE_PARTS": ["day", "month"]}
        found = DateDataParser(languages=languages, settings=strict).get_date_data(text)
    return found.date_obj.date() if found.date_obj is not None else None
