"""`supportbot doctor` and the start-up check of `supportbot run`, through the real CLI.

Each test runs ``python -m bot doctor`` (or ``run``) as a child process, with the
environment ``BotProcess`` gives the bot, against the fake Bot API set up with one
misconfiguration.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.botprocess import AGENT_CHAT, BotProcess
from tests.e2e.fake_bot_api import FakeBotApi

ANN = 4242
WRONG_TOKEN = "123456:WRONG-token-abcdefghijklmnopqrstuvwxyz1"
HOOK = "https://bot.example.test/telegram/hook"
SECRET = "doctor-Webhook_secret-0123456789"
WEBHOOK = {"WEBHOOK_URL": HOOK, "WEBHOOK_SECRET": SECRET}


def cli(
    fake: FakeBotApi, workdir: Path, command: str, knowledge_dir: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = BotProcess(fake, workdir, KNOWLEDGE_DIR=str(knowledge_dir), **env).env
    return subprocess.run(
        [sys.executable, "-m", "bot", command],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=90,
    )


def lines(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """The doctor's lines by check name: {"token": "✓ token: ...", ...}."""
    found = {}
    for line in result.stdout.splitlines():
        mark, _, rest = line.partition(" ")
        assert mark in ("✓", "⚠", "✗", "–"), f"a line without its mark: {line!r}"
        found[rest.split(":", 1)[0]] = line
    return found


@pytest.fixture
def doctor(fake_api: FakeBotApi, tmp_path: Path, knowledge_dir: Path) -> Doctor:
    return Doctor(fake_api, tmp_path, knowledge_dir)


class Doctor:
    def __init__(self, fake: FakeBotApi, workdir: Path, knowledge_dir: Path):
        self.fake, self.workdir, self.knowledge_dir = fake, workdir, knowledge_dir

    def __call__(self, **env: str) -> tuple[int, dict[str, str]]:
        result = cli(self.fake, self.workdir, "doctor", self.knowledge_dir, **env)
        output = result.stdout + result.stderr
        assert self.fake.token not in output and WRONG_TOKEN not in output
        assert SECRET not in output
        return result.returncode, lines(result)


def test_all_good(doctor: Doctor, fake_api: FakeBotApi) -> None:
    code, found = doctor()
    assert list(found) == [
        "settings",
        "database",
        "knowledge",
        "token",
        "agent chat",
        "topics",
        "administrator",
        "manage topics",
        "webhook",
    ]
    assert all(line.startswith("✓") for line in found.values()), found
    assert code == 0
    assert "@supportbot_test_bot" in found["token"]
    [member] = fake_api.requests_for("getChatMember")
    assert (member["chat_id"], member["user_id"]) == (AGENT_CHAT, fake_api.BOT_ID)


def test_wrong_token(doctor: Doctor, fake_api: FakeBotApi) -> None:
    code, found = doctor(TELEGRAM_BOT_TOKEN=WRONG_TOKEN)
    assert code == 1
    assert found["token"].startswith("✗ token: the Bot API at")
    assert "TELEGRAM_BOT_TOKEN" in found["token"] and "@BotFather" in found["token"]
    assert "agent chat" not in found  # nothing more can be asked
    assert fake_api.requests_for("getChat") == []


def test_agent_chat_missing(doctor: Doctor, fake_api: FakeBotApi) -> None:
    fake_api.forget_chat(AGENT_CHAT)
    code, found = doctor()
    assert code == 1
    assert found["agent chat"].startswith(f"✗ agent chat: AGENT_CHAT_ID {AGENT_CHAT} was not found")
    assert "administrator" not in found


def test_agent_chat_not_a_supergroup(doctor: Doctor) -> None:
    code, found = doctor(AGENT_CHAT_ID="-4001234")  # a basic group
    assert code == 1
    assert found["agent chat"].startswith("✗ agent chat:")
    assert "basic group, not a supergroup" in found["agent chat"]


def test_no_topics_is_a_warning(doctor: Doctor, fake_api: FakeBotApi) -> None:
    fake_api.add_chat(AGENT_CHAT, is_forum=False)
    code, found = doctor()
    assert found["topics"].startswith("⚠ topics: off")
    assert found["administrator"].startswith("✓")
    assert "manage topics" not in found  # not needed without topics
    assert code == 0


