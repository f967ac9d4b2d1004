"""The customer's language: chosen from Telegram's language_code, switched with /language,
and used for every sentence they read (the bot's, the team's, the follow-up's) and for the
knowledge they are matched against; the team keeps its own language."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from flows import followup
from flows.desk import Desk
from flows.model import (
    Agent,
    ChatId,
    Command,
    NotifyAgents,
    OpenTopic,
    Reply,
    State,
    TeamMessage,
    TicketStatus,
    UserId,
)
from flows.turn import Localised
from knowledge.loader import load_knowledge, validate_knowledge
from knowledge.matcher import Matcher
from knowledge.responses import Say
from knowledge.schema import KnowledgeBase, Thresholds

from .fakes import CATALOGUE, Harness

RU, ES, EN = (CATALOGUE.for_language(code) for code in ("ru", "es", "en"))
PAIRING = "my headphones will not pair with my phone"
TABLE = {PAIRING: [("pairing", 88.0), ("reset", 60.0)]}


def speaking(
    language: str | None, table: dict[str, list[tuple[str, float]]] | None = None
) -> Harness:
    h = Harness(table if table is not None else TABLE)
    h.person = replace(h.person, language=language)
    return h


@pytest.mark.parametrize(
    ("telegram", "expected"), [("ru", RU), ("es-MX", ES), ("pt-br", EN), (None, EN)]
)
def test_the_welcome_is_in_telegrams_language_or_the_default(
    telegram: str | None, expected: object
) -> None:
    h = speaking(telegram)
    h.command("start")
    assert h.replies() == [expected.text(Say.WELCOME, name="Ann <b>")]  # type: ignore[attr-defined]


def test_a_customer_without_a_name_is_not_greeted_with_an_english_word() -> None:
    h = speaking("ru")
    h.person = replace(h.person, name="")
    h.command("start")
    assert h.replies() == [RU.text(Say.WELCOME_NAMELESS)]


def test_language_offers_every_shipped_language_in_its_own_name() -> None:
    h = speaking("en")
    h.command("language")
    [reply] = [e for e in h.last if isinstance(e, Reply)]
    assert reply.text == EN.text(Say.LANGUAGE_QUESTION)
    assert [b.label for row in reply.buttons for b in row] == ["English", "Español", "Русский"]


def test_a_chosen_language_wins_over_telegrams_from_then_on() -> None:
    h = speaking("en")
    h.command("language")
    h.press(h.button("Русский"))
    assert h.replies() == [RU.text(Say.LANGUAGE_SET)]
    h.text(PAIRING)  # Telegram still says "en" on every update
    assert RU.text(Say.FIXED_QUESTION) in h.said()
    assert h.repos.customers.get(ChatId(42)).language == "ru"  # type: ignore[union-attr]


def test_language_with_a_code_or_a_name_chooses_at_once() -> None:
    h = speaking("en")
    h.send(replace_command(h, "language", "es"))
    assert h.replies() == [ES.text(Say.LANGUAGE_SET)]
    h.send(replace_command(h, "language", "русский"))
    assert h.replies() == [RU.text(Say.LANGUAGE_SET)]


def replace_command(h: Harness, name: str, args: str) -> Command:
    return Command(h.person, name, args)


def test_choosing_a_language_mid_flow_keeps_the_open_question_answerable() -> None:
    h = speaking("en")
    h.text(PAIRING)
    yes = h.button("Yes")
    h.command("language")
    h.press(h.button("Español"))
    h.press(yes)  # the "Did this fix it?" buttons are still valid
    [ticket] = h.tickets()
    assert ticket.status is TicketStatus.RESOLVED
    assert h.replies() == [ES.text(Say.GLAD_FIXED, ref=ticket.ref)]


@pytest.mark.parametrize("data", ["0|l|7", "0|l", "0|l|-1", "0|l|x"])
def test_a_forged_language_button_changes_nothing(data: str) -> None:
    h = speaking("en")
    h.command("start")
    h.press(data)
    assert h.repos.customers.get(ChatId(42)).language == "en"  # type: ignore[union-attr]
    assert EN.text(Say.CHOICE_EXPIRED) in h.said()


def test_the_team_reads_its_own_language_while_the_customer_reads_theirs() -> None:
    h = speaking("ru")
    h.text(PAIRING)
    h.press(h.button("Нет"))
    h.text("хочу поговорить с человеком")
    assert h.state is State.WITH_AGENT
    [ticket] = h.tickets()
    assert RU.text(Say.ESCALATED, ref=ticket.ref) in h.said()
    [card] = [e.text for e in h.last if isinstance(e, NotifyAgents) and e.card]
    assert "needs a person" in card and "language: ru" in card
    assert "pairing (88) ✗ not fixed" in card  # the team's words, not the customer's
    h.command("cancel")
    h.press(h.button(RU.label(Say.CANCEL_YES_BUTTON)))
    assert h.notices() == [EN.text(Say.AGENT_CUSTOMER_CANCELLED, ref=ticket.ref)]
    assert h.replies() == [RU.text(Say.CANCELLED_REQUEST, ref=ticket.ref)]


def test_an_agents_words_and_decisions_reach_the_customer_in_their_language() -> None:
    h = speaking("es")
    h.command("human")
    [ticket] = h.tickets()
    ticket.topic_id = 55
    h.repos.tickets.save(ticket)
    bea = UserId(777)
    h.repos.agents.rows[bea] = Agent(bea, "Bea")
    desk = Desk(h.engine.services.responses, h.clock, conversations=h.engine)

    def team(text: str) -> list[object]:
        command, _, args = text[1:].partition(" ") if text.startswith("/") else (None, "", "")
        event = TeamMessage(-100, bea, "Bea", 500, 55, text=text, command=command, args=args)
        return list(desk.handle(h.repos, event))

    said = team("Hola Ann")
    assert [e.text for e in said if isinstance(e, Reply)] == [
        ES.text(Say.TEAM_SAYS, name="Bea", text="Hola Ann")
    ]
    said = team("/resolve")
    assert [e.text for e in said if isinstance(e, Reply)] == [
        ES.text(Say.TEAM_RESOLVED, ref=ticket.ref)
    ]
    [line] = [e.text for e in said if isinstance(e, NotifyAgents)]
    assert line == EN.text(Say.DESK_RESOLVED, ref=ticket.ref, name="Bea")


def test_the_follow_up_comes_back_in_the_customers_language() -> None:
    h = speaking("ru")
    h.text(PAIRING)
    h.press(h.button("Да"))
    [ticket] = h.tickets()
    h.clock.advance(days=2)
    [question] = [e for e in h.run_followups() if isinstance(e, Reply)]
    assert question.text.startswith(
        RU.text(Say.FOLLOWUP_QUESTION, ref=ticket.ref, summary=PAIRING)[:30]
    )
    assert [b.label for row in question.buttons for b in row] == [
        RU.label(Say.FOLLOWUP_YES_BUTTON),
        RU.label(Say.FOLLOWUP_NO_BUTTON),
        RU.label(Say.FOLLOWUP_LATER_BUTTON),
    ]


def to_purchase_date(h: Harness) -> None:
    h.text(PAIRING)
    h.press(_no(h))
    h.press(_no(h))  # pairing allows a replacement
    h.text("NW-123456")
    assert h.state is State.PURCHASE_DATE


def _no(h: Harness) -> str:
    for effect in h.last:
        if isinstance(effect, Reply):
            for row in effect.buttons:
                for button in row:
                    if button.label.startswith("❌"):
                        return button.data
    raise AssertionError(h.replies())


def test_a_russian_customer_writes_the_purchase_date_in_russian() -> None:
    h = speaking("ru")
    to_purchase_date(h)
    h.text("две недели назад")
    [ticket] = h.tickets()
    assert ticket.purchase_date == h.clock.now().date() - timedelta(days=14)
    assert ticket.status is TicketStatus.REPLACEMENT_REQUESTED


@pytest.mark.parametrize(
    ("language", "typed"), [("ru", "у меня его нет"), ("es", "no lo tengo"), ("en", "I lost it")]
)
def test_no_order_number_typed_in_ones_own_language_goes_to_a_person(
    language: str, typed: str
) -> None:
    h = speaking(language)
    h.text(PAIRING)
    h.press(_no(h))
    h.press(_no(h))
    assert h.conversation().state is State.ORDER_NUMBER
    h.text(typed)
    assert h.conversation().state is State.WITH_AGENT


# ---- translated knowledge ------------------------------------------------------------

KNOWLEDGE = """\
product: Aurora headphones
entries:
  - id: pairing
    title: Headphones do not pair
    symptoms:
      - my headphones won't connect to my phone
      - bluetooth pairing keeps failing
    fix: |
      Hold the power button for 7 seconds.
    tests:
      - headphones will not pair
    translations:
      ru:
        title: Наушники не подключаются
        symptoms:
          - наушники не подключаются к телефону
          - не работает блютуз сопряжение
        fix: |
          Удерживайте кнопку питания 7 секунд.
        tests:
          - наушники не коннектятся к телефону
      es:
        title: Los auriculares no se conectan
  - id: charging
    title: Headphones do not charge
    symptoms:
      - my headphones won't charge
      - the charging light stays off
    fix: |
      Use the USB-C cable from the box.
