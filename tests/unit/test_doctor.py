"""The start-up check's judgement (bot.telegram.doctor), on plain values and a fake Bot."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import cast

import pytest
from telegram import Bot, WebhookInfo
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    TelegramError,
    TimedOut,
)

from bot.telegram.doctor import (
    Check,
    Status,
    agent_chat_setting,
    check_agent_chat,
    check_telegram,
    check_token,
    failed,
    judge_chat,
    judge_rights,
)

AGENTS = -1001234567890
URL = "http://127.0.0.1:8081/bot"
TOKEN = "123456:SECRET-token"


def statuses(checks: list[Check]) -> list[tuple[str, Status]]:
    return [(check.name, check.status) for check in checks]


def test_no_agent_chat_is_a_failure_that_says_why_unless_escalation_is_off() -> None:
    refused = agent_chat_setting(None, escalation=True)
    assert refused is not None and refused.status is Status.FAIL
    assert "AGENT_CHAT_ID is not set" in refused.message
    assert "nobody could" in refused.message and "ESCALATION=off" in refused.message
    fine = agent_chat_setting(None, escalation=False)
    assert fine is not None and fine.status is Status.OK
    assert agent_chat_setting(AGENTS, escalation=True) is None  # there is a chat to look at


def test_a_forum_supergroup_is_what_we_want() -> None:
    checks = judge_chat(AGENTS, "supergroup", "Support", is_forum=True)
    assert statuses(checks) == [("agent chat", Status.OK), ("topics", Status.OK)]
    assert '"Support" (-1001234567890)' in checks[0].message


def test_a_supergroup_without_topics_is_a_warning_not_a_failure() -> None:
    checks = judge_chat(AGENTS, "supergroup", "Support", is_forum=False)
    assert statuses(checks) == [("agent chat", Status.OK), ("topics", Status.WARN)]
    assert "turn on Topics" in checks[1].message
    assert failed(checks) == []


@pytest.mark.parametrize(
    ("chat_type", "says"),
    [
        ("group", "basic group, not a supergroup"),
        ("private", "private chat, not a group"),
        ("channel", "channel chat, not a group"),
    ],
)
def test_anything_but_a_supergroup_fails(chat_type: str, says: str) -> None:
    [check] = judge_chat(AGENTS, chat_type, None, is_forum=False)
    assert check.status is Status.FAIL and says in check.message
    assert "AGENT_CHAT_ID" in check.message  # and what to do


def test_an_administrator_that_may_manage_topics_passes() -> None:
    checks = judge_rights("administrator", can_manage_topics=True, is_forum=True)
    assert statuses(checks) == [("administrator", Status.OK), ("manage topics", Status.OK)]


def test_without_manage_topics_a_forum_fails_and_a_plain_group_does_not_care() -> None:
    checks = judge_rights("administrator", can_manage_topics=False, is_forum=True)
    assert statuses(checks) == [("administrator", Status.OK), ("manage topics", Status.FAIL)]
    assert "give it Manage topics" in checks[1].message
    assert statuses(judge_rights("administrator", can_manage_topics=False, is_forum=False)) == [
        ("administrator", Status.OK)
    ]


@pytest.mark.parametrize(
    ("status", "says"),
    [
        ("member", "not an administrator"),
        ("restricted", "not an administrator"),
        ("left", "not in the agent chat"),
        ("kicked", "not in the agent chat"),
    ],
)
def test_a_bot_that_is_not_an_administrator_fails(status: str, says: str) -> None:
    [check] = judge_rights(status, can_manage_topics=False, is_forum=True)
    assert check.status is Status.FAIL and says in check.message


def test_each_line_has_its_mark() -> None:
    lines = [Check("x", status, "y").line() for status in Status]
    assert lines == ["✓ x: y", "⚠ x: y", "✗ x: y", "– x: y"]


# ---- the same judgement of what the Bot API answers, on a fake Bot ------------------------


@dataclass(frozen=True)
class Chat:
    type: str
    title: str | None
    is_forum: bool | None


@dataclass(frozen=True)
class Member:
    status: str
    can_manage_topics: bool | None = None


FORUM = Chat("supergroup", "Support", is_forum=True)
ADMIN = Member("administrator", can_manage_topics=True)


NO_WEBHOOK = WebhookInfo(url="", has_custom_certificate=False, pending_update_count=0)


class FakeBot:
    """Answers getMe, getChat, getChatMember and getWebhookInfo from its fields, or raises
    what it is given."""

    id = 7000001
    username = "shop_bot"

    def __init__(
        self,
        *,
        me: TelegramError | None = None,
        chat: Chat | TelegramError = FORUM,
        member: Member | TelegramError = ADMIN,
        webhook: WebhookInfo | TelegramError = NO_WEBHOOK,
    ):
        self.me, self.chat, self.member, self.webhook = me, chat, member, webhook
        self.calls: list[str] = []

    async def initialize(self) -> None:
        self.calls.append("getMe")
        if self.me is not None:
            raise self.me

    async def get_chat(self, chat_id: int) -> Chat:
        self.calls.append("getChat")
        if isinstance(self.chat, TelegramError):
            raise self.chat
        return self.chat

    async def get_chat_member(self, chat_id: int, user_id: int) -> Member:
        self.calls.append("getChatMember")
        assert user_id == self.id  # the bot's own membership
        if isinstance(self.member, TelegramError):
            raise self.member
        return self.member

    async def get_webhook_info(self) -> WebhookInfo:
        self.calls.append("getWebhookInfo")
        if isinstance(self.webhook, TelegramError):
            raise self.webhook
        return self.webhook


def ask(
    fake: FakeBot, agent_chat_id: int | None = AGENTS, escalation: bool = True, webhook: str = ""
) -> list[Check]:
    bot = cast(Bot, fake)
    return asyncio.run(
        check_telegram(bot, agent_chat_id, escalation=escalation, base_url=URL, webhook_url=webhook)
    )


def test_all_good_asks_getme_getchat_getchatmember_and_getwebhookinfo() -> None:
    fake = FakeBot()
    checks = ask(fake)
    assert failed(checks) == []
    assert [c.name for c in checks] == [
        "token",
        "agent chat",
        "topics",
        "administrator",
        "manage topics",
        "webhook",
    ]
    assert "@shop_bot" in checks[0].message
    assert fake.calls == ["getMe", "getChat", "getChatMember", "getWebhookInfo"]


def test_a_refused_token_is_named_and_never_shown() -> None:
    # python-telegram-bot puts the token in this message; the check must not repeat it
    fake = FakeBot(me=InvalidToken(f"The token `{TOKEN}` was rejected by the server."))
    [check] = ask(fake)
    assert check.name == "token" and check.status is Status.FAIL
    assert "TELEGRAM_BOT_TOKEN" in check.message and TOKEN not in check.message
    assert fake.calls == ["getMe"]  # nothing else is asked


@pytest.mark.parametrize("error", [NetworkError("All connection attempts failed"), TimedOut()])
def test_an_unreachable_bot_api_is_one_line_naming_the_url(error: NetworkError) -> None:
    [check] = ask(FakeBot(me=error))
    assert check.status is Status.FAIL and check.name == "Bot API"
    assert f"cannot reach the Bot API at {URL}" in check.message
    assert "TELEGRAM_BASE_URL" in check.message


@pytest.mark.parametrize(
    ("error", "name", "says"),
    [
        (BadRequest("Chat not found"), "agent chat", "was not found"),
        (
            Forbidden("Forbidden: bot was kicked from the supergroup chat"),
            "agent chat",
            "not in the agent chat",
        ),
        (ChatMigrated(-1009876543210), "agent chat", "with the id -1009876543210"),
        (NetworkError("Connection reset"), "Bot API", "cannot reach the Bot API"),
    ],
)
def test_what_getchat_refusals_mean(error: TelegramError, name: str, says: str) -> None:
    checks = ask(FakeBot(chat=error))
    assert statuses(checks)[:2] == [("token", Status.OK), (name, Status.FAIL)]
    assert says in checks[1].message
    # an unreachable Bot API is said once; a wrong agent chat does not hide the webhook
    after = [] if name == "Bot API" else [("webhook", Status.OK)]
    assert statuses(checks)[2:] == after


def test_a_getchatmember_refusal_keeps_what_was_learnt_before_it() -> None:
    checks = ask(FakeBot(member=Forbidden("Forbidden: bot is not a member of the supergroup chat")))
    assert statuses(checks) == [
        ("token", Status.OK),
        ("agent chat", Status.OK),
        ("topics", Status.OK),
        ("administrator", Status.FAIL),
        ("webhook", Status.OK),
    ]


def test_a_failing_chat_type_stops_before_getchatmember() -> None:
    fake = FakeBot(chat=Chat("group", "Old group", None))
    checks = ask(fake)
    assert statuses(checks)[-2] == ("agent chat", Status.FAIL)
    assert "getChatMember" not in fake.calls


def test_no_agent_chat_with_escalation_off_asks_nothing_more() -> None:
    fake = FakeBot()
    checks = ask(fake, agent_chat_id=None, escalation=False)
    assert failed(checks) == [] and fake.calls == ["getMe", "getWebhookInfo"]
    assert "ESCALATION=off" in checks[1].message


def test_run_uses_the_same_checks_without_asking_getme_again() -> None:
    """``TelegramChannel`` has connected already; it asks only about the agent chat."""
    fake = FakeBot(member=Member("member"))
    bot = cast(Bot, fake)
    checks = asyncio.run(check_agent_chat(bot, AGENTS, escalation=True, base_url=URL))
    assert fake.calls == ["getChat", "getChatMember"]
    assert [c.name for c in failed(checks)] == ["administrator"]
    token = asyncio.run(check_token(bot, base_url=URL))
    assert token.status is Status.OK
