"""The real bot, its large knowledge edited while customers write: they are answered, with the
old knowledge, all through the rebuild; the new knowledge answers once it is complete.

The rebuild is held at its end by the bot's test gate (``SUPPORTBOT_TEST_RELOAD_GATE``) until
the test has had its replies, so "during the rebuild" needs no clock: a bot that rebuilt on
its event loop would answer nobody until the gate opened, and the gate opens only after the
replies came.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.loader import load_knowledge
from knowledge.semantic import semantic_available
from tests.bulk_knowledge import write_bulk_knowledge
from tests.e2e.botprocess import BotProcess
from tests.e2e.fake_bot_api import FakeBotApi

TELEPORTER = """\
product: Teleporters
entries:
  - id: teleporter-wrong-planet
    title: The teleporter beams me to the wrong planet
    symptoms: [my teleporter sends me to the wrong planet, I keep arriving on Mars]
    fix: Recalibrate the teleporter's star chart.
"""
QUESTION = "my teleporter sends me to the wrong planet"
NEW_FIX = "Recalibrate the teleporter"
BUILDING = "knowledge files changed: building the index"
RELOADED = "knowledge reloaded"
CUSTOMERS = range(501, 506)  # each writes once, while the rebuild runs


def wait_for_log(bot: BotProcess, text: str) -> None:
    found = bot.wait_for_log(text)
    assert found, f"no {text!r} in the log (alive: {bot.alive()}):\n{bot.log()[-3000:]}"


@pytest.mark.parametrize(
    ("matcher", "entries", "added"),
    [
        pytest.param("lexical", 1000, 0, id="lexical-1000x10"),
        # the semantic model encodes about 250 phrasings a second here: a smaller knowledge
        # starts in seconds, and the 50 entries added keep the rebuild encoding meanwhile
        pytest.param(
            "semantic",
            150,
            50,
            id="semantic-150x10",
            marks=[
                pytest.mark.semantic,
                pytest.mark.skipif(not semantic_available(), reason="[semantic] not installed"),
            ],
        ),
    ],
)
def test_customers_are_answered_while_edited_knowledge_is_rebuilt(
    fake_api: FakeBotApi, tmp_path: Path, matcher: str, entries: int, added: int
) -> None:
    knowledge = tmp_path / "knowledge"
    write_bulk_knowledge(knowledge, entries)
    known = load_knowledge(knowledge).entries[0]
    gate = tmp_path / "reload-gate"
    bot = BotProcess(
        fake_api,
        tmp_path,
        KNOWLEDGE_DIR=str(knowledge),
        MATCHER=matcher,
        SUPPORTBOT_TEST_RELOAD_GATE=str(gate),
    ).start()
    try:
        (knowledge / "teleporters.yaml").write_text(TELEPORTER, encoding="utf-8")
        if added:
            write_bulk_knowledge(knowledge, added, seed=1, prefix="added")
        wait_for_log(bot, BUILDING)  # the rebuild runs, and will not end before the gate opens

        for chat in CUSTOMERS:  # one after another: each reply came while the rebuild ran
            fake_api.push_text(chat, QUESTION if chat % 2 else known.symptoms[0])
            [reply, *_] = fake_api.wait_for_messages(chat, 1)
            assert NEW_FIX not in reply["text"]  # the old knowledge answers
            if not chat % 2:
                assert known.title in reply["text"]  # and knows what it knew
        assert RELOADED not in bot.log()

        gate.touch()
        wait_for_log(bot, RELOADED)
        fake_api.push_text(600, QUESTION)
        [reply, *_] = fake_api.wait_for_messages(600, 1)
        assert NEW_FIX in reply["text"]
        assert bot.stop() == 0
    finally:
        if bot.alive():
            bot.kill()
