"""Tests of the fake Bot API server, driven through python-telegram-bot's real HTTP stack."""

# PTB objects have many Optional attributes; the assertions below would fail loudly anyway.
# mypy: disable-error-code="union-attr,index"

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CommandHandler, ContextTypes

from tests.e2e.fake_bot_api import FakeBotApi, parse_html

T = TypeVar("T")
USER = 42
SUPPORT_GROUP = -1001234567890


def run_with_bot(
    fake: FakeBotApi, fn: Callable[[Bot], Awaitable[T]], token: str | None = None
) -> T:
    async def main() -> T:
        bot = Bot(token or fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)
        async with bot:
            return await fn(bot)

    return asyncio.run(main())


def raw_post(fake: FakeBotApi, method: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{fake.base_url}{fake.token}/{method}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that retry_after will become a timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def test_context_manager_and_urls() -> None:
    with FakeBotApi() as fake:
        assert fake.port > 0
        assert fake.base_url == f"http://127.0.0.1:{fake.port}/bot"
        status, body = raw_post(fake, "getMe", {})
        assert status == 200
        assert body["ok"] is True
        assert body["result"]["id"] == 7000001
    with pytest.raises(RuntimeError):
        _ = fake.port


def test_get_me(fake_api: FakeBotApi) -> None:
    me = run_with_bot(fake_api, lambda bot: bot.get_me())
    assert me.id == 7000001
    assert me.username == "supportbot_test_bot"
    assert me.is_bot is True
    assert me.first_name
    assert ("getMe", {}) in fake_api.requests


def test_send_message_with_inline_keyboard_is_recorded(fake_api: FakeBotApi) -> None:
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Yes", callback_data="fix:yes")],
            [InlineKeyboardButton("No", callback_data="42")],
        ]
    )

    async def scenario(bot: Bot) -> Any:
        first = await bot.send_message(USER, "Did that help?", reply_markup=markup)
        second = await bot.send_message(USER, "42")
        other = await bot.send_message(SUPPORT_GROUP, "ticket", message_thread_id=7)
        return first, second, other

    first, second, other = run_with_bot(fake_api, scenario)
    assert first.message_id == 1
    assert second.message_id == 2
    assert first.chat.id == USER
    assert first.chat.type == "private"
    assert first.from_user.id == 7000001
    assert isinstance(first.date, dtm.datetime)
    assert first.text == "Did that help?"
    assert first.reply_markup == markup
    assert other.message_id == 1  # message ids are per chat
    assert other.message_thread_id == 7
    assert other.chat.type == "supergroup"

    sent = fake_api.sent_messages(USER)
    assert [m["text"] for m in sent] == ["Did that help?", "42"]
    assert sent[1]["text"] == "42"  # text stays a string even though it looks like JSON
    assert sent[0]["chat_id"] == USER
    assert sent[0]["message_id"] == 1
    assert sent[0]["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Yes", "callback_data": "fix:yes"}],
            [{"text": "No", "callback_data": "42"}],
        ]
    }
    assert len(fake_api.sent_messages()) == 3
    assert fake_api.wait_for_messages(USER, 2, timeout=0.1) == sent
    with pytest.raises(AssertionError, match="expected >= 3 messages"):
        fake_api.wait_for_messages(USER, 3, timeout=0.2)