def test_bot_not_an_administrator(doctor: Doctor, fake_api: FakeBotApi) -> None:
    fake_api.set_member_status(AGENT_CHAT, fake_api.BOT_ID, "member")
    code, found = doctor()
    assert code == 1
    assert found["administrator"].startswith("✗ administrator:")
    assert "not an administrator" in found["administrator"]


def test_administrator_without_manage_topics(doctor: Doctor, fake_api: FakeBotApi) -> None:
    fake_api.set_member_status(
        AGENT_CHAT, fake_api.BOT_ID, "administrator", can_manage_topics=False
    )
    code, found = doctor()
    assert code == 1
    assert found["administrator"].startswith("✓")
    assert found["manage topics"].startswith("✗ manage topics:")
    assert "Manage topics" in found["manage topics"]


def test_bot_api_cannot_be_reached(doctor: Doctor, fake_api: FakeBotApi) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/bot"
    code, found = doctor(TELEGRAM_BASE_URL=url)
    assert code == 1
    assert list(found)[3:] == ["Bot API"]  # one line for Telegram
    assert found["Bot API"].startswith(f"✗ Bot API: cannot reach the Bot API at {url}")


def test_no_token_says_which_checks_were_skipped(doctor: Doctor, fake_api: FakeBotApi) -> None:
    code, found = doctor(TELEGRAM_BOT_TOKEN="")
    assert code == 0
    assert found["Telegram"].startswith("– Telegram: no TELEGRAM_BOT_TOKEN")
    assert "agent chat" in found["Telegram"] and "terminal chat" in found["Telegram"]
    assert fake_api.requests == []


def test_a_wrong_setting_is_one_failed_line(doctor: Doctor) -> None:
    code, found = doctor(ESCALATION="maybe")
    assert code == 1
    assert list(found) == ["settings"]
    assert found["settings"].startswith("✗ settings: Setting ESCALATION:")


# ---- webhook mode (WEBHOOK_URL) and a webhook left set while polling -----------------------


def test_webhook_mode_all_good(doctor: Doctor, fake_api: FakeBotApi) -> None:
    fake_api.set_webhook(HOOK)  # as `supportbot run` leaves it
    code, found = doctor(**WEBHOOK)
    assert list(found)[-3:] == ["webhook URL", "webhook", "webhook delivery"]
    assert all(line.startswith("✓") for line in found.values()), found
    assert code == 0
    assert found["webhook URL"] == (
        f"✓ webhook URL: {HOOK} is https on port 443, which Telegram posts to, and"
        " WEBHOOK_SECRET is set"
    )
    assert found["webhook"] == "✓ webhook: Telegram posts updates to WEBHOOK_URL"
    assert found["webhook delivery"].startswith("✓ webhook delivery: no failed delivery")
    assert len(fake_api.requests_for("getWebhookInfo")) == 1
    assert fake_api.requests_for("setWebhook") == []  # doctor only looks


def test_webhook_mode_with_a_recent_failed_delivery(doctor: Doctor, fake_api: FakeBotApi) -> None:
    fake_api.set_webhook(HOOK)
    fake_api.push_text(ANN, "hello?")  # one update Telegram could not deliver
    fake_api.fail_webhook_delivery("Connection refused")
    code, found = doctor(**WEBHOOK)
    assert code == 0  # a warning: the bot may just be down for a moment
    line = found["webhook delivery"]
    assert line.startswith("⚠ webhook delivery: Telegram's last post to WEBHOOK_URL failed")
    assert '"Connection refused" (1 update waiting)' in line
    assert "WEBHOOK_LISTEN" in line


def test_webhook_mode_before_the_first_run(doctor: Doctor, fake_api: FakeBotApi) -> None:
    code, found = doctor(**WEBHOOK)
    assert code == 0
    assert found["webhook"].startswith("⚠ webhook: Telegram has no webhook for this bot yet")
    assert "supportbot run sets it when it starts" in found["webhook"]
    assert "webhook delivery" not in found  # nothing was posted anywhere yet
    assert fake_api.webhook_url == ""


