"""The admins' commands in Telegram: ``/stats``, ``/unmatched`` and ``/reload``.

Only the numeric user ids in ``ADMIN_IDS`` may use them, in a private chat with the bot or
in the team's chat; every attempt is audited, and anyone else is told, kindly and in their
language, that the command is for admins (their conversation is left as it was).

The worker hands a command over in the update's own transaction (``accept``: the audit
row and a refusal are written with it); an allowed one runs after that commit (``run``):
figures and groups are computed in a thread, so customers are answered meanwhile, and the
answer goes to the outbox like any other message. A command lost to a crash in between is
simply not answered: the admin sends it again (nothing else depends on it).

``tell_broken`` is ``KnowledgeWatch.on_problems``: a knowledge edit that does not load is
reported to every admin in a private message (file › entry › field), while the bot goes on
with the previous knowledge.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

from bot.clock import Clock
from bot.storage import MessageKind, OutgoingMessage, SqlUnitOfWork, UnitOfWorkFactory
from flows.model import AuditEntry, ChatId, Command, TeamMessage, UserId
from knowledge.catalogue import Catalogue
from knowledge.responses import Html, Responses, Say

log = logging.getLogger(__name__)

COMMANDS = frozenset({"stats", "unmatched", "reload"})
MAX_PROBLEMS = 15  # lines of problems in one Telegram message; the rest: "... and N more"


class Reloadable(Protocol):
    """``bot.reload.KnowledgeWatch``, as ``/reload`` uses it."""

    problems: list[str]
    entries: int

    async def refresh(self, *, wait: bool = False) -> bool: ...


@dataclass(frozen=True)
class Request:
    """An admin command, where its answer goes, and in which language."""

    command: str
    args: str
    user_id: int
    chat_id: int
    thread_id: int | None = None  # a topic of the team's chat
    language: str | None = None  # None: the team's (default) language


def request_for(event: object) -> Request | None:
    """The admin command in a customer's or the team's message; None for anything else."""
    if isinstance(event, Command) and event.name in COMMANDS:
        person = event.person
        return Request(event.name, event.args, person.user_id, person.chat_id, None, None)
    if isinstance(event, TeamMessage) and event.command in COMMANDS:
        return Request(event.command, event.args, event.user_id, event.chat_id, event.thread_id)
    return None


class Admin:
    def __init__(
        self,
        *,
        admin_ids: Collection[int],
        catalogue: Catalogue,
        clock: Clock,
        new_uow: UnitOfWorkFactory,
        watch: Reloadable | None = None,
        answers: dict[str, Callable[[Request, Responses], Html]] | None = None,
    ):
        """``answers``: how ``/stats`` and ``/unmatched`` are answered (slow: run in a
        thread); a command without one is answered with ``ADMIN_FAILED``."""
        self.admin_ids = frozenset(admin_ids)
        self.catalogue = catalogue
        self.clock = clock
        self.new_uow = new_uow
        self.watch = watch
        self.answers = answers or {}
        self.on_outbox: asyncio.Event | None = None  # the sender's wake-up
        self._tasks: set[asyncio.Task[None]] = set()

    def accept(self, uow: SqlUnitOfWork, request: Request) -> bool:
        """Audit the attempt; refuse (in the caller's transaction) anyone but an admin.
        True when the command is to be run (``start``) once the transaction commits."""
        allowed = request.user_id in self.admin_ids
        uow.audit.add(
            AuditEntry(
                at=self.clock.now(),
                action=f"admin.{request.command}",
                allowed=allowed,
                actor_id=UserId(request.user_id),
                chat_id=ChatId(request.chat_id),
                detail=request.args[:200],
            )
        )
        if not allowed:
            log.warning("user %s tried /%s: not an admin", request.user_id, request.command)
            language = request.language
            if request.thread_id is None and request.chat_id == request.user_id:
                customer = uow.customers.get(ChatId(request.chat_id))
                language = customer.language if customer is not None else language
            text = self.catalogue.for_language(language).text(
                Say.ADMIN_ONLY, command=request.command
            )
            uow.outbox.add(self._message(request, text), self.clock.now())
        return allowed

    def start(self, request: Request) -> None:
        """Run an accepted command in the background (the loop keeps serving)."""
        task = asyncio.get_running_loop().create_task(self.run(request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self, request: Request) -> None:
        responses = self.catalogue.for_language(request.language)
        try:
            text = await self._answer(request, responses)
        except Exception:
            log.exception("/%s failed", request.command)
            text = responses.text(Say.ADMIN_FAILED, command=request.command)
        await asyncio.to_thread(self._store, [self._message(request, text)])
        self._wake()

    async def _answer(self, request: Request, responses: Responses) -> Html:
        if request.command == "reload":
            return await self._reload(responses)
        answer = self.answers.get(request.command)
        if answer is None:
            raise LookupError(f"no answer for /{request.command}")
        return await asyncio.to_thread(answer, request, responses)

    async def _reload(self, responses: Responses) -> Html:
        watch = self.watch
        if watch is None:
            raise LookupError("the knowledge is not watched here")
        swapped = await watch.refresh(wait=True)
        if watch.problems:
            return self._broken(responses, watch.problems, watch.entries)
        key = Say.ADMIN_RELOADED if swapped else Say.ADMIN_RELOAD_UNCHANGED
        return responses.text(key, entries=watch.entries)

    def tell_broken(self, problems: list[str]) -> None:
        """Tell every admin, privately, that an edit does not load (old knowledge in use)."""
        if not self.admin_ids:
            return
        entries = self.watch.entries if self.watch is not None else 0
        text = self._broken(self.catalogue.default, problems, entries)
        self._store([OutgoingMessage(admin, MessageKind.SEND, text) for admin in self.admin_ids])
        self._wake()

    @staticmethod
    def _broken(responses: Responses, problems: list[str], entries: int) -> Html:
        shown = [f"• {html.escape(p)}" for p in problems[:MAX_PROBLEMS]]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"… +{len(problems) - MAX_PROBLEMS}")
        return responses.text(
            Say.ADMIN_KNOWLEDGE_BROKEN, problems=Html("\n".join(shown)), entries=entries
        )

    def _store(self, messages: list[OutgoingMessage]) -> None:
        with self.new_uow() as uow:
            for message in messages:
                uow.outbox.add(message, self.clock.now())
            uow.commit()

    def _wake(self) -> None:
        """The sender's wake-up (an ``asyncio.Event``: set on the loop, never in a thread)."""
        if self.on_outbox is not None:
            self.on_outbox.set()

    @staticmethod
    def _message(request: Request, text: str) -> OutgoingMessage:
        return OutgoingMessage(
            request.chat_id, MessageKind.SEND, text, message_thread_id=request.thread_id
        )
