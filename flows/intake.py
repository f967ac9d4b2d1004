"""Taking in the problem: the description, photos, stickers and the like."""

from __future__ import annotations

from flows import escalation, resolve, text
from flows.model import Media, MediaKind, State
from flows.turn import Turn
from knowledge.responses import Say


def describe(turn: Turn, typed: str) -> None:
    """The customer said what is wrong (or tried to)."""
    typed = typed.strip()
    if text.letters_in(typed) < turn.services.settings.min_letters:
        _answer(turn, Say.DESCRIBE_TOO_SHORT)
        return
    if len(typed) > turn.services.settings.max_match_chars:
        turn.say(Say.TEXT_SHORTENED)
    previous = turn.data.get("description")
    description = f"{previous}\n{typed}" if previous and turn.data.get("rephrased") else typed
    turn.data["description"] = description[:4000]
    turn.data["words"] = typed[:4000]  # this message alone: what the matcher read
    ticket = escalation.open_ticket(turn, turn.data["description"])
    ticket.summary = turn.data["description"]
    turn.touch(ticket)
    resolve.match(turn, typed)


def media(turn: Turn, event: Media) -> str | None:
    """What a photo or sticker means here: text to handle, or None when answered already."""
    if event.caption.strip():
        return event.caption
    if event.kind in (MediaKind.PHOTO, MediaKind.DOCUMENT, MediaKind.VIDEO):
        if turn.conversation.state is not State.WITH_AGENT:
            _answer(turn, Say.PHOTO_NEEDS_WORDS)
            return None
        return f"[{event.kind.value}]"
    if turn.conversation.state is State.WITH_AGENT:
        return f"[{event.kind.value}]"
    _answer(turn, Say.ONLY_TEXT)
    return None


def show_help(turn: Turn) -> None:
    """/help, or "help" typed: what the bot can do; nothing is matched or counted."""
    _answer(turn, Say.HELP if turn.escalation else Say.HELP_NO_LIVE)


def _answer(turn: Turn, key: Say) -> None:
    """A reply that moves nothing on, with "Talk to a person" beside it (unless
    ``ESCALATION=off``); the buttons on screen stay valid."""
    turn.ask(turn.responses.text(key), turn.human_rows(), keep_older=True)