def test_get_updates_offset_semantics_and_redelivery(fake_api: FakeBotApi) -> None:
    assert fake_api.push_text(USER, "hello") == 1
    assert fake_api.push_command(USER, "/start payload") == 2
    assert fake_api.push_text(-100, "in a group", user_id=7) == 3

    async def scenario(bot: Bot) -> None:
        updates = await bot.get_updates()
        assert [u.update_id for u in updates] == [1, 2, 3]
        assert updates[0].message.text == "hello"
        assert updates[0].message.chat.id == USER
        assert updates[0].message.from_user.id == USER
        assert updates[0].message.from_user.first_name == "Ann"
        assert updates[1].message.text == "/start payload"
        assert updates[1].message.entities[0].type == "bot_command"
        assert updates[1].message.entities[0].length == len("/start")
        assert updates[2].message.chat.type == "group"
        assert updates[2].message.from_user.id == 7

        # Not confirmed yet: delivered again.
        assert [u.update_id for u in await bot.get_updates()] == [1, 2, 3]
        # offset=3 confirms 1 and 2 forever.
        assert [u.update_id for u in await bot.get_updates(offset=3)] == [3]
        assert fake_api.confirmed_offset == 3
        assert [u.update_id for u in await bot.get_updates()] == [3]
        assert await bot.get_updates(offset=4) == ()
        assert await bot.get_updates() == ()
        assert await bot.get_updates(offset=1) == ()  # confirmed updates never come back

        # Redelivery: pushing an already confirmed update id delivers it once more.
        assert fake_api.push_update(fake_api.pushed_update(2)) == 2
        redelivered = await bot.get_updates(offset=4)
        assert [u.update_id for u in redelivered] == [2]
        assert redelivered[0].message.text == "/start payload"
        assert await bot.get_updates(offset=4) == ()

        # Auto ids continue after the highest id seen; limit is honoured.
        assert fake_api.push_text(USER, "a") == 4
        assert (
            fake_api.push_update({"update_id": 10, "message": fake_api.pushed_update(4)["message"]})
            == 10
        )
        assert fake_api.push_text(USER, "b") == 11
        assert [u.update_id for u in await bot.get_updates(offset=4, limit=2)] == [4, 10]
        assert [u.update_id for u in await bot.get_updates(offset=11)] == [11]
        assert fake_api.confirmed_offset == 11

    run_with_bot(fake_api, scenario)
    params = fake_api.requests_for("getUpdates")
    assert {"offset": 3} in params


def test_long_poll_waits_and_wakes_on_push(fake_api: FakeBotApi) -> None:
    def push_while_polled() -> None:
        fake_api.wait_for_requests("getUpdates", 2)
        time.sleep(0.2)  # let the poll reach its wait
        fake_api.push_text(USER, "wake up")

    async def scenario(bot: Bot) -> None:
        # Nothing to deliver: the poll ends at its timeout with an empty answer.
        assert await bot.get_updates(timeout=1) == ()

        # A push while a 30 s poll waits is delivered by that same poll: a server that answered
        # at once would give (), one that did not wake the poll would miss the 5 s deadline.
        pusher = threading.Thread(target=push_while_polled)
        pusher.start()
        try:
            updates = await asyncio.wait_for(bot.get_updates(timeout=30), timeout=5)
        finally:
            pusher.join()
        assert [u.message.text for u in updates] == ["wake up"]

    run_with_bot(fake_api, scenario)


def test_a_call_inside_a_429_window_is_refused_and_recorded(fake_api: FakeBotApi) -> None:
    fake_api.fail_next("sendMessage", 429, retry_after=1)

    async def scenario(bot: Bot) -> None:
        with pytest.raises(RetryAfter):
            await bot.send_message(USER, "first")
        with pytest.raises(RetryAfter):
            await bot.send_message(USER, "too early")
        await asyncio.sleep(1.2)
        await bot.send_message(USER, "after the window")

    run_with_bot(fake_api, scenario)
    assert [m["text"] for m in fake_api.sent_messages(USER)] == ["after the window"]
    early = fake_api.requests_inside_retry_window
    assert [(method, params["text"]) for method, params in early] == [("sendmessage", "too early")]


def test_injected_429_raises_retry_after_then_recovers(fake_api: FakeBotApi) -> None:
    fake_api.enforce_retry_after = False  # the window has its own test above
    fake_api.fail_next("sendMessage", 429, "Too Many Requests: retry after 5", retry_after=5)

    async def scenario(bot: Bot) -> None:
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(USER, "hi")
        assert retry_after_seconds(info.value) == 5
        await bot.send_message(USER, "hi again")

    run_with_bot(fake_api, scenario)
    assert [m["text"] for m in fake_api.sent_messages(USER)] == ["hi again"]
    assert [p["text"] for p in fake_api.requests_for("sendMessage")] == ["hi", "hi again"]

    fake_api.fail_next("sendMessage", 429, retry_after=3)
    status, body = raw_post(fake_api, "sendMessage", {"chat_id": USER, "text": "x"})
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }


