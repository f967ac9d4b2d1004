"""The real bot, over python-telegram-bot's HTTP, against the fake Bot API server."""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.storage import make_engine
from tests.databases import PG_SKIP_REASON, drop_everything, postgres_url
from tests.e2e.botprocess import AGENT_CHAT, BotProcess
from tests.e2e.fake_bot_api import FakeBotApi, JSONDict

ANN = 4242


def buttons(message: JSONDict) -> dict[str, str]:
    """Label -> callback data of a sent message's inline keyboard."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


def press(fake: FakeBotApi, message: JSONDict, label_part: str) -> None:
    for label, data in buttons(message).items():
        if label_part.lower() in label.lower():
            fake.push_callback(ANN, data, message["message_id"])
            return
    raise AssertionError(f"no {label_part!r} button in {buttons(message)}")


def texts(messages: list[JSONDict]) -> list[str]:
    return [m["text"] for m in messages]


def test_describe_fix_no_next_then_a_person(fake_api: FakeBotApi, bot: BotProcess) -> None:
    fake_api.push_command(ANN, "/start")
    [welcome] = fake_api.wait_for_messages(ANN, 1)
    assert "Hi Ann!" in welcome["text"] and welcome["parse_mode"] == "HTML"

    fake_api.push_text(ANN, "the kettle light is on but it won't boil")
    sent = fake_api.wait_for_messages(ANN, 3)
    assert "Kettle does not heat up" in sent[1]["text"]
    assert "Wipe the contacts" in sent[1]["text"]
    assert sent[2]["text"] == "Did this fix it?"
    assert {"✅ Yes, it's fixed", "❌ No, still broken", "🙋 Talk to a person"} <= set(
        buttons(sent[2])
    )

    press(fake_api, sent[2], "No")
    sent = fake_api.wait_for_messages(ANN, 5)
    assert "Let's try something else" in sent[3]["text"]
    assert "switches off before the water boils" in sent[3]["text"]
    answers = fake_api.callback_answers()
    assert len(answers) == 1  # the press was answered, so the button stops spinning
    cleared = fake_api.wait_for_requests("editMessageReplyMarkup")
    assert cleared[0]["message_id"] == sent[2]["message_id"]

    press(fake_api, sent[4], "person")
    sent = fake_api.wait_for_messages(ANN, 6)
    assert "passed this to our support team" in sent[5]["text"]
    ref = re.search(r"T-\d{5}", sent[5]["text"])
    assert ref is not None
    [card] = fake_api.wait_for_messages(AGENT_CHAT, 1)
    assert ref.group(0) in card["text"] and "asked for a person" in card["text"]
    assert "won&#x27;t boil" in card["text"] or "won't boil" in card["text"]

    fake_api.push_command(ANN, "/status")
    sent = fake_api.wait_for_messages(ANN, 7)
    assert ref.group(0) in sent[6]["text"] and "waiting for a person" in sent[6]["text"]


def test_the_same_update_twice_gives_one_reply(fake_api: FakeBotApi, bot: BotProcess) -> None:
    first = fake_api.push_text(ANN, "there is water under my kettle")
    fake_api.wait_for_messages(ANN, 2)
    fake_api.push_update(fake_api.pushed_update(first))  # Telegram redelivers it
    fake_api.push_command(ANN, "/status")  # a marker: once answered, the duplicate was seen
    sent = fake_api.wait_for_messages(ANN, 3)
    time.sleep(0.5)
    sent = fake_api.sent_messages(ANN)
    assert len(sent) == 3, texts(sent)
    assert sent[2]["text"].count("T-0000") == 1  # one ticket


def test_restart_mid_conversation_resumes(fake_api: FakeBotApi, bot: BotProcess) -> None:
    fake_api.push_text(ANN, "my kettle does not heat the water")
    sent = fake_api.wait_for_messages(ANN, 2)
    assert bot.stop() == 0
    fake_api.push_text(ANN, "nope")  # arrives while the bot is down
    bot.start()
    sent = fake_api.wait_for_messages(ANN, 4)
    assert "Let's try something else" in sent[2]["text"]
    press(fake_api, sent[3], "Yes")
    sent = fake_api.wait_for_messages(ANN, 5)
    assert "glad it works" in sent[4]["text"]


def test_killed_after_storing_an_update_handles_it_after_restart(
    fake_api: FakeBotApi, bot: BotProcess
) -> None:
    fake_api.push_text(ANN, "there is water under my kettle")
    fake_api.wait_for_messages(ANN, 2)
    time.sleep(0.3)  # let the sender mark them sent (a kill in between resends one)
    bot.kill()  # SIGKILL: no chance to tidy up
    fake_api.push_command(ANN, "/status")
    bot.start()
    sent = fake_api.wait_for_messages(ANN, 3)
    assert "Your requests" in sent[-1]["text"]
    assert "in progress with me" in sent[-1]["text"]


def test_odd_input_always_gets_a_clear_answer(fake_api: FakeBotApi, bot: BotProcess) -> None:
    fake_api.push_sticker(ANN)
    fake_api.push_photo(ANN)
    fake_api.push_text(ANN, "😀🙏🔥")
    fake_api.push_command(ANN, "/frobnicate")
    fake_api.push_callback(ANN, "7|y", 999)  # a press on a message from long ago
    fake_api.push_callback(ANN, "forged<data>", 998)
    fake_api.push_voice(ANN)
    sent = fake_api.wait_for_messages(ANN, 9)
    said = texts(sent)
    only_text = "Sorry, I can only read text messages for now. Could you type what's going wrong?"
    where_we_are = "What's going wrong? A sentence or two is perfect."
    assert said[0] == only_text  # the sticker
    assert list(buttons(sent[0])) == ["🙋 Talk to a person"]  # a way out, as everywhere
    assert list(buttons(sent[2])) == ["🙋 Talk to a person"]  # emoji: "a little more"
    assert "Thanks for the photo" in said[1]
    assert "tell me a little more" in said[2]
    assert "don't know that command" in said[3]
    assert "That choice has expired" in said[4]
    assert said[5] == where_we_are
    assert "That choice has expired" in said[6]
    assert said[7] == where_we_are
    assert said[8] == only_text  # the voice message
    assert len(said) == 9, said
    assert bot.alive()


def test_5000_characters_get_an_answer(fake_api: FakeBotApi, bot: BotProcess) -> None:
    fake_api.push_text(ANN, "there is water under my kettle. " + "It drips and drips. " * 250)
    sent = fake_api.wait_for_messages(ANN, 2)
    assert "read the first part closely" in sent[0]["text"]
    offered = sent[1]["text"] + " ".join(buttons(sent[1]))
    assert "Water leaks from the kettle" in offered  # as the fix, or as "Did you mean"


def test_long_and_hostile_text_is_shown_literally(fake_api: FakeBotApi, bot: BotProcess) -> None:
    hostile = "<b>kettle</b> & </a> *leaks* _under_ `it` " + "שלום 🙂 " + "x" * 4000
    fake_api.push_command(ANN, "/human")
    fake_api.wait_for_messages(ANN, 1)
    fake_api.push_text(ANN, hostile)
    fake_api.wait_for_messages(ANN, 2)  # "added to your request"
    fake_api.wait_for_requests("copyMessage")  # the team's chat is served on its own
    [copied] = fake_api.copied_messages(AGENT_CHAT)  # copied as it is: nothing to escape
    relayed = fake_api.message(AGENT_CHAT, copied["message_id"])
    assert relayed is not None and relayed["text"] == hostile
    [card] = fake_api.sent_messages(AGENT_CHAT)
    assert len(card["text"]) <= 4096
    assert bot.alive()


def test_a_blocked_customer_is_not_retried(fake_api: FakeBotApi, bot: BotProcess) -> None:
    fake_api.block_chat(ANN)
    fake_api.push_text(ANN, "there is water under my kettle")
    fake_api.wait_for_requests("sendMessage", 1)
    time.sleep(1.5)
    attempts = [r for r in fake_api.requests_for("sendMessage") if r.get("chat_id") == ANN]
    assert len(attempts) == 1  # 403: given up at once, and the queued reply cancelled
    fake_api.unblock_chat(ANN)
    fake_api.push_command(ANN, "/status")
    sent = fake_api.wait_for_messages(ANN, 1)
    assert "Your requests" in sent[0]["text"]


def test_429_is_waited_out_and_nothing_is_lost(fake_api: FakeBotApi, bot: BotProcess) -> None:
    fake_api.fail_next("sendMessage", 429, retry_after=2)
    fake_api.push_command(ANN, "/help")
    [help_text] = fake_api.wait_for_messages(ANN, 1, timeout=15)
    assert fake_api.requests_inside_retry_window == []  # the bot waited out retry_after
    assert "/status" in help_text["text"]
    tries = fake_api.requests_for("sendMessage")
    assert len(tries) == 2


def test_a_wrong_token_stops_with_one_clear_line(fake_api: FakeBotApi, tmp_path: Path) -> None:
    import subprocess
    import sys

    process = BotProcess(fake_api, tmp_path)
    env = {**process.env, "TELEGRAM_BOT_TOKEN": "999:wrong-token-wrong-token-wrong-token"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "TELEGRAM_BOT_TOKEN was refused" in result.stderr
    assert "Traceback" not in result.stderr
    assert "wrong-token" not in result.stderr


def test_blocking_and_unblocking_the_bot(fake_api: FakeBotApi, bot: BotProcess) -> None:
    fake_api.push_my_chat_member(ANN, "kicked")
    fake_api.push_text(ANN, "there is water under my kettle")
    fake_api.wait_for_requests("sendMessage", 1)
    time.sleep(1.0)
    assert fake_api.sent_messages(ANN) == []
    assert len(fake_api.requests_for("sendMessage")) == 1  # tried once, then stopped
    fake_api.push_my_chat_member(ANN, "member")  # unblocked: normal service again
    fake_api.push_command(ANN, "/status")
    [status] = fake_api.wait_for_messages(ANN, 1)
    assert "in progress with me" in status["text"]


def test_on_postgresql_a_restart_resumes(
    fake_api: FakeBotApi, tmp_path: Path, knowledge_dir: Path
) -> None:
    url = postgres_url()
    if url is None:
        pytest.skip(PG_SKIP_REASON)
    engine = make_engine(url)
    drop_everything(engine)
    bot = BotProcess(fake_api, tmp_path, KNOWLEDGE_DIR=str(knowledge_dir), DATABASE_URL=url)
    try:
        bot.start()
        fake_api.push_text(ANN, "my kettle does not heat the water")
        sent = fake_api.wait_for_messages(ANN, 2)
        assert "Kettle does not heat up" in sent[0]["text"]
        assert bot.stop() == 0
        fake_api.push_text(ANN, "yes")
        bot.start()
        sent = fake_api.wait_for_messages(ANN, 3)
        assert "glad it works" in sent[2]["text"]
    finally:
        if bot.alive():
            bot.kill()
        drop_everything(engine)
        engine.dispose()


def test_a_second_bot_on_the_same_sqlite_file_is_refused(
    fake_api: FakeBotApi, bot: BotProcess, tmp_path: Path
) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=bot.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "is already serving" in result.stderr and "Traceback" not in result.stderr
    assert bot.alive()


def test_outside_support_hours_the_customer_reads_when_the_team_is_back(
    fake_api: FakeBotApi, tmp_path: Path, knowledge_dir: Path
) -> None:
    """SUPPORT_HOURS and TIMEZONE from the environment reach what the customer reads.

    The team is in only tomorrow (in Tokyo) from 09:00, so it is away now; should midnight
    pass meanwhile, it is still away until then, and the sentence is the same."""
    tokyo = ZoneInfo("Asia/Tokyo")
    tomorrow = WEEKDAYS[(datetime.now(tokyo).weekday() + 1) % 7]
    bot = BotProcess(
        fake_api,
        tmp_path,
        KNOWLEDGE_DIR=str(knowledge_dir),
        SUPPORT_HOURS=f"{tomorrow[:3]} 09:00-10:00",
        TIMEZONE="Asia/Tokyo",
    ).start()
    try:
        fake_api.push_command(ANN, "/human")
        [handed] = fake_api.wait_for_messages(ANN, 1)
        back = f"Our team is away right now and back on {tomorrow} at 09:00 (Asia/Tokyo time)."
        assert back in handed["text"]
        fake_api.push_command(ANN, "/status")
        assert back in fake_api.wait_for_messages(ANN, 2)[1]["text"]
    finally:
        bot.kill()


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
