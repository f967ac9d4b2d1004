"""What the sender makes of Telegram refusing a message: a 400 that may be harmless, and
the agent chat answering 403 (the bot was removed from it).

- a 403 from the agent chat: logged at ERROR once; its rows stay pending and are retried
  with backoff until the bot is back; no customer is touched; the first refusal of a loss
  writes each admin (``ADMIN_IDS``) a private notice. An admin who never started the bot
  answers that with a 403 like any private chat: the notice fails once, and is not tried
  again;
- a 400 that says the message itself is wrong: logged and given up (HTML that does not
  parse is sent once more as plain text first); one that says there was nothing to do
  (buttons already cleared, a topic already closed) counts as sent;
- a network failure after the request went out (no answer, a reset, a timeout while
  reading): Telegram may have sent the message, and the retry may deliver it twice
  (``may_have_arrived``), which the sender's warning says.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import timedelta
from enum import Enum

from telegram.error import BadRequest, Forbidden, NetworkError

from bot.clock import Clock
from bot.storage import MessageKind, OutboxItem, OutgoingMessage, UnitOfWorkFactory
from knowledge.responses import Responses, Say

log = logging.getLogger("bot.telegram.sender")

MAX_BACKOFF = 60.0  # longest wait between tries of one message during an outage


# httpx's errors once the request was written (python-telegram-bot raises NetworkError or
# TimedOut from them): the Bot API may have acted on it
_AFTER_SENDING = frozenset({"ReadError", "ReadTimeout", "RemoteProtocolError"})


def may_have_arrived(error: NetworkError) -> bool:
    """True when a call failed after its request went out, so Telegram may have done it:
    sent again, the message may arrive twice (the Bot API has no idempotency key). False
    when it never got there (refused, no route, a 5xx that Telegram answered)."""
    cause = error.__cause__
    return type(cause).__module__.startswith("httpx") and type(cause).__name__ in _AFTER_SENDING


class Refusal(Enum):
    """What to do with a row Telegram answered 400."""

    DONE = "done"  # nothing was left to do (mark it sent)
    PLAIN = "plain"  # its HTML did not parse: send it once more as plain text
    FAIL = "fail"  # the message itself is wrong: give it up


def bad_request(item: OutboxItem, exc: BadRequest) -> Refusal:
    """Classify (and log) a 400."""
    text = exc.message.lower()
    if item.kind is MessageKind.CLEAR_BUTTONS and (
        "not modified" in text or "not found" in text or "can't be edited" in text
    ):
        return Refusal.DONE  # nothing left to clear: fine
    if item.kind in (MessageKind.CLOSE_TOPIC, MessageKind.REOPEN_TOPIC):
        # closed (or open) already, or gone: nothing to do
        log.info("%s in chat %s: %s", item.kind.value, item.chat_id, exc.message)
        return Refusal.DONE
    if item.kind is MessageKind.CREATE_TOPIC:  # no topics there: cards go to the chat
        log.warning(
            "cannot open a topic in the agent chat %s (%s): tickets are posted in the chat"
            " itself, and their messages answer their card",
            item.chat_id,
            exc.message,
        )
        return Refusal.DONE
    if "can't parse entities" in text and item.text:
        log.error("message to chat %s did not parse; sending it as plain text", item.chat_id)
        return Refusal.PLAIN
    log.error("Telegram refused a message to chat %s: %s", item.chat_id, exc.message)
    return Refusal.FAIL


class AgentChatLoss:
    """The bot removed from the agent chat: its rows are kept, the admins told once."""

    def __init__(
        self,
        *,
        new_uow: UnitOfWorkFactory,
        clock: Clock,
        admin_ids: Collection[int],
        responses: Responses | None,  # for the admins' notice; none: they are not told
    ) -> None:
        self.new_uow = new_uow
        self.clock = clock
        self.admin_ids = tuple(admin_ids)
        self.responses = responses
        self.lost = False  # a 403 from it was logged; cleared by the next send

    def refused(self, item: OutboxItem, exc: Forbidden) -> int:
        """The agent chat answered 403: keep the row (and those behind it) for later;
        returns how many admins were told (their notices are due at once).

        The first refusal of a loss also tells the admins, in the transaction that keeps
        the row. A loss is new unless this process saw it already or the row itself was
        refused before (a refusal is stored on the row): a restart while the bot is still
        out of the chat tells nobody again.
        """
        refused_before = (item.error or "").startswith("403")
        new_loss = not self.lost and not refused_before
        if not self.lost:
            self.lost = True
            log.error(
                "the bot was removed from the agent chat %s (%s); notices are kept and will be"
                " sent when it is back",
                item.chat_id,
                exc.message,
            )
        pause = min(MAX_BACKOFF, 2.0 ** (item.attempts + 1))
        with self.new_uow() as uow:
            at = self.clock.now() + timedelta(seconds=pause)
            uow.outbox.mark_retry(item.id, at, f"403 {exc.message}")
            told = 0
            if new_loss and self.responses is not None and self.admin_ids:
                waiting = uow.outbox.waiting_messages(item.chat_id)
                text = self.responses.text(
                    Say.ADMIN_AGENT_CHAT_LOST, chat=item.chat_id, count=waiting
                )
                for admin in self.admin_ids:
                    message = OutgoingMessage(admin, MessageKind.SEND, text)
                    uow.outbox.add(message, self.clock.now())
                told = len(self.admin_ids)
            uow.commit()
        if told:
            log.info("told %d admin(s) that the bot cannot post in the agent chat", told)
        return told

    def sent(self) -> None:
        """A message reached the agent chat: the bot is back, if it was lost."""
        if self.lost:
            self.lost = False
            log.info("the bot is back in the agent chat; sending the notices kept meanwhile")