def test_webhook_mode_on_telegrams_own_rules(doctor: Doctor) -> None:
    """The fake is a Bot API server of one's own, so an http URL on another port is a
    warning that names --local (with api.telegram.org it fails; see the unit tests)."""
    code, found = doctor(WEBHOOK_URL="http://127.0.0.1:9000/hook", WEBHOOK_SECRET=SECRET)
    assert code == 0
    line = found["webhook URL"]
    assert line.startswith(
        "⚠ webhook URL: WEBHOOK_URL is http://, not https://, uses port 9000 and names"
        " 127.0.0.1, not a public address: your Bot API server (TELEGRAM_BASE_URL) posts there"
        " only when started with --local"
    )


def test_polling_with_a_webhook_left_set(doctor: Doctor, fake_api: FakeBotApi) -> None:
    left = f"https://old.example.test/{fake_api.token}"  # shown, but never the token
    fake_api.set_webhook(left)  # getUpdates answers 409 while it is set
    code, found = doctor()
    assert code == 0
    assert found["webhook"].startswith(
        "⚠ webhook: Telegram posts updates to https://old.example.test/[token], but"
    )
    assert "supportbot run deletes that webhook when it starts" in found["webhook"]
    assert fake_api.webhook_url == left  # doctor only looks
    assert "webhook URL" not in found


def test_a_wrong_webhook_secret_is_the_settings_line_and_not_shown(doctor: Doctor) -> None:
    code, found = doctor(WEBHOOK_URL=HOOK, WEBHOOK_SECRET=f"{SECRET};")
    assert code == 1
    assert list(found) == ["settings"]
    assert found["settings"].startswith("✗ settings: Setting WEBHOOK_SECRET: must be 1-256")


# ---- `supportbot run` refuses on the same checks ------------------------------------------


def test_run_refuses_without_an_agent_chat(
    fake_api: FakeBotApi, tmp_path: Path, knowledge_dir: Path
) -> None:
    result = cli(fake_api, tmp_path, "run", knowledge_dir, AGENT_CHAT_ID="")
    assert result.returncode == 1
    [line] = [line for line in result.stderr.splitlines() if line.startswith("supportbot:")]
    assert line.startswith("supportbot: cannot start: agent chat: AGENT_CHAT_ID is not set")
    assert "nobody could" in line and "ESCALATION=off" in line
    assert fake_api.requests == []  # refused before asking Telegram anything


def test_run_refuses_when_the_bot_is_not_an_administrator(
    fake_api: FakeBotApi, tmp_path: Path, knowledge_dir: Path
) -> None:
    fake_api.set_member_status(AGENT_CHAT, fake_api.BOT_ID, "member")
    result = cli(fake_api, tmp_path, "run", knowledge_dir)
    assert result.returncode == 1
    [line] = [line for line in result.stderr.splitlines() if line.startswith("supportbot:")]
    assert line.startswith("supportbot: cannot start: administrator:")
    assert fake_api.requests_for("getUpdates") == []


def test_run_starts_without_topics_and_warns(
    fake_api: FakeBotApi, tmp_path: Path, knowledge_dir: Path
) -> None:
    fake_api.add_chat(AGENT_CHAT, is_forum=False)
    process = BotProcess(fake_api, tmp_path, KNOWLEDGE_DIR=str(knowledge_dir)).start()
    try:
        assert process.stop() == 0
    finally:
        if process.alive():
            process.kill()
    assert "WARNING bot.telegram.channel: topics: off" in process.log()


def test_run_with_escalation_off_needs_no_agent_chat_and_is_honest(
    fake_api: FakeBotApi, tmp_path: Path, knowledge_dir: Path
) -> None:
    process = BotProcess(
        fake_api,
        tmp_path,
        KNOWLEDGE_DIR=str(knowledge_dir),
        AGENT_CHAT_ID="",
        ESCALATION="off",
        SUPPORT_CONTACT="help@kettles.example",
    ).start()
    try:
        fake_api.push_command(ANN, "/human")
        [reply] = fake_api.wait_for_messages(ANN, 1)
        assert process.stop() == 0
    finally:
        if process.alive():
            process.kill()
    assert "no live support in this chat" in reply["text"]
    assert "help@kettles.example" in reply["text"]
    assert "will reply" not in reply["text"] and "reply_markup" not in reply
    assert fake_api.requests_for("getChat") == []
    assert {m["chat_id"] for m in fake_api.sent_messages()} == {ANN}
