"""The team's side of a hand-over: a topic per ticket, its card, and what the customer sends.

The real bot process against the fake Bot API; the agent chat is a supergroup with topics
unless a test turns them off.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

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
    fake_api.wait_for_requests("copyMessage", 2)  # the team's chat is served on its own
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
    fake_api.wait_for_requests("copyMessage")  # the team's chat is served on its own
    [relayed] = fake_api.copied_messages(AGENT_CHAT)
    assert relayed["source_message_id"] == message_id(fake_api, photo)
    assert relayed["reply_parameters"]["message_id"] == card["message_id"]
    assert "message_thread_id" not in relayed

    # an agent answering the customer's photo (or the card) reaches that customer
    add_agent(bot, BEA, "Bea")
    fake_api.push_text(
        AGENT_CHAT, "Thanks, that helps", user_id=BEA, first_name="Bea"
    )  # not an answer to anything: stays in the team's chat
    fake_api.push_text(
        AGENT_CHAT,
        "Is the light red or orange?",
        user_id=BEA,
        first_name="Bea",
        reply_to_message_id=relayed["message_id"],
    )
    said = fake_api.wait_for_messages(ANN, 5)
    assert said[4]["text"] == "<b>Bea</b> from our team: Is the light red or orange?"
    assert len(fake_api.sent_messages(ANN)) == 5


BEA, STRANGER = 777, 888


def add_agent(bot: BotProcess, user_id: int, name: str) -> None:
    done = bot.cli("agents", "add", str(user_id), "--name", name, timeout=60)
    assert done.returncode == 0, done.stderr


def in_topic(fake: FakeBotApi, thread: int, text: str, user: int, name: str) -> int:
    return fake.push_text(AGENT_CHAT, text, user_id=user, first_name=name, message_thread_id=thread)


def test_an_agent_answers_takes_and_resolves_in_the_topic_and_a_stranger_cannot(
    fake_api: FakeBotApi, bot: BotProcess
) -> None:
    add_agent(bot, BEA, "Bea")
    ref = hand_over(fake_api)
    fake_api.wait_for_messages(AGENT_CHAT, 1)  # the card
    [topic] = fake_api.topics(AGENT_CHAT)
    thread = topic["message_thread_id"]

    in_topic(fake_api, thread, "/resolve", STRANGER, "Eve")
    in_topic(fake_api, thread, "Hi Ann! Hold the button <10 s>", BEA, "Bea")
    said = fake_api.wait_for_messages(ANN, 4)
    assert said[3]["text"] == "<b>Bea</b> from our team: Hi Ann! Hold the button &lt;10 s&gt;"
    refused = fake_api.wait_for_messages(AGENT_CHAT, 2)[1]
    assert refused["message_thread_id"] == thread and "only agents" in refused["text"]

    in_topic(fake_api, thread, "/take", BEA, "Bea")
    in_topic(fake_api, thread, "/note she sounds in a hurry", BEA, "Bea")
    in_topic(fake_api, thread, "/resolve", BEA, "Bea")
    said = fake_api.wait_for_messages(ANN, 6)
    assert said[4]["text"] == f"Bea from our team is looking at your request <b>{ref}</b> now."
    assert "marked your request" in said[5]["text"] and ref in said[5]["text"]
    fake_api.wait_for_requests("closeForumTopic")
    [topic] = fake_api.topics(AGENT_CHAT)
    assert topic["closed"]
    texts = [m["text"] for m in fake_api.sent_messages(ANN)]
    assert not any("in a hurry" in t for t in texts)  # the note stayed with the team

    with sqlite3.connect(bot.workdir / "bot.db") as db:
        audit = db.execute("SELECT actor_id, action, allowed FROM audit ORDER BY id").fetchall()
    assert audit[1:] == [
        (STRANGER, "resolve", 0),
        (BEA, "reply", 1),
        (BEA, "take", 1),
        (BEA, "note", 1),
        (BEA, "resolve", 1),
    ]  # the first row is the command line adding Bea


def test_customers_and_agents_each_see_their_own_command_menu(
    fake_api: FakeBotApi, bot: BotProcess
) -> None:
    fake_api.wait_for_requests("setMyCommands", 5)  # default, team, en, es, ru
    private = [c["command"] for c in fake_api.my_commands({"type": "all_private_chats"})]
    team = [c["command"] for c in fake_api.my_commands({"type": "chat", "chat_id": AGENT_CHAT})]
    assert private == ["start", "status", "cancel", "language", "help"]
    assert team == ["take", "note", "resolve", "close", "approve", "deny", "fix", "queue"]
    # a customer whose app is in Russian or Spanish reads the menu in it
    russian = fake_api.my_commands({"type": "all_private_chats"}, "ru")
    spanish = fake_api.my_commands({"type": "all_private_chats"}, "es")
    assert russian[0] == {"command": "start", "description": "Начать сначала"}
    assert spanish[3] == {"command": "language", "description": "Cambiar el idioma"}


def test_two_agents_three_customers_everything_lands_once_in_order_in_the_right_place(
    fake_api: FakeBotApi, bot: BotProcess
) -> None:
    customers = {5001: "Ann", 5002: "Ben", 5003: "Cat"}
    agents = {777: "Bea", 778: "Dan"}
    for user, name in agents.items():
        add_agent(bot, user, name)
    for chat, name in customers.items():
        fake_api.push_text(chat, "the kettle light is on but it won't boil", first_name=name)
    for chat, name in customers.items():
        fake_api.push_command(chat, "/human", first_name=name)
    handed = {chat: fake_api.wait_for_messages(chat, 3)[2]["text"] for chat in customers}
    for position, chat in enumerate(customers, start=1):
        assert f"You're number {position} in line." in handed[chat]

    fake_api.wait_for_requests("createForumTopic", 3)
    fake_api.wait_for_messages(AGENT_CHAT, 3)  # the cards
    topics = {t["name"].rsplit(" · ", 1)[1]: t["message_thread_id"] for t in fake_api.topics()}
    assert sorted(topics) == sorted(customers.values())

    for n in range(3):  # the customers write at once, interleaved
        for chat, name in customers.items():
            fake_api.push_text(chat, f"{name} message {n}", first_name=name)
    for chat, name in customers.items():
        fake_api.push_photo(chat, caption=f"{name}'s kettle", first_name=name)
    for name, (agent, agent_name) in zip(
        customers.values(), [*agents.items(), (777, "Bea")], strict=True
    ):
        for n in range(2):
            in_topic(fake_api, topics[name], f"reply {n} to {name}", agent, agent_name)
    fake_api.push_text(
        AGENT_CHAT, "/resolve", user_id=999, first_name="Eve", message_thread_id=topics["Ann"]
    )  # not an agent

    for chat, name in customers.items():
        said = [m["text"] for m in fake_api.wait_for_messages(chat, 9)]
        replies = [t for t in said if "from our team:" in t]
        agent_name = "Dan" if name == "Ben" else "Bea"
        assert replies == [
            f"<b>{agent_name}</b> from our team: reply {n} to {name}" for n in range(2)
        ]
        assert len(said) == 9  # 3 at hand-over, 4 acknowledgements, 2 replies: nothing twice
    fake_api.wait_for_requests("copyMessage", 4 * len(customers))  # the team's chat, its pace
    copies = fake_api.copied_messages(AGENT_CHAT)
    for chat, name in customers.items():
        mine = [c for c in copies if c["from_chat_id"] == chat]
        assert {c["message_thread_id"] for c in mine} == {topics[name]}
        texts = [fake_api.message(AGENT_CHAT, c["message_id"]) for c in mine]
        assert [m.get("text") or m.get("caption") for m in texts if m] == [
            f"{name} message 0",
            f"{name} message 1",
            f"{name} message 2",
            f"{name}'s kettle",
        ]
        assert "photo" in (texts[3] or {})
    refusal = fake_api.wait_for_messages(AGENT_CHAT, 4)[3]
    assert "only agents" in refusal["text"] and refusal["message_thread_id"] == topics["Ann"]


def test_an_agent_sends_a_knowledge_fix_and_the_customer_confirms_it(
    fake_api: FakeBotApi, bot: BotProcess
) -> None:
    add_agent(bot, BEA, "Bea")
    hand_over(fake_api)
    fake_api.wait_for_messages(AGENT_CHAT, 1)
    [topic] = fake_api.topics(AGENT_CHAT)
    in_topic(fake_api, topic["message_thread_id"], "/fix kettle-leaks", BEA, "Bea")
    said = fake_api.wait_for_messages(ANN, 5)
    assert "Water leaks from the kettle" in said[3]["text"]
    assert said[4]["text"] == "Did this fix it?"
    press_yes = {
        b["text"]: b["callback_data"]
        for row in said[4]["reply_markup"]["inline_keyboard"]
        for b in row
    }["✅ Yes, it's fixed"]
    fake_api.push_callback(ANN, press_yes, said[4]["message_id"])
    said = fake_api.wait_for_messages(ANN, 6)
    assert "glad" in said[5]["text"].lower()


def buttons(message: JSONDict) -> dict[str, str]:
    rows = message["reply_markup"]["inline_keyboard"]
    return {b["text"]: b["callback_data"] for row in rows for b in row}


def test_a_customer_back_after_a_resolution_reopens_the_ticket_in_its_topic(
    fake_api: FakeBotApi, bot: BotProcess
) -> None:
    add_agent(bot, BEA, "Bea")
    ref = hand_over(fake_api)
    fake_api.wait_for_messages(AGENT_CHAT, 1)
    [topic] = fake_api.topics(AGENT_CHAT)
    thread = topic["message_thread_id"]
    in_topic(fake_api, thread, "/resolve", BEA, "Bea")
    fake_api.wait_for_requests("closeForumTopic")

    back = fake_api.push_text(ANN, "it stopped boiling again this morning")
    said = fake_api.wait_for_messages(ANN, 5)
    assert f"earlier request <b>{ref}</b>, or something new" in said[4]["text"]
    fake_api.push_callback(ANN, buttons(said[4])[f"↩️ About {ref}"], said[4]["message_id"])
    said = fake_api.wait_for_messages(ANN, 6)
    assert f"reopened <b>{ref}</b>" in said[5]["text"]
    fake_api.wait_for_requests("reopenForumTopic")
    [topic] = fake_api.topics(AGENT_CHAT)
    assert not topic["closed"] and topic["message_thread_id"] == thread  # the same topic
    fake_api.wait_for_requests("copyMessage")
    copies = fake_api.copied_messages(AGENT_CHAT)
    assert [(c["source_message_id"], c["message_thread_id"]) for c in copies] == [
        (message_id(fake_api, back), thread)
    ]
    notices = [m["text"] for m in fake_api.sent_messages(AGENT_CHAT)]
    assert any(f"<b>{ref}</b> reopened" in t for t in notices)

    in_topic(fake_api, thread, "Sorry to hear! Let's look again.", BEA, "Bea")
    said = fake_api.wait_for_messages(ANN, 7)
    assert said[6]["text"] == "<b>Bea</b> from our team: Sorry to hear! Let's look again."
    with sqlite3.connect(bot.workdir / "bot.db") as db:
        kinds = [k for (k,) in db.execute("SELECT kind FROM ticket_event ORDER BY id")]
        [status] = db.execute("SELECT status FROM ticket").fetchone()
    assert kinds[-3:] == ["resolved", "reopened", "agent_replied"]
    assert status == "with_agent"


ADMIN, SILENT_ADMIN = 111, 222  # the second never started the bot: it may not write to them


def test_removed_from_the_team_chat_the_admins_are_told_once_and_the_card_waits(
    fake_api: FakeBotApi, tmp_path: Path, knowledge_dir: Path
) -> None:
    bot = BotProcess(
        fake_api, tmp_path, KNOWLEDGE_DIR=str(knowledge_dir), ADMIN_IDS=f"{ADMIN},{SILENT_ADMIN}"
    ).start()
    try:
        fake_api.wait_for_requests("setMyCommands", 2)  # started, the team's chat checked
        fake_api.block_chat(AGENT_CHAT)  # then the bot is removed from it
        fake_api.block_chat(SILENT_ADMIN)
        ref = hand_over(fake_api)  # the customer is answered as usual

        [notice] = fake_api.wait_for_messages(ADMIN, 1, timeout=60)
        assert "I can no longer post in the support team's chat" in notice["text"]
        assert f"<code>{AGENT_CHAT}</code>" in notice["text"]
        assert "Notices waiting for the team: 1." in notice["text"]  # the card
        fake_api.wait_for_requests("createForumTopic", 2, timeout=60)  # refused, and again
        bot.stop()
        bot.start()  # a restart while the bot is still out of the chat ...
        tried = len(fake_api.requests_for("createForumTopic"))
        fake_api.wait_for_requests("createForumTopic", tried + 1, timeout=60)
        assert len(fake_api.sent_messages(ADMIN)) == 1  # ... is not a new loss
        assert fake_api.sent_messages(AGENT_CHAT) == [] and fake_api.topics(AGENT_CHAT) == []

        fake_api.unblock_chat(AGENT_CHAT)  # added back
        [card] = fake_api.wait_for_messages(AGENT_CHAT, 1, timeout=60)
        assert card["text"].startswith(f"🆕 <b>{ref}</b> needs a person")
        [topic] = fake_api.topics(AGENT_CHAT)
        assert card["message_thread_id"] == topic["message_thread_id"]
        assert len(fake_api.sent_messages(ADMIN)) == 1
        sends = fake_api.requests_for("sendMessage")
        assert len([r for r in sends if r["chat_id"] == SILENT_ADMIN]) == 1  # not tried again
    finally:
        if bot.alive():
            bot.kill()
    assert fake_api.token not in bot.log()


def test_a_russian_customer_is_answered_in_russian_and_the_team_reads_english(
    fake_api: FakeBotApi, bot: BotProcess
) -> None:
    add_agent(bot, BEA, "Bea")
    fake_api.set_language(ANN, "ru")
    fake_api.push_command(ANN, "/start")
    [welcome] = fake_api.wait_for_messages(ANN, 1)
    assert welcome["text"].startswith("Здравствуйте, Ann!")
    fake_api.push_text(ANN, "хочу поговорить с человеком")
    sent = fake_api.wait_for_messages(ANN, 2)
    ref = re.search(r"T-\d{5}", sent[1]["text"])
    assert ref is not None and "passed" not in sent[1]["text"], sent[1]["text"]
    assert re.search("[а-я]", sent[1]["text"]), sent[1]["text"]
    [card] = fake_api.wait_for_messages(AGENT_CHAT, 1)
    assert "needs a person" in card["text"] and "language: ru" in card["text"]
    [topic] = fake_api.topics(AGENT_CHAT)

    in_topic(fake_api, topic["message_thread_id"], "Здравствуйте! Сейчас посмотрю.", BEA, "Bea")
    reply = fake_api.wait_for_messages(ANN, 3)[2]
    assert (
        "Здравствуйте! Сейчас посмотрю." in reply["text"] and "from our team" not in reply["text"]
    )

    fake_api.push_command(ANN, "/language")
    question = fake_api.wait_for_messages(ANN, 4)[3]
    assert list(buttons(question)) == ["English", "Español", "Русский"]
    fake_api.push_callback(ANN, buttons(question)["English"], question["message_id"])
    chosen = fake_api.wait_for_messages(ANN, 5)[4]
    assert chosen["text"].startswith("Okay, I'll write in English")
    fake_api.push_command(ANN, "/status")  # Telegram still says "ru"; the choice holds
    status = fake_api.wait_for_messages(ANN, 6)[5]
    assert status["text"].startswith("Your requests:")