"""


RU_TITLE, RU_FIX = "Наушники не подключаются", "Удерживайте кнопку питания 7 секунд."
EN_TITLE, EN_FIX = "Headphones do not pair", "Hold the power button for 7 seconds."


def translated(tmp_path: Path) -> KnowledgeBase:
    (tmp_path / "headphones.yaml").write_text(KNOWLEDGE, encoding="utf-8")
    return load_knowledge(tmp_path)


def with_knowledge(knowledge: KnowledgeBase, language: str) -> Harness:
    thresholds = Thresholds(answer=60, suggest=40)
    h = speaking(language)
    services = h.engine.services
    localised = {
        code: Localised(k := knowledge.in_language(code), Matcher(k, thresholds), thresholds)
        for code in knowledge.languages()
    }
    h.engine.services = replace(
        services,
        knowledge=knowledge,
        matcher=Matcher(knowledge, thresholds),
        thresholds=thresholds,
        localised=localised,
    )
    return h


@pytest.mark.parametrize(
    ("language", "typed", "title", "fix"),
    [  # the translation, for its own language only; English still understood; a fallback
        ("ru", "наушники не подключаются к телефону", RU_TITLE, RU_FIX),
        ("en", "my headphones won't connect to my phone", EN_TITLE, EN_FIX),
        ("ru", "my headphones won't connect to my phone", RU_TITLE, RU_FIX),
        (
            "ru",
            "my headphones won't charge",
            "Headphones do not charge",
            "Use the USB-C cable from the box.",
        ),
    ],
)
def test_the_fix_is_shown_in_the_customers_language_where_translated(
    tmp_path: Path, language: str, typed: str, title: str, fix: str
) -> None:
    h = with_knowledge(translated(tmp_path), language)
    h.text(typed)
    responses = CATALOGUE.for_language(language)
    assert responses.text(Say.FIX, title=title, fix=fix) in h.said()


def test_a_partial_translation_falls_back_field_by_field(tmp_path: Path) -> None:
    knowledge = translated(tmp_path)
    entry = knowledge.in_language("es").get("pairing")
    assert entry is not None
    assert entry.title == "Los auriculares no se conectan"
    assert entry.fix == "Hold the power button for 7 seconds.\n"
    assert knowledge.languages() == ("es", "ru")


def test_translations_tests_are_checked_against_their_language(tmp_path: Path) -> None:
    (tmp_path / "headphones.yaml").write_text(
        KNOWLEDGE.replace("наушники не коннектятся к телефону", "где мой заказ"), encoding="utf-8"
    )
    problems = [str(p) for p in validate_knowledge(tmp_path)]
    assert len(problems) == 1
    assert problems[0].startswith(
        "headphones.yaml › pairing › translations › ru › tests: 'где мой заказ' should match"
    )
    (tmp_path / "headphones.yaml").write_text(KNOWLEDGE, encoding="utf-8")
    assert validate_knowledge(tmp_path) == []


@pytest.mark.parametrize(
    ("translations", "problem"),
    [
        ("\n      RU:\n        title: x", "translations › RU: must be a lower-case language code"),
        (
            "\n      ru:\n        titel: x",
            "translations › ru: unknown key 'titel'; did you mean 'title'?",
        ),
        ("\n      ru:\n        symptoms: one", "translations › ru › symptoms: must be a list"),
        ("\n      ru:\n        fix: 5", "translations › ru › fix: must be text"),
        (" [ru]", "translations: must map a language code to its text"),
        (
            "\n      ru: {}",
            "translations › ru: must be a mapping with title, fix, symptoms or tests",
        ),
    ],
)
def test_a_broken_translation_is_named_by_file_entry_and_field(
    tmp_path: Path, translations: str, problem: str
) -> None:
    text = KNOWLEDGE.split("    translations:")[0] + "    translations:" + translations + "\n"
    (tmp_path / "headphones.yaml").write_text(text, encoding="utf-8")
    problems = [str(p) for p in validate_knowledge(tmp_path)]
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"headphones.yaml › pairing › {problem}"), problems


@pytest.mark.parametrize(
    ("typed", "bought"),
    [("hace dos semanas", date(2026, 11, 11)), ("el 5 de noviembre", date(2026, 11, 5))],
)
def test_a_spanish_customer_writes_the_purchase_date_in_spanish(typed: str, bought: date) -> None:
    h = speaking("es")
    to_purchase_date(h)
    assert h.clock.now().date() == date(2026, 11, 25)
    h.text(typed)
    [ticket] = h.tickets()
    assert ticket.purchase_date == bought


ASK_FOR_PERSON = {"ru": "позовите оператора", "es": "quiero hablar con una persona"}


def latin_words(text: str) -> list[str]:
    """English words left in a reply: what is left once tags, /commands, references and
    codes are taken out."""
    text = re.sub(r"<[^>]+>|/\w+|T-\d+|NW-\d+", " ", text)
    return re.findall(r"[A-Za-z]{3,}", text)


@pytest.mark.parametrize("language", ["ru", "es"])
def test_a_customer_who_asked_for_a_person_first_reads_no_english(language: str) -> None:
    """The request's summary when nothing was described ("(asked for a person)") is a
    sentence of the catalogue like any other: /status shows it in the customer's language."""
    responses = CATALOGUE.for_language(language)
    h = speaking(language)
    h.person = replace(h.person, name="Аня")
    h.text(ASK_FOR_PERSON[language])
    assert h.state is State.WITH_AGENT
    h.command("status")
    said = h.said()
    assert "asked for a person" not in said
    assert responses.label(Say.SUMMARY_ASKED_FOR_PERSON) in said
    if language == "ru":
        assert latin_words(said) == [], said


