"""The start-up check: does the token work, and can the bot hand tickets to the agent chat?

One implementation for two commands: ``supportbot doctor`` prints every ``Check`` (with the
settings, database and knowledge checks of ``bot.cli``), and ``supportbot run`` refuses to
start on the first failure (``TelegramChannel``). A check is a name, a status and one
sentence; a failure's sentence says what to do. Judging what Telegram answered is pure
(``judge_*``, ``agent_chat_setting``); the ``check_*`` coroutines ask the Bot API.

What the agent chat (``AGENT_CHAT_ID``) needs: to exist and be a supergroup, with topics
(one per ticket; without them tickets go to the group's main thread, so that is a warning),
and the bot an administrator there that may manage topics. With no ``AGENT_CHAT_ID`` nobody
could answer escalated customers, which is a failure unless ``ESCALATION=off``. The webhook
(``doctor`` only: ``run`` sets it itself) is judged in ``bot.telegram.doctor_webhook``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    TelegramError,
)


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"  # works, but not as well as it could
    FAIL = "fail"  # `run` refuses to start; `doctor` exits 1
    SKIP = "skip"  # not checked


MARKS = {Status.OK: "✓", Status.WARN: "⚠", Status.FAIL: "✗", Status.SKIP: "–"}


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    message: str

    def line(self) -> str:
        return f"{MARKS[self.status]} {self.name}: {self.message}"


def failed(checks: Iterable[Check]) -> list[Check]:
    return [check for check in checks if check.status is Status.FAIL]


# ---- judging what the settings and Telegram say (pure) -------------------------------


def agent_chat_setting(agent_chat_id: int | None, *, escalation: bool) -> Check | None:
    """A check when ``AGENT_CHAT_ID`` is not set; None when there is a chat to look at."""
    if agent_chat_id is not None:
        return None
    if not escalation:
        return Check(
            "agent chat",
            Status.OK,
            "none, and none needed with ESCALATION=off: customers the bot cannot help are"
            " told there is no live support here",
        )
    return Check(
        "agent chat",
        Status.FAIL,
        "AGENT_CHAT_ID is not set, so escalated customers would be told a person will reply"
        " and nobody could: set it to your support group's id (see README), or set"
        " ESCALATION=off",
    )


def judge_chat(chat_id: int, chat_type: str, title: str | None, *, is_forum: bool) -> list[Check]:
    """What ``getChat`` said about the agent chat: a supergroup, ideally with topics."""
    label = f'"{title}" ({chat_id})' if title else str(chat_id)
    if chat_type == "group":
        return [
            Check(
                "agent chat",
                Status.FAIL,
                f"{label} is a basic group, not a supergroup: turn on Topics in the group's"
                " settings (Telegram then makes it a supergroup with a new id starting -100)"
                " and put the new id in AGENT_CHAT_ID",
            )
        ]
    if chat_type != "supergroup":
        return [
            Check(
                "agent chat",
                Status.FAIL,
                f"{label} is a {chat_type} chat, not a group: set AGENT_CHAT_ID to your"
                " support group's id",
            )
        ]
    chat = Check("agent chat", Status.OK, f"{label} is a supergroup")
    if is_forum:
        return [chat, Check("topics", Status.OK, "on, so each ticket gets its own topic")]
    return [
        chat,
        Check(
            "topics",
            Status.WARN,
            "off, so tickets go to the group's main thread (a reply to a ticket's card routes"
            " to it); turn on Topics in the group's settings for a topic per ticket",
        ),
    ]


def judge_rights(status: str, *, can_manage_topics: bool, is_forum: bool) -> list[Check]:
    """What ``getChatMember`` said about the bot in the agent chat."""
    if status in ("left", "kicked"):
        return [
            Check(
                "administrator",
                Status.FAIL,
                "the bot is not in the agent chat: add it to the group as an administrator"
                " (with Manage topics)",
            )
        ]
    if status not in ("administrator", "creator"):
        return [
            Check(
                "administrator",
                Status.FAIL,
                "the bot is a member of the agent chat but not an administrator: make it one"
                " in the group's settings (with Manage topics)",
            )
        ]
    admin = Check("administrator", Status.OK, "the bot is an administrator of the agent chat")
    if not is_forum:
        return [admin]
    if can_manage_topics or status == "creator":
        return [admin, Check("manage topics", Status.OK, "the bot may create a topic per ticket")]
    return [
        admin,
        Check(
            "manage topics",
            Status.FAIL,
            "the bot may not manage topics, so it cannot open one per ticket: in the group's"
            " administrators, give it Manage topics",
        ),
    ]


def unreachable(base_url: str, error: NetworkError) -> Check:
    return Check(
        "Bot API",
        Status.FAIL,
        f"cannot reach the Bot API at {base_url} ({error.message}): check TELEGRAM_BASE_URL"
        " and the network",
    )


# ---- asking Telegram -------------------------------------------------------------------


async def check_token(bot: Bot, *, base_url: str) -> Check:
    """``getMe`` (through ``initialize``). Never shows the token: PTB's message holds it."""
    try:
        await bot.initialize()
    except InvalidToken:
        return Check(
            "token",
            Status.FAIL,
            f"the Bot API at {base_url} refused TELEGRAM_BOT_TOKEN: copy the token again"
            " from @BotFather (and check TELEGRAM_BASE_URL)",
        )
    except BadRequest as exc:
        return Check("token", Status.FAIL, f"getMe was refused: {exc.message}")
    except NetworkError as exc:
        return unreachable(base_url, exc)
    except TelegramError as exc:
        return Check("token", Status.FAIL, f"getMe was refused: {exc.message}")
    return Check("token", Status.OK, f"accepted; the bot is @{bot.username}")


