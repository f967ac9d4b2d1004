"""Fifty hand-overs at once fill the team's chat far beyond Telegram's 20 messages a
minute for a group; fifty other customers, writing meanwhile, are answered at once all
the same: each chat is served on its own (issue 12)."""

from __future__ import annotations

from tests.e2e.botprocess import AGENT_CHAT, BotProcess
from tests.e2e.fake_bot_api import FakeBotApi

HANDING_OVER = range(8000, 8050)
ORDINARY = range(9000, 9050)


def test_fifty_hand_overs_do_not_hold_up_fifty_other_customers(
    fake_api: FakeBotApi, bot: BotProcess
) -> None:
    for chat in HANDING_OVER:
        fake_api.push_command(chat, "human")  # a topic and a card each in the team's chat
    for chat in ORDINARY:
        fake_api.push_command(chat, "start")
    for chat in [*ORDINARY, *HANDING_OVER]:
        fake_api.wait_for_messages(chat, 1, timeout=120)
    team = len(fake_api.sent_messages(AGENT_CHAT)) + len(fake_api.topics(AGENT_CHAT))
    # everyone was answered while most of the team's hundred notices still waited for
    # their turn (20 at once, then one every 3 s): nobody waited behind them
    assert team < 60, f"{team} of the team's notices went before the last customer's reply"
    assert "Hi Ann!" in fake_api.sent_messages(ORDINARY[-1])[0]["text"]
    # the team's chat is paced, not forgotten: its notices keep going out
    cards = len(fake_api.sent_messages(AGENT_CHAT))
    fake_api.wait_for_messages(AGENT_CHAT, cards + 1, timeout=30)