def test_the_follow_up_of_a_request_that_only_asked_for_a_person_is_in_russian() -> None:
    h = speaking("ru")
    h.text(ASK_FOR_PERSON["ru"])
    [ticket] = h.tickets()
    ticket.status = TicketStatus.RESOLVED
    followup.schedule_check(h.repos, ticket, h.clock.now())
    h.clock.advance(minutes=1)
    [question] = [e for e in h.run_followups() if isinstance(e, Reply)]
    assert "asked for a person" not in question.text
    assert RU.label(Say.SUMMARY_ASKED_FOR_PERSON) in question.text
    assert latin_words(question.text) == [], question.text


def labels(h: Harness) -> list[str]:
    return [b.label for e in h.last if isinstance(e, Reply) for row in e.buttons for b in row]


def test_switching_at_the_order_number_asks_for_it_again_in_the_new_language() -> None:
    h = speaking("en")
    h.text(PAIRING)
    h.press(h.button("No"))
    h.press(h.button("No"))
    assert h.state is State.ORDER_NUMBER
    no_order = h.button("I don't have it")
    h.send(Command(h.person, "language", "es"))
    assert "Cuéntame qué ocurre" not in h.said()  # not an invitation to a new problem
    assert h.replies() == [ES.text(Say.LANGUAGE_SWITCHED), ES.text(Say.REPLACEMENT_START)]
    assert labels(h) == [ES.label(Say.NO_ORDER_NUMBER_BUTTON), ES.label(Say.HUMAN_BUTTON)]
    assert h.state is State.ORDER_NUMBER
    h.press(no_order)  # the English button on screen still answers
    assert h.conversation().state is State.WITH_AGENT


