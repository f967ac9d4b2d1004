"""The team's side of a hand-over: a topic per ticket, its card, and what the customer sends.

The real bot process against the fake Bot API; the agent chat is a supergroup with topics
unless a test turns them off.
"""

from __future__ import annotations

import re

from tests.e2e.botprocess import AGENT_CHAT, BotProcess
from tests.e2e.fake_bot_api import FakeBotApi, JSONDict

ANN = 4242


def hand_over(fake: FakeBotApi) -> str:
    """Ann describes her problem and asks for a person; returns her ticket's reference."""
    fake.push_text(ANN, "the kettle light is on but it won't boil")
    fake.wait_for_messages(ANN, 2)  # the fix, and "Did this fix it?"
    fake.push_command(ANN, "/human")
    sent = fake.wait_for_messages(ANN, 3)
    ref = re.search(r"T-\d{5}", sent[2]["text"])
    assert ref is not None, sent[2]["text"]
    return ref.group(0)


def message_id(fake: FakeBotApi, update_id: int) -> int:
    message: JSONDict = fake.pushed_update(update_id)["message"]
    return int(message["message_id"])


def test_a_ticket_gets_its_topic_its_card_and_the_customers_messages(
    fake_api: FakeBotApi, bot: BotProcess
) -> None:
    ref = hand_over(fake_api)
    [card] = fake_api.wait_for_messages(AGENT_CHAT, 1)
    [topic] = fake_api.topics(AGENT_CHAT)
    assert topic["name"] == f"{ref} · the kettle light is on but it won't boil · Ann"
    assert card["message_thread_id"] == topic["message_thread_id"]
    assert card["text"].startswith(f"🆕 <b>{ref}</b> needs a person")

    text = fake_api.push_text(ANN, "still cold, and <b>this</b> & that")
    photo = fake_api.push_photo(ANN, caption="the light stays red")
    fake_api.wait_for_messages(ANN, 5)
    copies = fake_api.copied_messages(AGENT_CHAT)
    assert [(c["from_chat_id"], c["source_message_id"]) for c in copies] == [
        (ANN, message_id(fake_api, text)),
        (ANN, message_id(fake_api, photo)),
    ]
    assert {c["message_thread_id"] for c in copies} == {topic["message_thread_id"]}
    relayed_photo = fake_api.message(AGENT_CHAT, copies[1]["message_id"])
    assert relayed_photo is not None and "photo" in relayed_photo  # a photo, not "[photo]"
    assert relayed_photo["caption"] == "the light stays red"
    relayed_text = fake_api.message(AGENT_CHAT, copies[0]["message_id"])
    assert relayed_text is not None and relayed_text["text"] == "still cold, and <b>this</b> & that"
    acks = [m["text"] for m in fake_api.sent_messages(ANN)[3:]]
    assert len(acks) == 2 and all(ref in ack for ack in acks)
    assert len(fake_api.sent_messages(AGENT_CHAT)) == 1  # the card; nothing relayed twice


def test_a_team_chat_without_topics_keeps_each_ticket_together_by_answering_its_card(
    fake_api: FakeBotApi, bot: BotProcess
) -> None:
    fake_api.add_chat(AGENT_CHAT, type="supergroup", is_forum=False)
    ref = hand_over(fake_api)
    [card] = fake_api.wait_for_messages(AGENT_CHAT, 1)
    assert fake_api.topics(AGENT_CHAT) == []
    assert "message_thread_id" not in card and ref in card["text"]

    photo = fake_api.push_photo(ANN)
    fake_api.wait_for_messages(ANN, 4)
    [relayed] = fake_api.copied_messages(AGENT_CHAT)
    assert relayed["source_message_id"] == message_id(fake_api, photo)
    assert relayed["reply_parameters"]["message_id"] == card["message_id"]
    assert "message_thread_id" not in relayed