async def check_agent_chat(
    bot: Bot, agent_chat_id: int | None, *, escalation: bool, base_url: str
) -> list[Check]:
    """The agent chat and the bot's rights there; ``bot`` is initialized (``check_token``)."""
    setting = agent_chat_setting(agent_chat_id, escalation=escalation)
    if setting is not None:
        return [setting]
    assert agent_chat_id is not None
    try:
        chat = await bot.get_chat(agent_chat_id)
    except TelegramError as exc:
        return [_refused("agent chat", agent_chat_id, exc, base_url)]
    checks = judge_chat(agent_chat_id, chat.type, chat.title, is_forum=bool(chat.is_forum))
    if failed(checks):
        return checks
    try:
        member = await bot.get_chat_member(agent_chat_id, bot.id)
    except TelegramError as exc:
        return [*checks, _refused("administrator", agent_chat_id, exc, base_url)]
    can_manage_topics = getattr(member, "can_manage_topics", None) is True
    rights = judge_rights(
        member.status, can_manage_topics=can_manage_topics, is_forum=bool(chat.is_forum)
    )
    return [*checks, *rights]


async def check_telegram(
    bot: Bot,
    agent_chat_id: int | None,
    *,
    escalation: bool,
    base_url: str,
    webhook_url: str = "",
    now: datetime | None = None,
) -> list[Check]:
    """Everything ``doctor`` asks Telegram, in order; stops where the rest cannot be asked.
    ``webhook_url``: WEBHOOK_URL ("" when polling); ``now`` dates a failed delivery."""
    from bot.telegram.doctor_webhook import check_webhook  # it builds on this module

    token = await check_token(bot, base_url=base_url)
    if token.status is Status.FAIL:
        return [token]
    chat = await check_agent_chat(bot, agent_chat_id, escalation=escalation, base_url=base_url)
    if any(check.name == "Bot API" for check in chat):  # unreachable: one line says so
        return [token, *chat]
    now = now or datetime.now(UTC)
    webhook = await check_webhook(bot, webhook_url, base_url=base_url, now=now)
    return [token, *chat, *webhook]


def _refused(name: str, chat_id: int, error: TelegramError, base_url: str) -> Check:
    """A getChat or getChatMember call about the agent chat failed: what it means."""
    if isinstance(error, ChatMigrated):
        return Check(
            name,
            Status.FAIL,
            f"the group {chat_id} was upgraded to a supergroup with the id"
            f" {error.new_chat_id}: put that in AGENT_CHAT_ID",
        )
    if isinstance(error, Forbidden):
        return Check(
            name,
            Status.FAIL,
            f"the bot is not in the agent chat {chat_id} ({error.message}): add it to the"
            " group as an administrator",
        )
    if isinstance(error, BadRequest):  # "chat not found": never in it, or a wrong id
        return Check(
            name,
            Status.FAIL,
            f"AGENT_CHAT_ID {chat_id} was not found ({error.message}): check the id (a"
            " negative number like -1001234567890) and that the bot was added to that group",
        )
    if isinstance(error, NetworkError):
        return unreachable(base_url, error)
    return Check(name, Status.FAIL, f"Telegram refused to show the agent chat: {error.message}")