def test_fail_next_times_and_chat_filter(fake_api: FakeBotApi) -> None:
    fake_api.fail_next("*", 500, "Internal Server Error", times=2, chat_id=USER)

    async def scenario(bot: Bot) -> None:
        await bot.send_message(USER + 1, "other chat is fine")
        for _ in range(2):
            with pytest.raises(Exception, match="Internal Server Error"):
                await bot.send_chat_action(USER, "typing")
        await bot.send_chat_action(USER, "typing")

    run_with_bot(fake_api, scenario)


def test_blocked_chat_raises_forbidden(fake_api: FakeBotApi) -> None:
    fake_api.block_chat(USER)

    async def scenario(bot: Bot) -> None:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(USER, "hello?")
        await bot.send_message(USER + 1, "someone else")
        fake_api.unblock_chat(USER)
        await bot.send_message(USER, "hello again")

    run_with_bot(fake_api, scenario)
    assert [m["text"] for m in fake_api.sent_messages(USER)] == ["hello again"]


def test_my_chat_member_kicked_blocks_chat(fake_api: FakeBotApi) -> None:
    fake_api.push_my_chat_member(USER, "kicked")

    async def scenario(bot: Bot) -> None:
        (update,) = await bot.get_updates()
        change = update.my_chat_member
        assert change.chat.id == USER
        assert change.new_chat_member.status == "kicked"
        assert change.new_chat_member.user.id == 7000001
        assert change.old_chat_member.status == "member"
        with pytest.raises(Forbidden):
            await bot.send_message(USER, "still there?")

    run_with_bot(fake_api, scenario)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("<b>unclosed", "parse entities"),
        ("<b>bad <i>nesting</b></i>", "parse entities"),
        ("<foo>unknown</foo>", "Unsupported start tag"),
        ("fish & chips", "parse entities"),
        ("&nbsp;", "parse entities"),
        ("</b>", "parse entities"),
        ("<span>x</span>", "parse entities"),
    ],
)
def test_bad_html_raises_bad_request(fake_api: FakeBotApi, text: str, fragment: str) -> None:
    async def scenario(bot: Bot) -> None:
        with pytest.raises(BadRequest, match=r"(?i)" + fragment):
            await bot.send_message(USER, text, parse_mode=ParseMode.HTML)

    run_with_bot(fake_api, scenario)
    assert fake_api.sent_messages() == []


def test_html_visible_text_and_length_limits(fake_api: FakeBotApi) -> None:
    async def scenario(bot: Bot) -> None:
        ok = await bot.send_message(
            USER,
            '<b>bold</b> &amp; <a href="https://x.y/?a=1&amp;b=2">link</a> &lt;3 &#33;'
            '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>',
            parse_mode=ParseMode.HTML,
        )
        assert ok.text == "bold & link <3 !st"
        # 4096 visible characters are fine even with markup around them.
        await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
        await bot.send_message(USER, "x < y > z")  # no parse mode: no validation
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(USER, "a" * 4097)
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(USER, "")
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(USER, "<b> </b>", parse_mode="HTML")

    run_with_bot(fake_api, scenario)
    assert len(fake_api.sent_messages(USER)) == 3


def test_parse_html_unit() -> None:
    assert parse_html("<i>a</i><pre><code>b</code></pre>&#x41;") == "abA"
    assert parse_html("<blockquote expandable>q</blockquote>") == "q"


def test_callback_data_too_long(fake_api: FakeBotApi) -> None:
    async def scenario(bot: Bot) -> None:
        fine = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="x" * 64)]])
        await bot.send_message(USER, "fine", reply_markup=fine)
        bad = InlineKeyboardMarkup([[InlineKeyboardButton("bad", callback_data="é" * 33)]])
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(USER, "bad", reply_markup=bad)

    run_with_bot(fake_api, scenario)


