"""The terminal channel: the same flows and database as Telegram, typed in a terminal.

Reads standard input line by line, so it can be scripted::

    printf 'my earbuds will not pair\n2\n' | supportbot chat

Type a button's number or its label to press it, ``/help`` for commands, Ctrl-D to leave.

The terminal plays the support team too, so a customer told "a person will reply right here"
can be answered: ``/team Hello!`` writes as an agent in the request's (virtual) topic, and
``/team /resolve``, ``/team /take``, ``/team /approve`` ... run the agents' commands on it.

Follow-ups that fall due ("Is everything working now?") are shown when the chat starts and
while it waits for the next line, so ``FOLLOWUP_DELAY=5s`` shows the whole loop.
"""

from __future__ import annotations

import dataclasses
import getpass
import itertools
import queue
import re
import sys
import threading
import unicodedata
from typing import TextIO

from bot.app import App
from bot.delivery import store_effects
from bot.followups import FollowUpDispatcher
from bot.markup import plain
from bot.storage import MessageKind, OutboxStatus
from flows.model import (
    WITH_TEAM,
    ButtonPress,
    ChatId,
    Command,
    Effect,
    Inbound,
    NotifyAgents,
    OpenTopic,
    Person,
    ReopenTopic,
    TeamMessage,
    TextMessage,
    UserId,
)

CONSOLE_CHAT = ChatId(1)
CONSOLE_AGENT = UserId(2)  # whoever types /team: an admin of this terminal's team
CONSOLE_AGENT_NAME = "Sam"
TEAM_PREFIX = "/team"
FOLLOWUP_TICK = 1.0  # seconds between looks for due follow-ups while waiting for a line


