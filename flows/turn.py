"""One turn of a conversation: what a stage reads, and how it answers.

A stage function takes a ``Turn``, looks at ``turn.conversation`` and ``turn.repos``, and
answers through ``turn.say``/``turn.ask``; the effects it collects are the turn's result.
Button data is ``"<step>|<action>|<arg>"``; a press whose step is not the conversation's
current step comes from an old message and has expired.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flows.hours import SupportHours
from flows.model import (
    Button,
    ChatId,
    Conversation,
    Effect,
    Keyboard,
    NotifyAgents,
    Person,
    Reply,
    Ticket,
)
from flows.ports import Matcher, Repositories
from flows.text import DEFAULT_ORDER_PATTERN, DateOrder
from knowledge.catalogue import Catalogue, language_code
from knowledge.phrases import PhraseBook
from knowledge.responses import Html, Responses, Say
from knowledge.schema import Entry, KnowledgeBase, Thresholds

# button actions
YES = "y"
NO = "n"
PICK = "p"
NONE = "x"
HUMAN = "h"
REOPEN = "o"  # "About T-00128": the resolved problem is back
SOMETHING_NEW = "w"
NO_ORDER = "d"  # "I don't have it" (no order number)
CANCEL = "c"  # "Yes, cancel it" after /cancel of a request the team has
KEEP = "k"
LANGUAGE = "l"  # /language: the arg is the index in ``Catalogue.languages``
_ACTIONS = {YES, NO, PICK, NONE, HUMAN, REOPEN, SOMETHING_NEW, NO_ORDER, CANCEL, KEEP, LANGUAGE}


@dataclass(frozen=True)
class FlowSettings:
    max_attempts: int = 3  # fixes shown before a replacement or a person
    max_match_chars: int = 1000  # longer text is matched on its start, stored in full
    min_letters: int = 3  # fewer letters or digits than this: "tell me a little more"
    # False (ESCALATION=off): nobody answers here, so no reply promises a person; a customer
    # the bot cannot help is told so, with ``support_contact`` when there is one
    escalation: bool = True
    support_contact: str = ""  # how else to reach the shop, as the operator wrote it
    # a message this soon after a resolution asks "about T-00128 or something new?";
    # zero: never asked
    reopen_window: timedelta = timedelta(days=7)
    # follow-ups (flows.followup): when, how long an answer may take, what is too old
    followup_delay: timedelta = timedelta(hours=24)
    auto_close_after: timedelta = timedelta(days=7)
    followup_stale_after: timedelta = timedelta(hours=72)
    quiet_hours: tuple[int, int] | None = (21, 9)  # local hours: none sent from 21 to 9
    timezone: str = "UTC"  # IANA name the quiet hours are read in
    # when the team is in (SUPPORT_HOURS in TIMEZONE); None: not known, nothing is said
    hours: SupportHours | None = None
    # how a numeric purchase date is read first (DATE_ORDER); "11/05/2026" reads two ways
    # in DMY and MDY, and the customer is asked which they meant
    date_order: DateOrder = "DMY"
    # ORDER_NUMBER_PATTERN, compiled by flows.text.order_pattern
    order_number_pattern: re.Pattern[str] = DEFAULT_ORDER_PATTERN


@dataclass(frozen=True)
class Press:
    """Button data after parsing; never trusted beyond its own conversation."""

    step: int
    action: str
    arg: int | None = None


def parse_press(data: str) -> Press | None:
    """Parse button data; None when it is not ours (forged, truncated, from another bot)."""
    parts = data.split("|")
    if len(parts) not in (2, 3) or parts[1] not in _ACTIONS:
        return None
    try:
        step = int(parts[0])
        arg = int(parts[2]) if len(parts) == 3 else None
    except ValueError:
        return None
    if step < 0 or (arg is not None and not 0 <= arg < 10):
        return None
    return Press(step, parts[1], arg)


@dataclass(frozen=True)
class Localised:
    """The knowledge as the customers of one translated language meet it, and its matcher."""

    knowledge: KnowledgeBase
    matcher: Matcher
    thresholds: Thresholds


@dataclass(frozen=True)
class Services:
    """What every turn may use; built once by the composition root."""

    knowledge: KnowledgeBase
    matcher: Matcher
    responses: Responses  # the default language (DEFAULT_LANGUAGE): the team reads this one
    thresholds: Thresholds
    settings: FlowSettings
    # what customers say to the conversation itself ("thanks", "talk to a person")
    phrases: PhraseBook = field(default_factory=PhraseBook.load)
    # every shipped language of the responses; None: customers read ``responses`` too
    catalogue: Catalogue | None = None
    # per language the knowledge is translated into (``KnowledgeBase.languages``)
    localised: Mapping[str, Localised] = field(default_factory=dict)

    def responses_for(self, language: str | None) -> Responses:
        """What a customer whose language is ``language`` reads (the default when not shipped)."""
        if self.catalogue is None:
            return self.responses
        return self.catalogue.for_language(language)

    def knowledge_for(self, language: str | None) -> Localised:
        found = self.localised.get(language_code(language) or "")
        return found or Localised(self.knowledge, self.matcher, self.thresholds)


@dataclass
class Turn:
    services: Services
    repos: Repositories
    conversation: Conversation
    person: Person
    now: datetime
    effects: list[Effect] = field(default_factory=list)

    # ---- shortcuts ---------------------------------------------------------------
    @property
    def chat_id(self) -> ChatId:
        return self.conversation.chat_id

    @property
    def language(self) -> str | None:
        """The customer's language: chosen with /language, else Telegram's; may be unshipped."""
        return self.person.language

    @property
    def responses(self) -> Responses:
        """The sentences in the customer's language."""
        return self.services.responses_for(self.person.language)

    @property
    def team_responses(self) -> Responses:
        """The sentences in the team's (default) language, for the agents' chat."""
        return self.services.responses

    @property
    def matcher(self) -> Matcher:
        """The matcher over the knowledge as the customer's language has it."""
        return self.services.knowledge_for(self.person.language).matcher

    @property
    def thresholds(self) -> Thresholds:
        """The bands of ``matcher``'s scores."""
        return self.services.knowledge_for(self.person.language).thresholds

    @property
    def data(self) -> dict[str, Any]:
        return self.conversation.data

    def ticket(self) -> Ticket | None:
        tid = self.conversation.ticket_id
        return self.repos.tickets.get(tid) if tid is not None else None

    def entry(self, entry_id: str) -> Entry | None:
        """The entry in the customer's language (the default's text where not translated)."""
        return self.services.knowledge_for(self.person.language).knowledge.get(entry_id)

    def touch(self, ticket: Ticket) -> None:
        ticket.updated_at = self.now
        self.repos.tickets.save(ticket)

    # ---- answering ---------------------------------------------------------------
    def say(self, key: Say, **params: object) -> None:
        """A message without buttons (older buttons stay valid)."""
        self.effects.append(Reply(self.chat_id, self.responses.text(key, **params)))

    def say_html(self, text: Html, buttons: Keyboard = ()) -> None:
        self.effects.append(Reply(self.chat_id, text, buttons))

    def ask(
        self,
        text: Html,
        rows: list[list[tuple[str, str, int | None]]],
        *,
        keep_older: bool = False,
    ) -> None:
        """A message with buttons; every older button expires, unless ``keep_older``: the
        question on screen asked again, or a way out ("Talk to a person") beside it."""
        if not keep_older:
            self.conversation.step += 1
        step = self.conversation.step
        keyboard = tuple(
            tuple(Button(label, _data(step, action, arg)) for label, action, arg in row)
            for row in rows
        )
        self.effects.append(Reply(self.chat_id, text, keyboard))

    @property
    def escalation(self) -> bool:
        """True when a person answers escalated customers (``ESCALATION=on``)."""
        return self.services.settings.escalation

    def human_rows(self) -> list[list[tuple[str, str, int | None]]]:
        """The "Talk to a person" row; none when nobody would answer (``ESCALATION=off``)."""
        if not self.escalation:
            return []
        return [[(self.responses.label(Say.HUMAN_BUTTON), HUMAN, None)]]

    def notify_agents(self, key: Say, **params: object) -> None:
        ticket_id = self.conversation.ticket_id
        self.effects.append(NotifyAgents(self.team_responses.text(key, **params), ticket_id))

    def card_for_agents(self, key: Say, **params: object) -> None:
        """The ticket's context card: what the team reads first, in the ticket's topic."""
        ticket_id = self.conversation.ticket_id
        text = self.team_responses.text(key, **params)
        self.effects.append(NotifyAgents(text, ticket_id, card=True))


def _data(step: int, action: str, arg: int | None) -> str:
    return f"{step}|{action}" if arg is None else f"{step}|{action}|{arg}"