def test_callback_query_answer_and_edits(fake_api: FakeBotApi) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Solved", callback_data="solved")]])

    async def scenario(bot: Bot) -> None:
        sent = await bot.send_message(USER, "Try turning it off and on", reply_markup=markup)
        update_id = fake_api.push_callback(USER, "solved", sent.message_id)
        (update,) = await bot.get_updates()
        assert update.update_id == update_id
        query = update.callback_query
        assert query.data == "solved"
        assert query.from_user.id == USER
        assert query.message.message_id == sent.message_id
        assert query.message.chat.id == USER
        assert query.message.text == "Try turning it off and on"
        assert query.message.reply_markup == markup
        assert await query.answer("Thanks!") is True

        edited = await bot.edit_message_text("Glad it worked", USER, sent.message_id)
        assert edited.text == "Glad it worked"
        assert edited.reply_markup is None
        assert edited.edit_date is not None
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("Glad it worked", USER, sent.message_id)
        again = await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=markup)
        assert again.reply_markup == markup
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("nope", USER, 999)

        # A button on a message the fake never saw: a bot message is synthesised.
        fake_api.push_callback(USER, "old", 500)
        (update,) = await bot.get_updates(offset=update_id + 1)
        assert update.callback_query.message.message_id == 500
        assert await bot.edit_message_text("updated", USER, 500)

    run_with_bot(fake_api, scenario)
    answers = fake_api.callback_answers()
    assert answers == [{"callback_query_id": "cq1", "text": "Thanks!"}]
    assert [e["method"] for e in fake_api.edits(USER)] == [
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageText",
    ]
    assert fake_api.edits()[1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "solved"


def test_pushed_media_updates_and_file_download(fake_api: FakeBotApi) -> None:
    fake_api.push_sticker(USER)
    fake_api.push_photo(USER, caption="my screen", content=b"\x00\r\n\xffimage")
    fake_api.push_voice(USER)
    fake_api.push_document(USER, "log.txt", content=b"error 42\n")

    async def scenario(bot: Bot) -> None:
        sticker, photo, voice, document = await bot.get_updates()
        assert sticker.message.sticker.type == "regular"
        assert photo.message.caption == "my screen"
        assert photo.message.photo[-1].width == 1280
        assert voice.message.voice.mime_type == "audio/ogg"
        assert document.message.document.file_name == "log.txt"
        file = await bot.get_file(photo.message.photo[-1].file_id)
        assert bytes(await file.download_as_bytearray()) == b"\x00\r\n\xffimage"
        doc = await document.message.document.get_file()
        assert bytes(await doc.download_as_bytearray()) == b"error 42\n"

    run_with_bot(fake_api, scenario)


def test_uploads_are_parsed_from_multipart(fake_api: FakeBotApi) -> None:
    payload = b"\x89PNG\r\n\x1a\n--not-a-boundary\r\n\x00"

    async def scenario(bot: Bot) -> None:
        photo = await bot.send_photo(USER, payload, caption="<b>screenshot</b>", parse_mode="HTML")
        assert photo.caption == "screenshot"
        assert photo.photo
        doc = await bot.send_document(
            USER,
            b"log line\n",
            filename="log.txt",
            caption="42",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="b")]]),
        )
        assert doc.document.file_name == "log.txt"
        assert doc.message_id == 2

    run_with_bot(fake_api, scenario)
    photo, doc = fake_api.sent_media(USER)
    assert photo["method"] == "sendPhoto"
    assert photo["photo"]["content"] == payload
    assert photo["caption"] == "<b>screenshot</b>"
    assert photo["chat_id"] == USER
    assert doc["document"]["filename"] == "log.txt"
    assert doc["caption"] == "42"
    assert doc["reply_markup"] == {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}


