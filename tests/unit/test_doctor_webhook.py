"""``supportbot doctor``'s webhook checks (bot.telegram.doctor_webhook), on plain values and
a fake Bot."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from telegram import Bot, WebhookInfo
from telegram.error import BadRequest, NetworkError, TelegramError

from bot.settings import TELEGRAM_API
from bot.telegram.doctor import Check, Status
from bot.telegram.doctor_webhook import (
    check_webhook,
    judge_delivery,
    judge_webhook,
    judge_webhook_url,
)

HOOK = "https://bot.example.com/telegram"
LOCAL_API = "http://127.0.0.1:8081/bot"  # a Bot API server of one's own
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def statuses(checks: list[Check]) -> list[tuple[str, Status]]:
    return [(check.name, check.status) for check in checks]


# ---- WEBHOOK_URL against Telegram's rules ------------------------------------------------


@pytest.mark.parametrize(
    ("url", "port"),
    [
        (HOOK, 443),
        ("https://bot.example.com:8443/telegram", 8443),
        ("https://bot.example.com:88/", 88),
        ("https://bot.example.com:80/hook", 80),
        ("https://8.8.8.8/hook", 443),  # a public IP address
    ],
)
def test_https_on_an_allowed_port_at_a_public_address_passes(url: str, port: int) -> None:
    check = judge_webhook_url(url, base_url=TELEGRAM_API)
    assert check.status is Status.OK, check
    assert f"https on port {port}" in check.message and "WEBHOOK_SECRET is set" in check.message


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://bot.example.com/telegram", "is http://, not https://"),
        ("https://bot.example.com:8080/telegram", "uses port 8080"),
        ("http://bot.example.com:8443/telegram", "is http://, not https://"),  # port 80 ok
        ("https://localhost/telegram", "names localhost"),
        ("https://127.0.0.1/telegram", "names 127.0.0.1"),
        ("https://192.168.1.20:8443/telegram", "names 192.168.1.20"),
        ("https://[::1]/telegram", "names ::1"),
    ],
)
def test_telegram_posts_only_to_https_on_four_ports_at_public_addresses(
    url: str, says: str
) -> None:
    check = judge_webhook_url(url, base_url=TELEGRAM_API)
    assert check.status is Status.FAIL and check.name == "webhook URL"
    assert check.message.startswith(f"WEBHOOK_URL {says}")
    assert "443, 80, 88 or 8443" in check.message
    assert "reverse proxy" in check.message and "set WEBHOOK_URL" in check.message  # the fix


def test_every_problem_is_named_in_the_one_line() -> None:
    check = judge_webhook_url("http://127.0.0.1:8080/hook", base_url=TELEGRAM_API)
    assert check.message.startswith(
        "WEBHOOK_URL is http://, not https://, uses port 8080 and names 127.0.0.1, not a"
        " public address, but Telegram posts only to"
    )


def test_a_bot_api_server_of_ones_own_may_post_anywhere_with_local_so_it_is_a_warning() -> None:
    check = judge_webhook_url("http://127.0.0.1:9000/hook", base_url=LOCAL_API)
    assert check.status is Status.WARN
    assert "--local" in check.message and "TELEGRAM_BASE_URL" in check.message
    assert judge_webhook_url(HOOK, base_url=LOCAL_API).status is Status.OK


# ---- getWebhookInfo: where Telegram posts ------------------------------------------------


def test_polling_with_no_webhook_set_is_fine() -> None:
    check = judge_webhook("", "", 3)
    assert check.status is Status.OK and "long-poll" in check.message
    assert "3 updates waiting" in check.message


def test_polling_with_a_webhook_left_set_warns_and_says_what_run_does() -> None:
    check = judge_webhook("", "https://old.example.com/hook", 1)
    assert check.status is Status.WARN
    assert "https://old.example.com/hook" in check.message
    assert "supportbot run deletes that webhook when it starts" in check.message
    assert "keeping the 1 update waiting" in check.message
    assert "set WEBHOOK_URL and WEBHOOK_SECRET" in check.message
    assert "keeping" not in judge_webhook("", "https://old.example.com/hook", 0).message


def test_webhook_mode_with_telegram_posting_to_webhook_url_passes() -> None:
    check = judge_webhook(HOOK, HOOK, 0)
    assert check == Check("webhook", Status.OK, "Telegram posts updates to WEBHOOK_URL")


def test_webhook_mode_before_the_first_start_warns_that_run_sets_it() -> None:
    check = judge_webhook(HOOK, "", 2)
    assert check.status is Status.WARN
    assert "no webhook for this bot yet" in check.message
    assert "supportbot run sets it when it starts" in check.message


def test_webhook_mode_with_another_url_set_warns_naming_it() -> None:
    check = judge_webhook(HOOK, "https://staging.example.com/hook", 0)
    assert check.status is Status.WARN
    assert "posts updates to https://staging.example.com/hook, not to WEBHOOK_URL" in (
        check.message
    )
    assert "supportbot run sets WEBHOOK_URL in its place when it starts" in check.message


# ---- getWebhookInfo: the last failed delivery --------------------------------------------


def test_no_failed_delivery() -> None:
    check = judge_delivery(0, None, None, now=NOW)
    assert check.status is Status.OK and "no update waiting" in check.message


def test_a_recent_failed_delivery_warns_naming_the_error() -> None:
    at = NOW - timedelta(minutes=5)
    check = judge_delivery(4, "Connection refused", at, now=NOW)
    assert check.status is Status.WARN and check.name == "webhook delivery"
    assert 'failed 5 minutes ago with "Connection refused"' in check.message
    assert "4 updates waiting" in check.message
    assert "reverse proxy" in check.message and "WEBHOOK_LISTEN" in check.message


def test_an_error_an_hour_old_still_warns_and_older_is_only_mentioned() -> None:
    assert judge_delivery(0, "x", NOW - timedelta(hours=1), now=NOW).status is Status.WARN
    old = judge_delivery(
        0, "Wrong response from the webhook: 502", NOW - timedelta(days=3), now=NOW
    )
    assert old.status is Status.OK
    assert "the last was 3 days ago" in old.message and "502" in old.message


# ---- asking: getWebhookInfo on a fake Bot ------------------------------------------------


class FakeBot:
    def __init__(self, answer: WebhookInfo | TelegramError):
        self.answer = answer

    async def get_webhook_info(self) -> WebhookInfo:
        if isinstance(self.answer, TelegramError):
            raise self.answer
        return self.answer


def ask(answer: WebhookInfo | TelegramError, webhook_url: str = HOOK) -> list[Check]:
    bot = cast(Bot, FakeBot(answer))
    return asyncio.run(check_webhook(bot, webhook_url, base_url=TELEGRAM_API, now=NOW))


def info(url: str, pending: int = 0, **error: object) -> WebhookInfo:
    return WebhookInfo(url, False, pending, **error)  # type: ignore[arg-type]


def test_webhook_mode_judges_the_url_then_where_telegram_posts_then_delivery() -> None:
    failure = {"last_error_date": NOW - timedelta(minutes=2), "last_error_message": "timeout"}
    checks = ask(info(HOOK, 1, **failure))
    assert statuses(checks) == [
        ("webhook URL", Status.OK),
        ("webhook", Status.OK),
        ("webhook delivery", Status.WARN),
    ]


def test_delivery_is_not_judged_for_a_url_that_is_not_webhook_url() -> None:
    checks = ask(info("https://other.example.com/hook"))
    assert statuses(checks) == [("webhook URL", Status.OK), ("webhook", Status.WARN)]


def test_polling_mode_asks_only_where_telegram_posts() -> None:
    assert statuses(ask(info(""), webhook_url="")) == [("webhook", Status.OK)]


def test_a_refused_getwebhookinfo_is_a_warning_and_an_unreachable_api_a_failure() -> None:
    [_, refused] = ask(BadRequest("Something odd"))
    assert refused.status is Status.WARN and "Something odd" in refused.message
    [_, unreachable] = ask(NetworkError("All connection attempts failed"))
    assert unreachable.name == "Bot API" and unreachable.status is Status.FAIL