def test_switching_at_did_this_fix_it_asks_it_again_with_its_buttons() -> None:
    h = speaking("en")
    h.text(PAIRING)
    h.send(Command(h.person, "language", "ru"))
    assert labels(h) != []  # the question again, with its buttons
    assert h.replies() == [RU.text(Say.LANGUAGE_SWITCHED), RU.text(Say.FIXED_QUESTION)]
    assert labels(h)[:2] == [RU.label(Say.YES_BUTTON), RU.label(Say.NO_BUTTON)]
    h.press(h.button(RU.label(Say.NO_BUTTON)))  # the new buttons answer
    assert h.state is State.CONFIRM and "Reset the headphones" in h.said()


def test_switching_at_the_purchase_date_with_two_readings_offers_them_again() -> None:
    h = speaking("en")
    to_purchase_date(h)
    h.clock.advance(days=400)
    h.text("11/05/2026")
    assert h.state is State.PURCHASE_DATE and len(labels(h)) == 3
    h.send(Command(h.person, "language", "es"))
    assert len(labels(h)) == 3 and "mayo" in " ".join(labels(h))
    assert h.replies()[0] == ES.text(Say.LANGUAGE_SWITCHED)
    assert h.replies()[1].startswith(ES.text(Say.PURCHASE_DATE_WHICH, first="X", second="Y")[:8])


def test_switching_with_nothing_waiting_invites_the_problem() -> None:
    h = speaking("en")
    h.command("start")
    h.send(Command(h.person, "language", "es"))
    assert h.replies() == [ES.text(Say.LANGUAGE_SET)]


def test_a_russian_team_reads_asked_for_a_person_in_russian_on_the_topic_and_card() -> None:
    h = speaking("en")
    h.engine.services = replace(h.engine.services, responses=RU)  # DEFAULT_LANGUAGE=ru
    h.command("human")
    [topic] = [e for e in h.last if isinstance(e, OpenTopic)]
    assert "asked for a person" not in topic.name
    assert RU.label(Say.SUMMARY_ASKED_FOR_PERSON) in topic.name
    assert RU.label(Say.SUMMARY_ASKED_FOR_PERSON) in h.notices()[0]