def test_forum_topics_copy_and_chat_info(fake_api: FakeBotApi) -> None:
    fake_api.push_text(USER, "please help")
    fake_api.set_member_status(SUPPORT_GROUP, 555, "administrator")

    async def scenario(bot: Bot) -> None:
        topic = await bot.create_forum_topic(SUPPORT_GROUP, "Ticket #1 — Ann")
        assert topic.name == "Ticket #1 — Ann"
        assert topic.message_thread_id >= 1
        assert topic.icon_color == 7322096
        copied = await bot.copy_message(
            SUPPORT_GROUP, USER, 1, message_thread_id=topic.message_thread_id
        )
        assert copied.message_id > topic.message_thread_id
        sent = await bot.send_message(
            SUPPORT_GROUP, "new ticket", message_thread_id=topic.message_thread_id
        )
        assert sent.is_topic_message is True
        assert await bot.edit_forum_topic(SUPPORT_GROUP, topic.message_thread_id, name="Closed")
        assert await bot.close_forum_topic(SUPPORT_GROUP, topic.message_thread_id)
        with pytest.raises(BadRequest, match=r"(?i)TOPIC_NOT_MODIFIED"):
            await bot.close_forum_topic(SUPPORT_GROUP, topic.message_thread_id)
        assert await bot.reopen_forum_topic(SUPPORT_GROUP, topic.message_thread_id)
        with pytest.raises(BadRequest, match=r"(?i)the chat is not a forum"):
            await bot.create_forum_topic(-5, "nope")

        chat = await bot.get_chat(SUPPORT_GROUP)
        assert chat.type == "supergroup"
        assert chat.is_forum is True
        private = await bot.get_chat(USER)
        assert private.type == "private"
        me = await bot.get_chat_member(SUPPORT_GROUP, 7000001)
        assert me.status == "administrator"
        agent = await bot.get_chat_member(SUPPORT_GROUP, 555)
        assert agent.status == "administrator"
        stranger = await bot.get_chat_member(SUPPORT_GROUP, 556)
        assert stranger.status == "left"

    run_with_bot(fake_api, scenario)
    (topic,) = fake_api.topics(SUPPORT_GROUP)
    assert topic["name"] == "Closed"
    assert topic["closed"] is False
    (copied,) = fake_api.copied_messages(SUPPORT_GROUP)
    assert copied["from_chat_id"] == USER
    assert fake_api.message(SUPPORT_GROUP, copied["message_id"])["text"] == "please help"


def test_commands_webhook_and_misc_methods(fake_api: FakeBotApi) -> None:
    async def scenario(bot: Bot) -> None:
        commands = [BotCommand("start", "Start"), BotCommand("help", "Get help")]
        assert await bot.set_my_commands(commands)
        assert await bot.get_my_commands() == tuple(commands)
        with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand("Bad-Command", "x")])
        assert await bot.delete_my_commands()
        assert await bot.get_my_commands() == ()

        fake_api.push_text(USER, "pending")
        info = await bot.get_webhook_info()
        assert info.url == ""
        assert info.pending_update_count == 1
        assert await bot.set_webhook("https://example.com/hook")
        assert (await bot.get_webhook_info()).url == "https://example.com/hook"
        assert await bot.delete_webhook(drop_pending_updates=True)
        assert await bot.get_updates() == ()
        assert await bot.send_chat_action(USER, "typing")
        assert await bot.log_out()
        assert await bot.close()

    run_with_bot(fake_api, scenario)
    assert fake_api.my_commands() == []


def test_unknown_token_and_unknown_method(fake_api: FakeBotApi) -> None:
    async def wrong_token() -> None:
        bot = Bot("999:WRONG-TOKEN", base_url=fake_api.base_url)
        with pytest.raises(InvalidToken):
            await bot.initialize()

    asyncio.run(wrong_token())

    async def unknown(bot: Bot) -> None:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("fooBar")

    run_with_bot(fake_api, unknown)
    status, body = raw_post(fake_api, "fooBar", {})
    assert (status, body) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    request = urllib.request.Request(f"{fake_api.base_url}999:WRONG/getMe", data=b"")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 401
    assert json.loads(info.value.read()) == {
        "ok": False,
        "error_code": 401,
        "description": "Unauthorized",
    }


