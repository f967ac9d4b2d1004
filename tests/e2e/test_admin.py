"""The admins' commands in Telegram, through the real bot and the fake Bot API: only
ADMIN_IDS may use them (others are told so, and audited), /reload answers with what is in
use, and a broken knowledge edit reaches the admins while customers keep being answered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.storage import make_engine
from bot.storage.tables import AuditRow
from tests.e2e.botprocess import AGENT_CHAT, BotProcess
from tests.e2e.conftest import KETTLES
from tests.e2e.fake_bot_api import FakeBotApi

ADMIN, STRANGER = 4242, 5151
BROKEN = KETTLES.replace("    fix: |\n      1. Do not fill above the MAX line.\n", "")


@pytest.fixture
def admin_bot(fake_api: FakeBotApi, tmp_path: Path, knowledge_dir: Path) -> Iterator[BotProcess]:
    process = BotProcess(
        fake_api, tmp_path, KNOWLEDGE_DIR=str(knowledge_dir), ADMIN_IDS=str(ADMIN)
    ).start()
    try:
        yield process
    finally:
        if process.alive():
            process.kill()


def audit(bot: BotProcess) -> list[tuple[int | None, str, bool]]:
    engine = make_engine(f"sqlite:///{bot.workdir / 'bot.db'}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(AuditRow).order_by(AuditRow.id)).all()  # type: ignore[arg-type]
    finally:
        engine.dispose()
    return [(row.actor_id, row.action, row.allowed) for row in rows]


def test_admin_commands_are_refused_to_everyone_else(
    fake_api: FakeBotApi, admin_bot: BotProcess
) -> None:
    fake_api.push_command(STRANGER, "/stats", first_name="Sam")
    [refusal] = fake_api.wait_for_messages(STRANGER, 1)
    assert refusal["text"] == "Sorry, /stats is only for the shop's admins."
    fake_api.push_text(AGENT_CHAT, "/reload", user_id=STRANGER, first_name="Sam")
    [refused] = fake_api.wait_for_messages(AGENT_CHAT, 1)
    assert refused["text"] == "Sorry, /reload is only for the shop's admins."
    fake_api.push_command(STRANGER, "/start", first_name="Sam")  # the conversation is intact
    assert "Hi Sam" in fake_api.wait_for_messages(STRANGER, 2)[1]["text"]
    # the admin commands are in the admins' menus only
    admin_menu = fake_api.my_commands({"type": "chat", "chat_id": ADMIN})
    assert {"stats", "unmatched", "reload", "start"} <= {c["command"] for c in admin_menu}
    member = {"type": "chat_member", "chat_id": AGENT_CHAT, "user_id": ADMIN}
    assert {"stats", "take"} <= {c["command"] for c in fake_api.my_commands(member)}
    team = fake_api.my_commands({"type": "chat", "chat_id": AGENT_CHAT})
    assert "stats" not in {c["command"] for c in team}
    assert admin_bot.stop() == 0
    assert audit(admin_bot) == [
        (STRANGER, "admin.stats", False),
        (STRANGER, "admin.reload", False),
    ]


def test_a_broken_edit_reaches_the_admins_and_reload_reports_it(
    fake_api: FakeBotApi, admin_bot: BotProcess, knowledge_dir: Path
) -> None:
    fake_api.push_command(ADMIN, "/reload", first_name="Ada")
    [unchanged] = fake_api.wait_for_messages(ADMIN, 1)
    assert "haven't changed since they were loaded. Entries in use: 3." in unchanged["text"]

    (knowledge_dir / "kettles.yaml").write_text(BROKEN, encoding="utf-8")
    [_, notice] = fake_api.wait_for_messages(ADMIN, 2, timeout=30)
    assert "still answering with the previous version (entries in use: 3)" in notice["text"]
    assert "kettles.yaml › kettle-leaks › fix" in notice["text"]

    fake_api.push_text(7, "there is water under my kettle")  # the old knowledge answers
    assert "Do not fill above the MAX line" in fake_api.wait_for_messages(7, 1)[0]["text"]

    fake_api.push_command(ADMIN, "/reload", first_name="Ada")
    [*_, again] = fake_api.wait_for_messages(ADMIN, 3)
    assert "kettles.yaml › kettle-leaks › fix" in again["text"]

    (knowledge_dir / "kettles.yaml").write_text(KETTLES, encoding="utf-8")  # mended
    assert admin_bot.wait_for_log("knowledge reloaded: 3 entries"), admin_bot.log()[-2000:]
    fake_api.push_command(ADMIN, "/reload", first_name="Ada")
    [*_, mended] = fake_api.wait_for_messages(ADMIN, 4)
    assert "haven't changed since they were loaded. Entries in use: 3." in mended["text"]
    assert admin_bot.stop() == 0
    assert [action for _, action, allowed in audit(admin_bot) if allowed] == ["admin.reload"] * 3


def test_a_period_the_stats_cannot_use_is_refused_saying_what_they_take(
    fake_api: FakeBotApi, admin_bot: BotProcess
) -> None:
    asked = 0

    def answer(command: str) -> str:
        nonlocal asked
        fake_api.push_command(ADMIN, command, first_name="Ada")
        asked += 1
        return str(fake_api.wait_for_messages(ADMIN, asked)[-1]["text"])

    assert answer("/stats 7").startswith(
        "📊 <b>The last 7 days</b>\n"
    )  # days, not the 7th of a month
    assert answer("/unmatched 30").startswith("Nothing slipped past the knowledge in the last 30")
    unreadable = (
        "Sorry, I can't read “banana” as a period. Send /{} with how far back to look:"
        " 7 or 7d (days), 24h, 2w, or a date like 2026-03-01."
    )
    assert answer("/stats banana") == unreadable.format("stats")
    assert answer("/unmatched banana") == unreadable.format("unmatched")
    empty = (
        "Sorry, “0d” leaves an empty period: /{0} counts from that moment up to now, and it is"
        " not in the past. Try /{0} 7d for the last 7 days."
    )
    assert answer("/stats 0d") == empty.format("stats")
    assert answer("/unmatched 0d") == empty.format("unmatched")
    assert answer("/stats").startswith("📊 <b>The last 7 days</b>\n")  # no period: the last week
    assert admin_bot.stop() == 0
    assert [action for _, action, allowed in audit(admin_bot) if allowed] == [
        "admin.stats",
        "admin.unmatched",
        "admin.stats",
        "admin.unmatched",
        "admin.stats",
        "admin.unmatched",
        "admin.stats",
    ]
