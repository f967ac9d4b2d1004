"""/language: the customer chooses the language they read, without losing their place."""

from __future__ import annotations

from dataclasses import replace

from flows import followup, reopen, replacement, resolve
from flows.model import Button, State
from flows.turn import LANGUAGE, Turn
from knowledge.responses import Say


def offer(turn: Turn, args: str) -> None:
    """/language: one button per shipped language; "/language ru" chooses at once."""
    catalogue = turn.services.catalogue
    languages = catalogue.languages if catalogue is not None else (turn.responses.language,)
    wanted = args.strip().lower()
    if wanted:
        for index, code in enumerate(languages):
            if wanted in (code, catalogue.name(code).lower() if catalogue else code):
                choose(turn, index)
                return
    rows = tuple(
        (
            Button(
                catalogue.name(code) if catalogue else code,
                f"{turn.conversation.step}|{LANGUAGE}|{i}",
            ),
        )
        for i, code in enumerate(languages)
    )
    # the current step's buttons stay valid: choosing a language interrupts nothing
    turn.say_html(turn.responses.text(Say.LANGUAGE_QUESTION), rows)


def choose(turn: Turn, index: int | None) -> None:
    """The language chosen: said so in it, and the question waiting asked again in it."""
    catalogue = turn.services.catalogue
    languages = catalogue.languages if catalogue is not None else ()
    if index is None or not 0 <= index < len(languages):
        resolve.expired(turn)  # forged, or a language no longer shipped
        return
    code = languages[index]
    turn.repos.customers.choose_language(turn.chat_id, code, turn.now)
    turn.person = replace(turn.person, language=code)
    state = turn.conversation.state
    if state is State.DESCRIBE:  # nothing waiting: the customer may describe the problem
        turn.say(Say.LANGUAGE_SET)
        return
    turn.say(Say.LANGUAGE_SWITCHED)
    if state is State.CONFIRM:
        resolve.ask_again(turn, first=True, keep_older=True)
    elif state is State.CHOOSE:
        resolve.did_you_mean(turn, turn.data.get("candidates", []), keep_older=True)
    elif state in (State.ORDER_NUMBER, State.PURCHASE_DATE):
        replacement.ask_again(turn)
    elif state is State.REOPEN_ASK:
        reopen.ask_again(turn)
    elif state is State.RATING_COMMENT:
        followup.ask_comment(turn)
    # WITH_AGENT: a person answers next; nothing of the bot's is waiting
