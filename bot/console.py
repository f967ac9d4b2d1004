"""The terminal channel: the same flows and database as Telegram, typed in a terminal.

Reads standard input line by line, so it can be scripted::

    printf 'my earbuds will not pair\n2\n' | supportbot chat

Type a button's number or its label to press it, ``/help`` for commands, Ctrl-D to leave.
"""

from __future__ import annotations

import getpass
import re
import sys
import unicodedata
from typing import TextIO

from bot.app import App
from bot.delivery import store_effects
from bot.markup import plain
from bot.storage import MessageKind, OutboxStatus
from flows.model import (
    ButtonPress,
    ChatId,
    Command,
    Inbound,
    NotifyAgents,
    OpenTopic,
    Person,
    ReopenTopic,
    TextMessage,
)

CONSOLE_CHAT = ChatId(1)


class Console:
    def __init__(self, app: App, *, out: TextIO = sys.stdout, interactive: bool = False):
        self.app = app
        self.out = out
        self.interactive = interactive
        name = getpass.getuser().capitalize() if interactive else "there"
        self.person = Person(CONSOLE_CHAT, CONSOLE_CHAT, name=name, username=None)
        self.buttons: list[tuple[str, str, int]] = []  # label, data, message id

    def run(self, lines: TextIO) -> None:
        self._print_intro()
        with self.app.new_uow() as uow:
            fresh = uow.conversations.get(CONSOLE_CHAT) is None
        if fresh:
            self.send(Command(self.person, "start"))
        else:
            self._say("(picking up where we left off; /start begins anew)")
        while True:
            if self.interactive:
                self.out.write("you › ")
                self.out.flush()
            line = lines.readline()
            if not line:
                break
            typed = line.rstrip("\n")
            if not typed.strip():
                continue
            if not self.interactive:
                self.out.write(f"you › {typed}\n")
            self.send(self.to_event(typed))
        if self.interactive:
            self.out.write("\nBye!\n")

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
        with app.new_uow() as uow:
            pending = uow.outbox.for_chat(CONSOLE_CHAT, status=OutboxStatus.PENDING)
            for item in pending:
                if item.kind is MessageKind.SEND:
                    self._show(item.text, item.buttons or [], item.id)
                uow.outbox.mark_sent(item.id, app.clock.now(), item.id)
            uow.commit()
        for effect in effects:  # what Telegram would post in the team's chat
            if isinstance(effect, OpenTopic):
                self._say(f"[to the support team] new topic «{effect.name}»")
            elif isinstance(effect, ReopenTopic):
                self._say("[to the support team] topic reopened")
            elif isinstance(effect, NotifyAgents):
                self._say("[to the support team] " + plain(effect.text).replace("\n", " | "))

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
            self._say(
                "Terminal chat with supportbot: the same conversation customers get in"
                " Telegram.\nType your problem, a button's number to press it, /help for"
                " commands, Ctrl-D to leave.\n"
            )


def _simple(text: str) -> str:
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LNZ")
    return re.sub(r"\s+", " ", kept).strip().lower()
