"""Reading what customers type: yes/no words, order numbers, purchase dates."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

_YES = {
    "yes", "y", "yeah", "yep", "yup", "ok", "okay", "fixed", "works", "it works", "solved",
    "thanks", "thank you", "great", "perfect", "sure", "si", "ja", "da", "oui", "👍",
}  # fmt: skip
_NO = {
    "no", "n", "nope", "nah", "not really", "still broken", "still not working", "didn't work",
    "didnt work", "did not work", "doesn't work", "doesnt work", "not fixed", "no luck",
    "same", "still", "nein", "non", "👎",
}  # fmt: skip

_ORDER = re.compile(r"^#?\s*([A-Za-z0-9][A-Za-z0-9-]{3,23})$")
_AGO = re.compile(r"^(\d{1,4})\s*(day|days|d|week|weeks|w|month|months)\s*ago$")
_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d", "%d %B %Y", "%d %b %Y", "%B %d %Y")


def _simple(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"[\s.!,]+$", "", re.sub(r"\s+", " ", text))


def yes_or_no(text: str) -> bool | None:
    """True for a plain yes, False for a plain no, None for anything else."""
    simple = _simple(text)
    if simple in _YES:
        return True
    if simple in _NO:
        return False
    return None


def letters_in(text: str) -> int:
    """How many letters or digits the text has (emoji and punctuation do not count)."""
    return sum(1 for ch in text if ch.isalnum())


def order_number(text: str) -> str | None:
    """The order number in ``text``, upper-cased, or None when it does not look like one."""
    match = _ORDER.match(text.strip())
    return match.group(1).upper() if match else None


def purchase_date(text: str, today: date) -> date | None:
    """A purchase date from '2026-11-02', '02.11.2026', 'today', 'yesterday', '10 days ago'."""
    simple = _simple(text)
    if simple == "today":
        return today
    if simple == "yesterday":
        return today - timedelta(days=1)
    ago = _AGO.match(simple)
    if ago:
        count, unit = int(ago.group(1)), ago.group(2)
        days = count * (7 if unit.startswith("w") else 30 if unit.startswith("m") else 1)
        return today - timedelta(days=days)
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", simple).replace(",", "")
    for fmt in _FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None