def test_json_body_and_case_insensitive_methods(fake_api: FakeBotApi) -> None:
    status, body = raw_post(fake_api, "SENDMESSAGE", {"chat_id": USER, "text": "json"})
    assert status == 200
    assert body["ok"] is True
    assert body["result"]["text"] == "json"
    assert body["result"]["chat"] == {"id": USER, "type": "private", "first_name": "Ann"}
    assert isinstance(body["result"]["date"], int)


def test_delay_next_provokes_client_timeout(fake_api: FakeBotApi) -> None:
    async def scenario(bot: Bot) -> None:
        fake_api.delay_next("getMe", 1.0)
        with pytest.raises(TimedOut):
            await bot.get_me(read_timeout=0.2)
        assert (await bot.get_me()).id == 7000001

    run_with_bot(fake_api, scenario)


def test_a_held_get_updates_confirms_nothing_until_released(fake_api: FakeBotApi) -> None:
    fake_api.push_text(USER, "one")
    fake_api.push_text(USER, "two")
    fake_api.hold("getUpdates", lambda params: params.get("offset", 0) > 1)

    async def scenario(bot: Bot) -> None:
        assert [u.update_id for u in await bot.get_updates()] == [1, 2]  # not held
        confirming = asyncio.ensure_future(bot.get_updates(offset=3))
        await asyncio.to_thread(fake_api.wait_for_held, "getUpdates")
        assert fake_api.confirmed_offset == 0
        fake_api.release(drop=True)  # as if its client had died before it arrived
        with pytest.raises(NetworkError):  # 502 Bad Gateway
            await confirming
        assert fake_api.held() == 0
        assert [u.update_id for u in await bot.get_updates()] == [1, 2]  # still there
        fake_api.hold("sendMessage")
        sending = asyncio.ensure_future(bot.send_message(USER, "late"))
        await asyncio.to_thread(fake_api.wait_for_held, "sendMessage")
        assert fake_api.sent_messages(USER) == []
        fake_api.release()
        assert (await sending).text == "late"

    run_with_bot(fake_api, scenario)
    assert fake_api.confirmed_offset == 0


def test_real_application_polls_and_replies(fake_api: FakeBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "Hi! What went wrong?",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("Printer", callback_data="p")]]
            ),
        )

    async def main() -> None:
        app = (
            Application.builder()
            .token(fake_api.token)
            .base_url(fake_api.base_url)
            .base_file_url(fake_api.base_file_url)
            .build()
        )
        app.add_handler(CommandHandler("start", start))
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            fake_api.push_command(USER, "/start")
            (reply,) = await asyncio.to_thread(fake_api.wait_for_messages, USER, 1, 5.0)
            await app.updater.stop()
            await app.stop()
        assert reply["text"] == "Hi! What went wrong?"
        assert reply["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "p"

    asyncio.run(main())
    assert fake_api.confirmed_offset == 2  # the update was confirmed on shutdown
    assert fake_api.pending_updates == []


def test_stop_wakes_pending_long_poll() -> None:
    """stop() ends a waiting getUpdates early, and the poller still gets its whole reply."""
    fake = FakeBotApi().start()
    replies: list[tuple[int, dict[str, Any]]] = []
    errors: list[BaseException] = []

    def poll() -> None:
        # raw_post gives up after 5 s, far inside the 30 s poll: only a woken poll replies.
        try:
            replies.append(raw_post(fake, "getUpdates", {"timeout": 30}))
        except Exception as exc:
            errors.append(exc)

    poller = threading.Thread(target=poll)
    poller.start()
    fake.wait_for_requests("getUpdates", 1, timeout=5)
    time.sleep(0.1)  # let the request reach its wait, so stop() has to wake it
    fake.stop()
    poller.join(timeout=10)
    assert not poller.is_alive()
    assert errors == []
    assert replies == [(200, {"ok": True, "result": []})]
