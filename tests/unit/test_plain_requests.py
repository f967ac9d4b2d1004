"""Plain requests in the customer's own words, in every state and every shipped language."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from flows.model import MediaKind, Reply, State, TicketStatus
from knowledge.loader import KnowledgeBaseError
from knowledge.phrases import PHRASES_FILE, Intent, PhraseBook
from knowledge.responses import Say

from .fakes import CATALOGUE, Harness

PAIRING = "my headphones will not pair with my phone"
SOUND = "something about sound"
TABLE = {
    PAIRING: [("pairing", 88.0), ("reset", 60.0)],
    SOUND: [("reset", 55.0), ("pairing", 50.0)],
}
PERSON = {
    "en": "i want to speak to a real person not a bot",
    "ru": "хочу поговорить с человеком",
    "es": "quiero hablar con una persona",
}
THANKS = {"en": "thanks!!", "ru": "Спасибо!", "es": "¡Muchas gracias!"}


def at(state: State) -> Harness:
    """A conversation brought to ``state``."""
    h = Harness(TABLE)
    if state is State.CONFIRM:
        h.text(PAIRING)
    elif state is State.CHOOSE:
        h.text(SOUND)
    elif state in (State.ORDER_NUMBER, State.PURCHASE_DATE):
        h.text(PAIRING)
        h.press(h.button("No"))
        h.press(h.button("No"))  # pairing allows a replacement
        if state is State.PURCHASE_DATE:
            h.text("NW-123456")
    assert h.state is state
    return h


@pytest.mark.parametrize(
    "state",
    [State.DESCRIBE, State.CHOOSE, State.CONFIRM, State.ORDER_NUMBER, State.PURCHASE_DATE],
)
@pytest.mark.parametrize("language", ["en", "ru", "es"])
def test_asking_for_a_person_in_ones_own_words_reaches_a_person(
    state: State, language: str
) -> None:
    h = at(state)
    h.text(PERSON[language])
    assert h.state is State.WITH_AGENT
    assert "passed this to our support team" in h.said()
    assert any(t.status is TicketStatus.WAITING_AGENT for t in h.tickets())


def test_talk_to_a_person_typed_at_the_start_is_not_matched_against_the_knowledge() -> None:
    h = Harness(TABLE)
    h.text("Talk to a person")
    assert h.state is State.WITH_AGENT and "Did you mean" not in h.said()


@pytest.mark.parametrize("language", ["en", "ru", "es"])
def test_thanks_after_a_solved_problem_closes_warmly_without_a_new_ticket(language: str) -> None:
    h = Harness(TABLE)
    h.text(PAIRING)
    h.press(h.button("Yes"))
    h.text(THANKS[language])
    assert "You're very welcome" in h.said()
    assert "something new" not in h.said()  # not taken for the problem coming back
    [ticket] = h.tickets()
    assert ticket.status is TicketStatus.RESOLVED and h.state is State.DESCRIBE


def test_typed_no_at_did_you_mean_is_none_of_these() -> None:
    h = at(State.CHOOSE)
    h.text("no")
    assert "Could you tell me a little more" not in h.said()
    assert h.state is State.DESCRIBE and "describe" in h.said().lower()
    h.text(SOUND)
    h.text("none of these")  # the second time: a person
    assert h.conversation().state is State.WITH_AGENT


@pytest.mark.parametrize(("typed", "fixed"), [("yes it works", True), ("nope", False)])
def test_yes_and_no_typed_at_did_this_fix_it(typed: str, fixed: bool) -> None:
    h = at(State.CONFIRM)
    h.text(typed)
    [ticket] = h.tickets()
    assert (ticket.status is TicketStatus.RESOLVED) is fixed


def test_start_over_from_the_middle() -> None:
    h = at(State.ORDER_NUMBER)
    h.text("let's start over")
    assert h.state is State.DESCRIBE and "start over" in h.said()
    [ticket] = h.tickets()
    assert ticket.status is TicketStatus.CANCELLED


def test_the_welcome_offers_a_person() -> None:
    h = Harness(TABLE)
    h.command("start")
    assert h.button("Talk to a person")


def test_a_problem_that_starts_with_thanks_is_still_a_problem() -> None:
    h = Harness(TABLE)
    h.text(f"thanks, {PAIRING}")
    assert "You're very welcome" not in h.said()
    assert len(h.tickets()) == 1  # filed as a problem
    assert PhraseBook.load().intent(f"thanks, {PAIRING}") is None


def test_every_language_has_every_intent_and_a_gap_is_named(tmp_path: Path) -> None:
    book = PhraseBook.load()
    assert set(book.languages) >= {"en", "ru", "es"}
    broken = tmp_path / "phrases.yaml"
    broken.write_text('en:\n  person: [human]\n  "yes": []\n', encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as caught:
        PhraseBook.load(broken)
    message = str(caught.value)
    assert "phrases.yaml › en › thanks: missing" in message
    assert "phrases.yaml › en › yes: needs a list of phrases" in message
    assert Intent.PERSON.value in {i.value for i in Intent}


def test_an_intent_given_twice_is_named_not_half_dropped(tmp_path: Path) -> None:
    shipped = PHRASES_FILE.read_text(encoding="utf-8")
    doubled = tmp_path / "phrases.yaml"
    doubled.write_text(shipped + "  thanks: [merci]\n", encoding="utf-8")  # into the last
    with pytest.raises(KnowledgeBaseError) as caught:
        PhraseBook.load(doubled)
    assert "thanks: given twice (lines" in str(caught.value), caught.value


def person_buttons(h: Harness) -> list[str]:
    return [b.label for e in h.last if isinstance(e, Reply) for row in e.buttons for b in row]


@pytest.mark.parametrize("typed", ["😡😡😡", "hi", "ok", "?"])
def test_too_little_to_go_on_still_offers_a_person(typed: str) -> None:
    h = Harness(TABLE)
    h.command("start")
    h.text(typed)
    assert "Could you tell me a little more?" in h.said()
    assert person_buttons(h) == ["🙋 Talk to a person"]
    h.press(h.button("Talk to a person"))
    assert h.state is State.WITH_AGENT


@pytest.mark.parametrize("kind", [MediaKind.STICKER, MediaKind.VOICE, MediaKind.PHOTO])
def test_a_sticker_or_photo_without_words_offers_a_person_and_keeps_the_question(
    kind: MediaKind,
) -> None:
    h = at(State.CONFIRM)
    yes = h.button("Yes")
    h.media(kind)
    assert person_buttons(h) == ["🙋 Talk to a person"]
    h.press(yes)  # "Did this fix it?" on screen still answers
    [ticket] = h.tickets()
    assert ticket.status is TicketStatus.RESOLVED


@pytest.mark.parametrize(
    ("typed", "language"), [("help", "en"), ("Help!", "en"), ("помощь", "ru"), ("ayuda", "es")]
)
def test_help_typed_is_help_and_no_failed_attempt(typed: str, language: str) -> None:
    h = Harness(TABLE)
    h.person = replace(h.person, language=language)
    h.command("help")
    slash_help = h.replies()
    h.text(typed)
    assert h.replies() == slash_help
    assert "don't have an answer" not in h.said()
    assert person_buttons(h) == [CATALOGUE.for_language(language).label(Say.HUMAN_BUTTON)]
    assert h.tickets() == [] and h.repos.unmatched.records == []
    assert "rephrased" not in h.conversation().data  # the next description is a first one


def test_a_problem_that_mentions_help_is_still_a_problem() -> None:
    h = Harness(TABLE)
    h.text(f"help, {PAIRING}")
    assert len(h.tickets()) == 1


@pytest.mark.parametrize(
    ("typed", "fixed"),
    [
        ("no it didn't work", False),
        ("No, it still doesn't work", False),
        ("that fixed it", True),
        ("yes, thank you!", True),
        ("да, помогло", True),
        ("да помогло", True),
        ("нет, не помогло", False),
        ("sí, funcionó", True),
        ("no, sigue igual", False),
    ],
)
def test_yes_or_no_said_in_several_phrases_at_did_this_fix_it(typed: str, fixed: bool) -> None:
    h = at(State.CONFIRM)
    h.text(typed)
    assert "Just checking in" not in h.said()
    [ticket] = h.tickets()
    assert (ticket.status is TicketStatus.RESOLVED) is fixed
    assert h.state is (State.DESCRIBE if fixed else State.CONFIRM)  # the next fix is shown


@pytest.mark.parametrize(
    "typed",
    [
        "no sound from my speaker",
        "no, my headphones will not pair",
        "yes my speaker crackles",
        "yes no",  # two intents: read as neither
        "ok but the light still blinks",
    ],
)
def test_a_sentence_that_only_starts_like_yes_or_no_is_not_one(typed: str) -> None:
    assert PhraseBook.load().intent(typed) is None


def test_a_problem_starting_with_no_is_described_not_taken_for_an_answer() -> None:
    h = at(State.CHOOSE)
    h.text("no sound from my speaker")  # a new description, not "none of these"
    assert "Thanks for checking" not in h.said()
    assert h.conversation().data["description"] == "no sound from my speaker"
