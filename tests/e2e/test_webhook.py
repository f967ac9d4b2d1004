"""Webhook mode with the real bot process: Telegram's POST in, the customer's reply out.

The fake Bot API records ``setWebhook``; the test plays Telegram's side of the webhook,
posting the update the fake made up to the bot's port over HTTP.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.botprocess import BotProcess
from tests.e2e.fake_bot_api import FakeBotApi

SECRET = "e2e-Webhook_secret-0123456789"
ANN = 4242


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Telegram:
    """Telegram's side of the webhook: POST an update with the secret header."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        request = urllib.request.Request(
            self.base + "/telegram/hook", data=json.dumps(update).encode(), headers=headers
        )
        return self._open(request)[0]

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def metrics_once(self, line: str, timeout: float = 60.0) -> str:
        """``/metrics`` once it shows ``line`` (the last one read if ``timeout`` runs out)."""
        give_up = time.monotonic() + timeout
        while True:
            status, text = self.get("/metrics")
            assert status == 200
            if line in text.splitlines() or time.monotonic() > give_up:
                return text
            time.sleep(0.05)

    @staticmethod
    def _open(request: urllib.request.Request) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


@pytest.fixture
def webhook_bot(
    fake_api: FakeBotApi, tmp_path: Path, knowledge_dir: Path
) -> Iterator[tuple[BotProcess, Telegram]]:
    port = free_port()
    process = BotProcess(
        fake_api,
        tmp_path,
        KNOWLEDGE_DIR=str(knowledge_dir),
        WEBHOOK_URL="https://bot.example.test/telegram/hook",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN=f"127.0.0.1:{port}",
    ).start(wait=False)
    try:
        # the server listens before setWebhook is called: once it is, updates may come
        fake_api.wait_for_requests("setWebhook", timeout=60)
        yield process, Telegram(port)
    finally:
        if process.alive():
            process.kill()
        log = process.log()
        assert fake_api.token not in log, "the bot token was written to the log"
        assert SECRET not in log, "the webhook secret was written to the log"


def test_an_update_posted_to_the_webhook_gets_the_customers_reply(
    fake_api: FakeBotApi, webhook_bot: tuple[BotProcess, Telegram]
) -> None:
    process, telegram = webhook_bot
    (call,) = fake_api.requests_for("setWebhook")
    assert call["url"] == "https://bot.example.test/telegram/hook"
    assert call["secret_token"] == SECRET
    assert call["allowed_updates"] == ["message", "callback_query", "my_chat_member"]

    first = fake_api.pushed_update(fake_api.push_command(ANN, "/start"))
    assert telegram.post(first, secret=None) == 401
    assert telegram.post(first, secret="not-the-secret") == 403
    assert telegram.post(first) == 200
    greeting = fake_api.wait_for_messages(ANN, count=1, timeout=60)
    fake_api.fail_next("sendMessage", 429, retry_after=1, chat_id=ANN)  # counted in /metrics
    leak = fake_api.pushed_update(fake_api.push_text(ANN, "there is water under my kettle"))
    assert telegram.post(leak) == 200
    assert telegram.post(leak) == 200  # Telegram's retry: handled once
    replies = fake_api.wait_for_messages(ANN, count=3, timeout=60)
    assert greeting[0]["text"] == replies[0]["text"]
    assert "Do not fill above the MAX line" in replies[1]["text"]
    assert replies[2]["text"] == "Did this fix it?"

    assert telegram.get("/healthz") == (200, "ok\n")
    # the counters move once the bot has read Telegram's answers, just after the fake's count
    metrics = telegram.metrics_once("supportbot_messages_sent_total 3")
    assert "supportbot_messages_sent_total 3" in metrics.splitlines()
    assert "supportbot_telegram_429_total 1" in metrics
    assert "supportbot_updates_handled_total 2" in metrics
    assert "supportbot_updates_stored_total 2" in metrics
    assert 'supportbot_webhook_requests_total{code="403"} 1' in metrics
    assert "supportbot_webhook_duplicates_total 1" in metrics
    assert not fake_api.requests_for("getUpdates")  # webhook mode never polls

    assert process.stop() == 0
    assert not fake_api.requests_for("deleteWebhook")  # the other replicas keep it
    assert "wrong secret token" in process.log()
    assert fake_api.webhook_url == "https://bot.example.test/telegram/hook"
    # no more than those (the process has stopped): the retry was not handled twice
    assert len(fake_api.sent_messages(ANN)) == 3


def test_polling_mode_removes_a_webhook_left_set(
    fake_api: FakeBotApi, tmp_path: Path, knowledge_dir: Path
) -> None:
    """A bot moved back from webhook mode: getUpdates would be refused (409) until the
    webhook is removed, so it is removed first. /healthz and /metrics are on METRICS_LISTEN."""
    fake_api.set_webhook("https://bot.example.test/telegram/hook")
    port = free_port()
    process = BotProcess(
        fake_api, tmp_path, KNOWLEDGE_DIR=str(knowledge_dir), METRICS_LISTEN=f"127.0.0.1:{port}"
    )
    process.start()
    ops = Telegram(port)
    try:
        assert fake_api.requests_for("deleteWebhook") == [{"drop_pending_updates": False}]
        fake_api.push_text(ANN, "there is water under my kettle")
        replies = fake_api.wait_for_messages(ANN, count=2, timeout=60)
        assert "Do not fill above the MAX line" in replies[0]["text"]
        assert ops.get("/healthz") == (200, "ok\n")
        metrics = ops.metrics_once("supportbot_messages_sent_total 2")
        assert "supportbot_messages_sent_total 2" in metrics.splitlines()
        assert "supportbot_updates_stored_total 1" in metrics.splitlines()
        assert "supportbot_webhook_" not in metrics
        assert ops.post(fake_api.pushed_update(1)) == 404  # no webhook when polling
        assert process.stop() == 0
    finally:
        if process.alive():
            process.kill()
    assert "a webhook is set; removing it" in process.log()
    assert "another getUpdates or a webhook is active" not in process.log()  # no 409 met
    assert fake_api.webhook_url == ""