class Console:
    def __init__(
        self,
        app: App,
        *,
        out: TextIO = sys.stdout,
        interactive: bool = False,
        language: str | None = None,  # as Telegram's language_code would say it: "ru"
    ):
        self.app = app
        self.out = out
        self.interactive = interactive
        name = getpass.getuser().capitalize() if interactive else ""
        self.person = Person(CONSOLE_CHAT, CONSOLE_CHAT, name=name, language=language)
        self.buttons: list[tuple[str, str, int]] = []  # label, data, message id
        # the team's side: the operator is its one agent (an admin, so every command works)
        self.desk = dataclasses.replace(app.desk, admins=frozenset({CONSOLE_AGENT}))
        self.team_messages = itertools.count(1)
        self.team_hint_shown = False
        self.followups = (
            FollowUpDispatcher(
                new_uow=app.new_uow,
                flows=app.followups,
                clock=app.clock,
                agent_chat_id=None,
                rate=app.settings.followup_rate,
                lease=app.settings.followup_lease,
                chat_id=CONSOLE_CHAT,  # this chat's only: others are Telegram's
            )
            if app.followups is not None
            else None
        )

    def run(self, lines: TextIO) -> None:
        self._print_intro()
        with self.app.new_uow() as uow:
            fresh = uow.conversations.get(CONSOLE_CHAT) is None
        if fresh:
            self.send(Command(self.person, "start"))
        else:
            self._say("(picking up where we left off; /start begins anew)")
            self._show_last_question()
        self.run_followups()
        typed_lines = _read_in_background(lines)
        while True:
            if self.interactive:
                self.out.write("you › ")
                self.out.flush()
            line = self._next_line(typed_lines)
            if not line:
                break
            typed = line.rstrip("\n")
            if not typed.strip():
                continue
            if not self.interactive:
                self.out.write(f"you › {typed}\n")
            if typed.strip().lower().split(" ")[0] == TEAM_PREFIX:
                self.as_team(typed.strip()[len(TEAM_PREFIX) :].strip())
            else:
                self.send(self.to_event(typed))
        if self.interactive:
            self.out.write("\nBye!\n")

    def _next_line(self, typed_lines: queue.Queue[str | None]) -> str | None:
        """The next line typed; due follow-ups are shown while waiting for it."""
        while True:
            try:
                return typed_lines.get(timeout=FOLLOWUP_TICK)
            except queue.Empty:
                if self.run_followups() and self.interactive:
                    self.out.write("you › ")
                    self.out.flush()

    def run_followups(self) -> int:
        """Ask the follow-ups of this chat that are due, and show them; returns how many."""
        if self.followups is None:
            return 0
        handed = self.followups.run_due()
        if handed:
            if self.interactive:
                self.out.write("\n")
            self._show_outbox()
        return handed

    def to_event(self, typed: str) -> Inbound:
        text = typed.strip()
        if text.isdigit() and 1 <= int(text) <= len(self.buttons):
            _, data, message_id = self.buttons[int(text) - 1]
            return ButtonPress(self.person, data, message_id)
        for label, data, message_id in self.buttons:
            if _simple(label) and _simple(label) == _simple(text):
                return ButtonPress(self.person, data, message_id)
        if text.startswith("/") and len(text) > 1:
            name, _, args = text[1:].partition(" ")
            return Command(self.person, name.lower(), args.strip())
        return TextMessage(self.person, typed)

    def send(self, event: Inbound) -> None:
        """Run the flows on one event, store the outbox, and print what it holds."""
        app = self.app
        with app.new_uow() as uow:
            effects = app.conversations.handle(uow, event)
            store_effects(uow, effects, agent_chat_id=None, at=app.clock.now())
            uow.commit()
        self._show_outbox()
        self._show_team_side(effects)

    def as_team(self, typed: str) -> None:
        """``/team …``: what an agent writes in the topic of the request with the team."""
        app = self.app
        if not app.settings.escalation_on:
            self._say("[ESCALATION=off: there is no support team in this chat, so no /team]")
            return
        with app.new_uow() as uow:
            ticket = next(
                (
                    t
                    for t in uow.tickets.for_customer(CONSOLE_CHAT, limit=5)
                    if t.status in WITH_TEAM
                ),
                None,
            )
            if ticket is None or ticket.topic_id is None:
                self._say("[no request is with the support team now: /team answers one that is]")
                return
            command, _, args = typed[1:].partition(" ") if typed.startswith("/") else ("", "", "")
            event = TeamMessage(
                chat_id=0,
                user_id=CONSOLE_AGENT,
                name=CONSOLE_AGENT_NAME,
                message_id=next(self.team_messages),
                thread_id=ticket.topic_id,
                text=typed,
                command=command.lower() or None,
                args=args.strip(),
            )
            effects = self.desk.handle(uow, event)
            store_effects(uow, effects, agent_chat_id=None, at=app.clock.now())
            uow.commit()
        self._show_outbox()
        self._show_team_side(effects)

    def _show_team_side(self, effects: list[Effect]) -> None:
        """What Telegram would post in the team's chat; topics are numbered by ticket here."""
        for effect in effects:
            if isinstance(effect, OpenTopic):
                with self.app.new_uow() as uow:
                    uow.tickets.set_topic(effect.ticket_id, effect.ticket_id)
                    uow.commit()
                self._say(f"[to the support team] new topic «{effect.name}»")
                if not self.team_hint_shown and self.app.settings.escalation_on:
                    self.team_hint_shown = True
                    self._say(
                        "[terminal chat: you are the support team too. Answer with /team your"
                        " words; /team /resolve solves it, /team /approve approves a replacement]"
                    )
            elif isinstance(effect, ReopenTopic):
                self._say("[to the support team] topic reopened")
            elif isinstance(effect, NotifyAgents):
                self._say("[to the support team] " + plain(effect.text).replace("\n", " | "))

    def _show_last_question(self) -> None:
        """On picking up: the bot's last message again if it asked with buttons, so the
        numbers typed next press them as they would have before."""
        with self.app.new_uow() as uow:
            sent = uow.outbox.for_chat(CONSOLE_CHAT, status=OutboxStatus.SENT)
        said = [item for item in sent if item.kind is MessageKind.SEND]
        if said and said[-1].buttons:
            self._show(said[-1].text, said[-1].buttons or [], said[-1].id)

    def _show_outbox(self) -> None:
        """Print what waits in the outbox for this chat, and mark it sent."""
        app = self.app
        with app.new_uow() as uow:
            pending = uow.outbox.for_chat(CONSOLE_CHAT, status=OutboxStatus.PENDING)
            for item in pending:
                if item.kind is MessageKind.SEND:
                    self._show(item.text, item.buttons or [], item.id)
                uow.outbox.mark_sent(item.id, app.clock.now(), item.id)
            uow.commit()

    def _show(self, text: str, rows: list[list[dict[str, str]]], message_id: int) -> None:
        self._say("bot › " + plain(text).replace("\n", "\n      "))
        if rows:
            self.buttons = []
            for row in rows:
                labels = []
                for button in row:
                    self.buttons.append((button["label"], button["data"], message_id))
                    labels.append(f"[{len(self.buttons)}] {button['label']}")
                self._say("      " + "   ".join(labels))

    def _say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _print_intro(self) -> None:
        if self.interactive:
            on = self.app.settings.escalation_on  # else there is no team to play
            team = " /team … to answer as the support team," if on else ""
            self._say(
                "Terminal chat with supportbot: the same conversation customers get in"
                " Telegram.\nType your problem, a button's number to press it, /help for"
                f" commands,{team} Ctrl-D to leave.\n"
            )


def _simple(text: str) -> str:
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LNZ")
    return re.sub(r"\s+", " ", kept).strip().lower()


def _read_in_background(lines: TextIO) -> queue.Queue[str | None]:
    """Lines from ``lines`` as they are typed, None at the end; read by a daemon thread so
    the chat can do other things (show follow-ups) while it waits."""
    typed: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        try:
            for line in iter(lines.readline, ""):
                typed.put(line)
        finally:
            typed.put(None)

    threading.Thread(target=read, name="stdin", daemon=True).start()
    return typed
