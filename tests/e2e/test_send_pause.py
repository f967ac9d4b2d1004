"""A 429 pause outlives the process: a bot killed inside Telegram's ``retry_after`` window
and started again waits the rest of it out instead of sending at once."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.botprocess import BotProcess
from tests.e2e.fake_bot_api import FakeBotApi

ANN = 4242
BOB = 4343
PAUSE = 20  # seconds; long enough that the restart falls inside it


def test_a_restart_inside_a_429_pause_waits_it_out(
    fake_api: FakeBotApi, tmp_path: Path, knowledge_dir: Path
) -> None:
    bot = BotProcess(fake_api, tmp_path, KNOWLEDGE_DIR=str(knowledge_dir)).start()
    try:
        fake_api.fail_next("sendMessage", 429, retry_after=PAUSE)
        fake_api.push_text(ANN, "my kettle does not heat the water")
        assert bot.wait_for_log("Telegram asked to slow down"), bot.log()
        bot.kill()  # inside the pause
        fake_api.push_text(BOB, "the kettle is leaking from the bottom", first_name="Bob")
        bot.start()
        assert bot.wait_for_log("a 429 pause from before the restart"), bot.log()
        fake_api.wait_for_messages(ANN, 1, timeout=120)
        fake_api.wait_for_messages(BOB, 1, timeout=120)
        assert fake_api.requests_inside_retry_window == []
        after_restart = bot.log().split("a 429 pause from before the restart")[1]
        assert "Telegram asked to slow down" not in after_restart
    finally:
        if bot.alive():
            bot.kill()
        assert fake_api.token not in bot.log()
