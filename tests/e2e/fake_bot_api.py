"""A small in-process fake of the Telegram Bot API for end-to-end tests.

The real bot (python-telegram-bot with its real httpx networking) talks to this server over
HTTP on 127.0.0.1, so the whole request/response path (encoding, error mapping, retries,
long polling) is exercised.  Standard library only.

Usage::

    from telegram import Bot
    from tests.e2e.fake_bot_api import FakeBotApi

    with FakeBotApi() as fake:  # or: fake = FakeBotApi(); fake.start(); ...; fake.stop()
        bot = Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)
        # or: Application.builder().token(fake.token).base_url(fake.base_url)
        #         .base_file_url(fake.base_file_url).build()
        fake.push_command(42, "/start")  # user 42 (private chat 42) sends /start
        fake.push_text(42, "my printer is broken")
        replies = fake.wait_for_messages(42, count=2)  # blocks until the bot answered twice
        assert replies[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "..."
        fake.push_callback(42, "yes", replies[0]["message_id"])  # user presses a button
        ...

Behaviour in short:

* Requests go to ``/bot<TOKEN>/<method>`` (GET or POST; form-urlencoded, multipart or JSON
  bodies).  A wrong token gives 401 ``Unauthorized``; an unknown method gives 404
  ``Not Found: method not found``.  Method names are matched case-insensitively, as Telegram does.
* Updates pushed with ``push_*`` get auto-incrementing ``update_id`` s (from 1) and are served by
  ``getUpdates`` with Telegram's offset semantics: updates with ``update_id < offset`` are confirmed
  and dropped forever; long polling waits up to ``timeout`` seconds and is woken by a push.
  Pushing an update whose ``update_id`` is below the already confirmed offset (e.g. the same
  id again) delivers it once more, to simulate redelivery.
* Private chats have ``chat.id == user.id`` (the default ``user_id`` is the chat id).  Negative
  ids below -10**12 are supergroups (forums by default), other negative ids are groups; see
  :meth:`FakeBotApi.add_chat`.  Group messages come from user ``DEFAULT_GROUP_USER_ID`` unless
  given.
* ``sendMessage`` / ``editMessageText`` validate like Telegram: HTML parse mode with
  unbalanced/unknown tags or bad ``&`` entities -> 400 ``Bad Request: can't parse entities: ...``;
  empty text -> 400 ``Bad Request: message text is empty``; more than 4096 visible UTF-16 units
  (after entity parsing) -> 400 ``Bad Request: message is too long``;
  ``callback_data`` not 1-64 bytes -> 400 ``Bad Request: BUTTON_DATA_INVALID``.  Editing a message
  to identical text and markup -> 400 ``Bad Request: message is not modified: ...``.
  MarkdownV2 is not validated.
* Fault injection: :meth:`FakeBotApi.fail_next`, :meth:`FakeBotApi.delay_next`,
  :meth:`FakeBotApi.block_chat`; :meth:`FakeBotApi.hold` keeps chosen calls waiting, not yet
  acted on, until :meth:`FakeBotApi.release` (e.g. the getUpdates that would confirm a batch,
  so a test can kill the bot before it did).  Injected faults and blocked chats are counted in
  ``requests`` but not in ``sent_messages()``.
* Misconfigured agent chats (for ``supportbot doctor``): the bot is an administrator with every
  right in every group until :meth:`FakeBotApi.set_member_status` says otherwise for ``BOT_ID``
  (``rights`` such as ``can_manage_topics=False`` override an administrator's flags);
  :meth:`FakeBotApi.forget_chat` makes every call naming a chat answer 400
  ``Bad Request: chat not found``, as Telegram does for a chat the bot was never in.
* Webhooks: ``setWebhook`` / ``deleteWebhook`` keep a URL that ``getWebhookInfo`` reports
  (``getUpdates`` answers 409 while one is set) but nothing is ever posted to it;
  :meth:`FakeBotApi.set_webhook` leaves one set and :meth:`FakeBotApi.fail_webhook_delivery`
  a failed delivery (``last_error_message`` / ``last_error_date``).
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import email.message
import itertools
import json
import math
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["DEFAULT_TOKEN", "FakeBotApi", "Hold"]

DEFAULT_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz12345"

JSONDict = dict[str, Any]

# Parameters that are always plain strings (PTB never JSON-encodes str values, so these must not
# be JSON-decoded even when they look like numbers, e.g. text="42" or callback_query_id="123").
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "name",
        "title",
        "description",
        "short_description",
        "callback_query_id",
        "inline_message_id",
        "url",
        "action",
        "emoji",
        "icon_custom_emoji_id",
        "message_effect_id",
        "business_connection_id",
        "language_code",
        "secret_token",
        "ip_address",
        "photo",
        "document",
        "video",
        "audio",
        "voice",
        "sticker",
        "animation",
        "video_note",
        "thumbnail",
        "file_id",
        "query",
        "next_offset",
        "payload",
        "currency",
        "start_parameter",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "question",
        "explanation",
        "custom_title",
        "invite_link",
        "address",
    }
)

_ALLOWED_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "tg-spoiler",
        "tg-emoji",
        "blockquote",
        "span",
    }
)
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);")
_BOT_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class ApiError(Exception):
    """Raised by method handlers; turned into a Bot API error response."""

    def __init__(self, error_code: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        body: JSONDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def parse_html(text: str) -> str:
    """Validate Telegram-style HTML and return the visible text; raise ApiError(400) if bad."""

    def fail(detail: str, pos: int) -> ApiError:
        offset = len(text[:pos].encode("utf-8"))
        return _bad_request(f"can't parse entities: {detail} at byte offset {offset}")

    out: list[str] = []
    stack: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "<":
            end = text.find(">", i)
            if end == -1:
                raise fail("Can't find end of the tag", i)
            inner = text[i + 1 : end].strip()
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise fail(f'Unexpected end tag "{name}"', i)
                if stack[-1][0] != name:
                    raise fail(f'Unmatched end tag "{name}", expected "</{stack[-1][0]}>"', i)
                stack.pop()
            else:
                parts = inner.split(None, 1)
                name = parts[0].lower() if parts else ""
                if not name or name not in _ALLOWED_HTML_TAGS:
                    raise fail(f'Unsupported start tag "{name}"', i)
                attrs = parts[1] if len(parts) > 1 else ""
                if name == "span" and not re.search(r"""class\s*=\s*["']?tg-spoiler""", attrs):
                    raise fail('Tag "span" must have class "tg-spoiler"', i)
                stack.append((name, i))
            i = end + 1
        elif ch == "&":
            m = _ENTITY_RE.match(text, i)
            if not m:
                raise fail("Character '&' must start an HTML entity", i)
            ref = m.group(1)
            if ref.startswith("#"):
                try:
                    code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
                    out.append(chr(code))
                except (ValueError, OverflowError):
                    raise fail(f'Invalid numeric entity "&{ref};"', i) from None
            elif ref in _NAMED_ENTITIES:
                out.append(_NAMED_ENTITIES[ref])
            else:
                raise fail(f'Unsupported HTML entity "&{ref};"', i)
            i = m.end()
        else:
            out.append(ch)
            i += 1
    if stack:
        name, pos = stack[-1]
        raise fail(f'Can\'t find end tag corresponding to start tag "{name}"', pos)
    return "".join(out)


def _decode_value(key: str, raw: str) -> Any:
    """Undo PTB's encoding: non-str values are JSON-encoded, str values are sent verbatim."""
    if key in _STRING_PARAMS:
        return raw
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return raw if isinstance(value, str) else value


def _parse_multipart(content_type: str, body: bytes) -> JSONDict:
    header = email.message.Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str):
        raise _bad_request("invalid multipart/form-data body")
    params: JSONDict = {}
    for part in body.split(b"--" + boundary.encode("latin-1"))[1:]:
        if part.startswith(b"--"):
            break
        part = part.removeprefix(b"\r\n")
        head, _, content = part.partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        headers = email.message.Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, sep, value = line.partition(":")
            if sep:
                headers[key.strip()] = value.strip()
        name = headers.get_param("name", header="content-disposition")
        filename = headers.get_param("filename", header="content-disposition")
        if not isinstance(name, str):
            continue
        if isinstance(filename, str):
            params[name] = {
                "filename": filename,
                "content_type": headers.get("content-type", "application/octet-stream"),
                "content": content,
            }
        else:
            params[name] = _decode_value(name, content.decode("utf-8"))
    return params


def _parse_body(content_type: str, body: bytes) -> JSONDict:
    ctype = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return {}
    if ctype == "application/json":
        data = json.loads(body.decode("utf-8"))
        if not isinstance(data, dict):
            raise _bad_request("JSON body must be an object")
        return data
    if ctype == "multipart/form-data":
        return _parse_multipart(content_type, body)
    pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    return {key: _decode_value(key, value) for key, value in pairs}


def _norm_chat_id(value: Any) -> int | str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    return None


def _markup_error(markup: Any) -> ApiError | None:
    if not isinstance(markup, dict):
        return None
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            data = button.get("callback_data") if isinstance(button, dict) else None
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                return _bad_request("BUTTON_DATA_INVALID")
    return None


@dataclass
class _Pending:
    update_id: int
    update: JSONDict
    force: bool = False  # deliver once even though update_id < confirmed offset


@dataclass
class _Injection:
    method: str  # lower-case method name or "*"
    times: int
    chat_id: int | str | None = None
    error: ApiError | None = None
    delay: float = 0.0


@dataclass(eq=False)
class Hold:
    """Calls that :meth:`FakeBotApi.hold` keeps waiting; pass it to :meth:`FakeBotApi.release`."""

    method: str  # lower-case method name or "*"
    match: Callable[[JSONDict], bool] | None  # which calls (their params); None: all
    waiting: int = 0  # calls held now
    released: bool = False
    drop: bool = False  # released without effect: as if they never arrived


@dataclass
class _ChatInfo:
    chat: JSONDict
    members: dict[int, str] = field(default_factory=dict)
    rights: dict[int, dict[str, bool]] = field(default_factory=dict)  # administrators' overrides


def _shutdown_socket(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeBotApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a killed bot) is expected here; anything else is not."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def setup(self) -> None:
        super().setup()
        # Without this, a reply written as headers then body waits for the client's delayed
        # ACK (Nagle's algorithm): about 40 ms a call on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._track_connection(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track_connection(self.connection, add=False)

    def parse_request(self) -> bool:
        # The request line has arrived: from here until the reply is written this connection is
        # busy, and stop() lets it finish instead of cutting it.  A connection stop() has
        # already closed while idle takes no new request.
        if not self.server.fake._request_begins(self.connection):
            self.close_connection = True
            return False
        return super().parse_request()

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        finally:
            if self.server.fake._request_ends(self.connection):
                self.close_connection = True

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        body = self._read_body()
        status, payload, ctype = self.server.fake._dispatch(
            self.path, self.headers.get("Content-Type", ""), body
        )
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        if self.server.fake._stopping:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _handle
    do_POST = _handle


class FakeBotApi:
    """Fake Telegram Bot API server; see the module docstring."""

    BOT_ID = 7000001
    BOT_USERNAME = "supportbot_test_bot"
    BOT_FIRST_NAME = "Support Bot"
    DEFAULT_GROUP_USER_ID = 5000001
    DEFAULT_ICON_COLOR = 7322096
    MAX_TEXT_LENGTH = 4096
    MAX_CAPTION_LENGTH = 1024

    def __init__(self, token: str = DEFAULT_TOKEN) -> None:
        self.token = token
        self._cond = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # Open client connections and the handler thread serving each; those in _busy are
        # between reading a request and writing its reply; those in _closed were shut by stop().
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._busy: set[socket.socket] = set()
        self._closed: set[socket.socket] = set()
        self._stopping = False
        self._requests: list[tuple[str, JSONDict]] = []
        # After an injected 429: until when each method is refused, and who asked too early.
        # Off for tests that move the bot's clock instead of waiting.
        self.enforce_retry_after = True
        self._retry_until: dict[str, float] = {}
        self._early: list[tuple[str, JSONDict]] = []
        self._pending: list[_Pending] = []
        self._pushed: dict[int, JSONDict] = {}
        self._last_update_id = 0
        self._confirmed_offset = 0
        self._webhook_url = ""
        self._webhook_error: tuple[str, int] | None = None  # getWebhookInfo's last_error_*
        self._chats: dict[int | str, _ChatInfo] = {}
        self._users: dict[int, JSONDict] = {}
        self._languages: dict[int, str] = {}  # the user's app language (language_code)
        self._message_ids: dict[int | str, itertools.count[int]] = {}
        self._messages: dict[tuple[int | str, int], JSONDict] = {}
        self._signatures: dict[tuple[int | str, int], tuple[Any, ...]] = {}
        self._sent: list[JSONDict] = []
        self._sent_media: list[JSONDict] = []
        self._copies: list[JSONDict] = []
        self._edits: list[JSONDict] = []
        self._answers: list[JSONDict] = []
        self._topics: dict[tuple[int | str, int], JSONDict] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._files: dict[str, tuple[str, bytes]] = {}
        self._injections: list[_Injection] = []
        self._holds: list[Hold] = []
        self._blocked: dict[int | str, str] = {}
        self._forgotten: set[int | str] = set()
        self._handlers: dict[str, Callable[[JSONDict], Any]] = {
            name[len("_m_") :].lower(): getattr(self, name)
            for name in dir(self)
            if name.startswith("_m_")
        }

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeBotApi:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._stopping = False
        self._closed.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeBotApi:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    STOP_TIMEOUT = 5.0  # how long stop() waits for requests in flight before cutting them

    def stop(self) -> None:
        """Stop serving: refuse new connections, wake long polls, let requests already being
        handled write their replies, then close the connections (bounded by STOP_TIMEOUT).

        Closing sockets while a woken long poll was still writing its reply made clients see
        "connection reset" on an orderly stop, so busy connections close themselves after their
        reply (``Connection: close``) and only idle keep-alive connections are cut here.
        """
        server, self._server = self._server, None
        if server is None:
            return
        deadline = time.monotonic() + self.STOP_TIMEOUT
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        server.shutdown()  # the accept loop has exited: no new connections
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=self.STOP_TIMEOUT)
            self._thread = None
        with self._cond:
            idle = [conn for conn in self._connections if conn not in self._busy]
            self._closed.update(idle)
            threads = list(self._connections.values())
        for conn in idle:
            _shutdown_socket(conn)
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        with self._cond:
            stuck = list(self._connections)  # still handling a request after STOP_TIMEOUT
        for conn in stuck:
            _shutdown_socket(conn)

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeBotApi is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def _track_connection(self, conn: socket.socket, *, add: bool) -> None:
        with self._cond:
            if add:
                self._connections[conn] = threading.current_thread()
            else:
                self._connections.pop(conn, None)
                self._busy.discard(conn)
                self._closed.discard(conn)

    def _request_begins(self, conn: socket.socket) -> bool:
        """Mark ``conn`` busy; False if stop() has already closed it."""
        with self._cond:
            if conn in self._closed:
                return False
            self._busy.add(conn)
            return True

    def _request_ends(self, conn: socket.socket) -> bool:
        """Mark ``conn`` idle; True if it must close because the server is stopping."""
        with self._cond:
            self._busy.discard(conn)
            return self._stopping

    # ------------------------------------------------------------------ objects

    @property
    def bot_user(self) -> JSONDict:
        return {
            "id": self.BOT_ID,
            "is_bot": True,
            "first_name": self.BOT_FIRST_NAME,
            "username": self.BOT_USERNAME,
        }

    def add_chat(
        self,
        chat_id: int,
        *,
        type: str | None = None,
        title: str | None = None,
        is_forum: bool | None = None,
        username: str | None = None,
        first_name: str | None = None,
    ) -> JSONDict:
        """Register (or update) a chat; returns the Chat object used in updates."""
        with self._cond:
            chat = self._chat(chat_id)
            if type is not None:
                chat["type"] = type
                if type == "private":
                    chat.pop("title", None)
                    chat.pop("is_forum", None)
                    chat.setdefault("first_name", first_name or "Ann")
                else:
                    chat.pop("first_name", None)
                    chat.setdefault("title", title or f"Chat {chat_id}")
            if title is not None:
                chat["title"] = title
            if first_name is not None:
                chat["first_name"] = first_name
            if username is not None:
                chat["username"] = username
            if is_forum is not None:
                if is_forum:
                    chat["is_forum"] = True
                else:
                    chat.pop("is_forum", None)
            return copy.deepcopy(chat)

    def set_member_status(self, chat_id: int, user_id: int, status: str, **rights: bool) -> None:
        """Status reported by getChatMember: creator/administrator/member/left/kicked.

        ``rights`` override an administrator's ``can_*`` flags (all True otherwise), e.g.
        ``can_manage_topics=False``.  Also for the bot itself (``BOT_ID``).
        """
        with self._cond:
            self._chat(chat_id)
            self._chats[chat_id].members[user_id] = status
            self._chats[chat_id].rights[user_id] = dict(rights)

    def forget_chat(self, chat_id: int | str) -> None:
        """Every later call naming ``chat_id`` fails with 400 ``Bad Request: chat not found``."""
        key = _norm_chat_id(chat_id)
        with self._cond:
            self._forgotten.add(chat_id if key is None else key)

    def _chat(self, chat_id: int | str) -> JSONDict:
        info = self._chats.get(chat_id)
        if info is None:
            if isinstance(chat_id, str):
                chat: JSONDict = {"id": -1001000000000, "type": "channel", "title": chat_id}
            elif chat_id > 0:
                user = self._users.get(chat_id, {})
                chat = {
                    "id": chat_id,
                    "type": "private",
                    "first_name": user.get("first_name", "Ann"),
                }
            elif chat_id <= -(10**12):
                chat = {
                    "id": chat_id,
                    "type": "supergroup",
                    "title": f"Support group {chat_id}",
                    "is_forum": True,
                }
            else:
                chat = {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}
            info = self._chats[chat_id] = _ChatInfo(chat)
        return info.chat

    def _user(self, chat_id: int, user_id: int | None, first_name: str) -> JSONDict:
        if user_id is None:
            user_id = chat_id if chat_id > 0 else self.DEFAULT_GROUP_USER_ID
        language = self._languages.get(user_id, "en")
        user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language}
        self._users[user_id] = user
        chat = self._chat(chat_id)
        if chat["type"] == "private" and chat["id"] == user_id:
            chat["first_name"] = first_name
        else:
            self._chats[chat_id].members.setdefault(user_id, "member")
        return dict(user)

    def _next_message_id(self, chat_id: int | str) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def _store(self, message: JSONDict) -> JSONDict:
        key = (message["chat"]["id"], message["message_id"])
        self._messages[key] = copy.deepcopy(message)
        return message

    def _new_message(
        self, chat_id: int | str, sender: JSONDict, thread_id: Any = None, **content: Any
    ) -> JSONDict:
        chat = copy.deepcopy(self._chat(chat_id))
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
        }
        if isinstance(thread_id, int) and thread_id:
            message["message_thread_id"] = thread_id
            if chat.get("is_forum"):
                message["is_topic_message"] = True
        message.update({k: v for k, v in content.items() if v is not None})
        return message

    def _register_file(self, kind: str, content: bytes, suffix: str) -> tuple[str, str]:
        n = len(self._files) + 1
        file_id = f"{kind}-file-{n}"
        self._files[file_id] = (f"{kind}s/file_{n}.{suffix}", content)
        return file_id, f"{kind}-unique-{n}"

    # ------------------------------------------------------------------ pushing updates

    def push_update(self, update: JSONDict) -> int:
        """Queue a raw update dict; assigns update_id if missing. Returns the update_id.

        An update_id below the confirmed offset (e.g. one already delivered) is delivered once
        more, which simulates Telegram redelivering an update.
        """
        update = copy.deepcopy(update)
        with self._cond:
            update_id = update.get("update_id")
            if update_id is None:
                update_id = self._last_update_id + 1
                update = {"update_id": update_id, **update}
            update_id = int(update_id)
            self._last_update_id = max(self._last_update_id, update_id)
            self._pushed[update_id] = update
            entry = _Pending(update_id, update, force=update_id < self._confirmed_offset)
            bisect.insort(self._pending, entry, key=lambda p: p.update_id)
            self._cond.notify_all()
            return update_id

    def _push_message(
        self,
        chat_id: int,
        *,
        user_id: int | None,
        first_name: str,
        update_id: int | None,
        message_thread_id: int | None = None,
        **content: Any,
    ) -> int:
        with self._cond:
            user = self._user(chat_id, user_id, first_name)
            message = self._new_message(chat_id, user, message_thread_id, **content)
            self._store(message)
            update: JSONDict = {"message": message}
            if update_id is not None:
                update = {"update_id": update_id, **update}
            return self.push_update(update)

    def push_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        first_name: str = "Ann",
        update_id: int | None = None,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> int:
        """A user sends a text message. Returns the update_id."""
        reply_to = None
        if reply_to_message_id is not None:
            with self._cond:
                reply_to = copy.deepcopy(self._messages.get((chat_id, reply_to_message_id)))
        return self._push_message(
            chat_id,
            user_id=user_id,
            first_name=first_name,
            update_id=update_id,
            message_thread_id=message_thread_id,
            text=text,
            reply_to_message=reply_to,
        )

    def push_command(
        self,
        chat_id: int,
        command: str,
        *,
        user_id: int | None = None,
        first_name: str = "Ann",
        update_id: int | None = None,
        message_thread_id: int | None = None,
    ) -> int:
        """A user sends a command like "/start" or "/start payload" (with a bot_command entity)."""
        if not command.startswith("/"):
            command = "/" + command
        length = len(command.split(None, 1)[0].encode("utf-16-le")) // 2
        return self._push_message(
            chat_id,
            user_id=user_id,
            first_name=first_name,
            update_id=update_id,
            message_thread_id=message_thread_id,
            text=command,
            entities=[{"type": "bot_command", "offset": 0, "length": length}],
        )

    def push_callback(
        self,
        chat_id: int,
        data: str,
        message_id: int,
        *,
        user_id: int | None = None,
        first_name: str = "Ann",
        update_id: int | None = None,
    ) -> int:
        """A user presses an inline button with ``data`` on message ``message_id``.

        The callback query id is ``f"cq{update_id}"``.  If the message is unknown to the fake, a
        bot message with that id is synthesised (and can then be edited).
        """
        with self._cond:
            user = self._user(chat_id, user_id, first_name)
            message = self._messages.get((chat_id, message_id))
            if message is None:
                message = {
                    "message_id": message_id,
                    "from": self.bot_user,
                    "chat": copy.deepcopy(self._chat(chat_id)),
                    "date": int(time.time()),
                    "text": "(message)",
                }
                self._store(message)
                self._signatures[(chat_id, message_id)] = ("(message)", None, None)
            if update_id is None:
                update_id = self._last_update_id + 1
            query = {
                "id": f"cq{update_id}",
                "from": user,
                "message": copy.deepcopy(message),
                "chat_instance": f"ci{chat_id}",
                "data": data,
            }
            return self.push_update({"update_id": update_id, "callback_query": query})

    def push_sticker(
        self,
        chat_id: int,
        *,
        user_id: int | None = None,
        first_name: str = "Ann",
        update_id: int | None = None,
    ) -> int:
        with self._cond:
            file_id, unique = self._register_file("sticker", b"RIFF\x00\x00\x00\x00WEBP", "webp")
        sticker = {
            "file_id": file_id,
            "file_unique_id": unique,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self._push_message(
            chat_id, user_id=user_id, first_name=first_name, update_id=update_id, sticker=sticker
        )

    def push_photo(
        self,
        chat_id: int,
        caption: str | None = None,
        *,
        user_id: int | None = None,
        first_name: str = "Ann",
        update_id: int | None = None,
        content: bytes = b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9",
    ) -> int:
        with self._cond:
            small_id, small_unique = self._register_file("photo", content, "jpg")
            big_id, big_unique = self._register_file("photo", content, "jpg")
        photo = [
            {"file_id": small_id, "file_unique_id": small_unique, "width": 90, "height": 90},
            {
                "file_id": big_id,
                "file_unique_id": big_unique,
                "width": 1280,
                "height": 960,
                "file_size": len(content),
            },
        ]
        return self._push_message(
            chat_id,
            user_id=user_id,
            first_name=first_name,
            update_id=update_id,
            photo=photo,
            caption=caption,
        )

    def push_voice(
        self,
        chat_id: int,
        *,
        duration: int = 3,
        user_id: int | None = None,
        first_name: str = "Ann",
        update_id: int | None = None,
    ) -> int:
        content = b"OggS\x00fake-voice"
        with self._cond:
            file_id, unique = self._register_file("voice", content, "oga")
        voice = {
            "file_id": file_id,
            "file_unique_id": unique,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(content),
        }
        return self._push_message(
            chat_id, user_id=user_id, first_name=first_name, update_id=update_id, voice=voice
        )

    def push_document(
        self,
        chat_id: int,
        file_name: str = "log.txt",
        caption: str | None = None,
        *,
        content: bytes = b"fake document\n",
        mime_type: str = "text/plain",
        user_id: int | None = None,
        first_name: str = "Ann",
        update_id: int | None = None,
    ) -> int:
        with self._cond:
            file_id, unique = self._register_file("document", content, "bin")
        document = {
            "file_id": file_id,
            "file_unique_id": unique,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        return self._push_message(
            chat_id,
            user_id=user_id,
            first_name=first_name,
            update_id=update_id,
            document=document,
            caption=caption,
        )

    def push_my_chat_member(
        self,
        chat_id: int,
        status: str = "kicked",
        *,
        user_id: int | None = None,
        first_name: str = "Ann",
        update_id: int | None = None,
        block: bool = True,
    ) -> int:
        """The bot's membership changed (status "kicked" in a private chat = user blocked the bot).

        With ``block=True`` (default) a "kicked"/"left" status also blocks the chat (sends -> 403)
        and "member"/"administrator" unblocks it.
        """
        with self._cond:
            user = self._user(chat_id, user_id, first_name)
            old = "member" if status in ("kicked", "left") else "left"
            update: JSONDict = {
                "my_chat_member": {
                    "chat": copy.deepcopy(self._chat(chat_id)),
                    "from": user,
                    "date": int(time.time()),
                    "old_chat_member": self._member_obj(self.bot_user, old),
                    "new_chat_member": self._member_obj(self.bot_user, status),
                }
            }
            if update_id is not None:
                update["update_id"] = update_id
            if block and status in ("kicked", "left"):
                self.block_chat(chat_id)
            elif block:
                self.unblock_chat(chat_id)
            return self.push_update(update)

    def pushed_update(self, update_id: int) -> JSONDict:
        """The update dict most recently pushed with this id."""
        with self._cond:
            return copy.deepcopy(self._pushed[update_id])

    # ------------------------------------------------------------------ inspection

    @property
    def requests(self) -> list[tuple[str, JSONDict]]:
        """Snapshot of every (method, params) received, including failed ones."""
        with self._cond:
            return list(self._requests)

    @property
    def requests_inside_retry_window(self) -> list[tuple[str, JSONDict]]:
        """Calls that came before an injected 429's ``retry_after`` had passed."""
        with self._cond:
            return copy.deepcopy(self._early)

    def requests_for(self, method: str) -> list[JSONDict]:
        with self._cond:
            return [p for m, p in self._requests if m.lower() == method.lower()]

    @property
    def webhook_url(self) -> str:
        """The URL of the last ``setWebhook`` ("" when none is set, or it was deleted)."""
        with self._cond:
            return self._webhook_url

    def set_webhook(self, url: str) -> None:
        """As if a webhook had been left set (by an earlier run in webhook mode, say)."""
        with self._cond:
            self._webhook_url = url

    def fail_webhook_delivery(self, message: str, *, at: float | None = None) -> None:
        """As if Telegram's last post to the webhook had failed with ``message`` at the Unix
        time ``at`` (now by default): ``getWebhookInfo`` reports it, as Telegram does, until
        another failure replaces it. Nothing is posted to the webhook by this fake."""
        with self._cond:
            self._webhook_error = (message, int(time.time() if at is None else at))

    @property
    def confirmed_offset(self) -> int:
        with self._cond:
            return self._confirmed_offset

    @property
    def pending_updates(self) -> list[JSONDict]:
        with self._cond:
            return [copy.deepcopy(p.update) for p in self._pending]

    def _filter_chat(self, items: Iterable[JSONDict], chat_id: int | str | None) -> list[JSONDict]:
        wanted = _norm_chat_id(chat_id)
        return [
            copy.deepcopy(item)
            for item in items
            if wanted is None or _norm_chat_id(item.get("chat_id")) == wanted
        ]

    def sent_messages(self, chat_id: int | str | None = None) -> list[JSONDict]:
        """Successful sendMessage params (reply_markup as dict) plus the assigned message_id."""
        with self._cond:
            return self._filter_chat(self._sent, chat_id)

    def sent_media(self, chat_id: int | str | None = None) -> list[JSONDict]:
        """Successful sendPhoto/sendDocument params plus "method" and "message_id"."""
        with self._cond:
            return self._filter_chat(self._sent_media, chat_id)

    def copied_messages(self, chat_id: int | str | None = None) -> list[JSONDict]:
        """Successful copyMessage/forwardMessage params (chat_id = target) plus "method",
        "message_id" (the new id) and "source_message_id" (the copied one)."""
        with self._cond:
            return self._filter_chat(self._copies, chat_id)

    def edits(self, chat_id: int | str | None = None) -> list[JSONDict]:
        """Successful editMessageText/ReplyMarkup/Caption params plus "method"."""
        with self._cond:
            return self._filter_chat(self._edits, chat_id)

    def callback_answers(self) -> list[JSONDict]:
        with self._cond:
            return copy.deepcopy(self._answers)

    def message(self, chat_id: int, message_id: int) -> JSONDict | None:
        """Current state of a message (sent, pushed or edited) as Telegram would show it."""
        with self._cond:
            return copy.deepcopy(self._messages.get((chat_id, message_id)))

    def topics(self, chat_id: int | None = None) -> list[JSONDict]:
        """Forum topics created: {chat_id, message_thread_id, name, icon_color, closed}."""
        with self._cond:
            return [
                copy.deepcopy(t)
                for (cid, _), t in sorted(self._topics.items())
                if chat_id is None or cid == chat_id
            ]

    def set_language(self, user_id: int, language_code: str) -> None:
        """The language the user's Telegram app is set to, sent on their next updates."""
        with self._cond:
            self._languages[user_id] = language_code

    def my_commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        with self._cond:
            return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    def _wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_for_messages(
        self, chat_id: int | str, count: int, timeout: float = 10.0
    ) -> list[JSONDict]:
        """Block until at least ``count`` sendMessage calls to ``chat_id`` succeeded."""
        if not self._wait(lambda: len(self._filter_chat(self._sent, chat_id)) >= count, timeout):
            got = self.sent_messages(chat_id)
            methods = [m for m, _ in self.requests]
            raise AssertionError(
                f"expected >= {count} messages to chat {chat_id} within {timeout}s, got "
                f"{len(got)}: {[m.get('text') for m in got]!r}; all requests: {methods}"
            )
        return self.sent_messages(chat_id)

    def wait_for_requests(
        self, method: str, count: int = 1, timeout: float = 10.0
    ) -> list[JSONDict]:
        """Block until at least ``count`` requests of ``method`` were received (any outcome)."""
        if not self._wait(lambda: len(self.requests_for(method)) >= count, timeout):
            raise AssertionError(
                f"expected >= {count} {method} requests within {timeout}s, got "
                f"{len(self.requests_for(method))}; all requests: {[m for m, _ in self.requests]}"
            )
        return self.requests_for(method)

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` ("*" = any method; optionally only for
        ``chat_id``) fail with this Bot API error.  ``retry_after`` adds
        ``parameters.retry_after`` (PTB raises RetryAfter)."""
        if description is None:
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after or 1}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(error_code, f"Error {error_code}")
        params = {"retry_after": retry_after} if retry_after is not None else None
        with self._cond:
            self._injections.append(
                _Injection(
                    method.lower(),
                    times,
                    _norm_chat_id(chat_id),
                    error=ApiError(error_code, description, params),
                )
            )

    def delay_next(
        self, method: str, seconds: float, times: int = 1, *, chat_id: int | str | None = None
    ) -> None:
        """Delay the next ``times`` calls of ``method`` ("*" = any) by ``seconds`` before
        handling them (to provoke client timeouts / overlapping requests)."""
        with self._cond:
            self._injections.append(
                _Injection(method.lower(), times, _norm_chat_id(chat_id), delay=seconds)
            )

    def hold(self, method: str, match: Callable[[JSONDict], bool] | None = None) -> Hold:
        """From now on, hold calls of ``method`` ("*" = any) whose params ``match`` (all,
        without) before they take effect, until :meth:`release`: the request has been sent
        and is in ``requests``, Telegram has not acted on it yet (a getUpdates held so has
        not confirmed its offset). :meth:`held` counts the calls waiting."""
        hold = Hold(method.lower(), match)
        with self._cond:
            self._holds.append(hold)
        return hold

    def held(self, method: str | None = None) -> int:
        """How many calls (of ``method``) are held now."""
        with self._cond:
            return sum(h.waiting for h in self._holds if method in (None, h.method))

    def wait_for_held(self, method: str, count: int = 1, timeout: float = 10.0) -> None:
        """Block until at least ``count`` calls of ``method`` are held."""
        if not self._wait(lambda: self.held(method.lower()) >= count, timeout):
            raise AssertionError(
                f"expected >= {count} held {method} calls within {timeout}s, got "
                f"{self.held(method.lower())}; all requests: {[m for m, _ in self.requests]}"
            )

    def release(self, hold: Hold | None = None, *, drop: bool = False) -> None:
        """End ``hold`` (None: every hold): its calls go on, or with ``drop`` end with 502
        Bad Gateway and no effect, as if they had never reached Telegram (their client was
        killed first)."""
        with self._cond:
            for ended in [h for h in self._holds if hold in (None, h)]:
                ended.released, ended.drop = True, drop
                self._holds.remove(ended)
            self._cond.notify_all()

    def _wait_if_held(self, method: str, params: JSONDict) -> None:
        with self._cond:
            hold = next(
                (
                    h
                    for h in self._holds
                    if h.method in ("*", method) and (h.match is None or h.match(params))
                ),
                None,
            )
            if hold is None:
                return
            hold.waiting += 1
            self._cond.notify_all()
            self._cond.wait_for(lambda: hold.released or self._stopping)
            hold.waiting -= 1
        if hold.drop or not hold.released:
            raise ApiError(502, _DEFAULT_DESCRIPTIONS[502])

    def block_chat(self, chat_id: int | str, description: str | None = None) -> None:
        """Every request targeting ``chat_id`` returns 403 until :meth:`unblock_chat`."""
        key = _norm_chat_id(chat_id)
        if key is None:
            raise ValueError(f"invalid chat_id {chat_id!r}")
        with self._cond:
            if description is None:
                description = {
                    "private": "Forbidden: bot was blocked by the user",
                    "group": "Forbidden: bot was kicked from the group chat",
                    "supergroup": "Forbidden: bot was kicked from the supergroup chat",
                }.get(self._chat(key)["type"], "Forbidden: bot is not a member of the channel chat")
            self._blocked[key] = description

    def unblock_chat(self, chat_id: int | str) -> None:
        with self._cond:
            self._blocked.pop(_norm_chat_id(chat_id) or "", None)

    def _take_injection(
        self, method: str, chat_id: int | str | None, delay: bool
    ) -> _Injection | None:
        with self._cond:
            for inj in self._injections:
                if (inj.delay > 0) != delay:
                    continue
                if inj.method not in ("*", method):
                    continue
                if inj.chat_id is not None and inj.chat_id != chat_id:
                    continue
                inj.times -= 1
                if inj.times <= 0:
                    self._injections.remove(inj)
                return inj
        return None

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self, raw_path: str, content_type: str, body: bytes) -> tuple[int, bytes, str]:
        url = urlsplit(raw_path)
        path = unquote(url.path)
        if path.startswith("/file/bot"):
            return self._serve_file(path[len("/file/bot") :])
        if not path.startswith("/bot"):
            return self._json(ApiError(404, "Not Found").body(), 404)
        token, _, method = path[len("/bot") :].partition("/")
        try:
            params = {k: _decode_value(k, v) for k, v in parse_qsl(url.query)}
            params.update(_parse_body(content_type, body))
        except (ValueError, ApiError) as exc:
            err = exc if isinstance(exc, ApiError) else _bad_request(f"can't parse request: {exc}")
            return self._json(err.body(), err.error_code)
        with self._cond:
            self._requests.append((method, params))
            self._cond.notify_all()
        try:
            result = self._call(token, method, params)
        except ApiError as err:
            return self._json(err.body(), err.error_code)
        return self._json({"ok": True, "result": result}, 200)

    def _call(self, token: str, method: str, params: JSONDict) -> Any:
        if token != self.token:
            raise ApiError(401, "Unauthorized")
        name = method.lower()
        handler = self._handlers.get(name)
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        self._wait_if_held(name, params)
        chat_id = _norm_chat_id(params.get("chat_id"))
        delay = self._take_injection(name, chat_id, delay=True)
        if delay is not None:
            with self._cond:  # stop() cuts an injected delay short, as it wakes long polls
                self._cond.wait_for(lambda: self._stopping, timeout=delay.delay)
        with self._cond:  # like Telegram: a request inside a 429's window gets 429 again
            until = self._retry_until.get(name, 0.0) if self.enforce_retry_after else 0.0
            if time.monotonic() < until:
                self._early.append((name, copy.deepcopy(params)))
                left = max(1, math.ceil(until - time.monotonic()))
                raise ApiError(429, f"Too Many Requests: retry after {left}", {"retry_after": left})
        failure = self._take_injection(name, chat_id, delay=False)
        if failure is not None and failure.error is not None:
            retry_after = (failure.error.parameters or {}).get("retry_after")
            if retry_after:
                with self._cond:
                    self._retry_until[name] = time.monotonic() + float(retry_after)
            raise failure.error
        with self._cond:
            if chat_id in self._forgotten:
                raise _bad_request("chat not found")
            if chat_id in self._blocked and name not in ("getchat", "getchatmember"):
                raise ApiError(403, self._blocked[chat_id])
            result = handler(params)
            self._cond.notify_all()
            return result

    @staticmethod
    def _json(body: JSONDict, status: int) -> tuple[int, bytes, str]:
        return status, json.dumps(body).encode("utf-8"), "application/json"

    def _serve_file(self, rest: str) -> tuple[int, bytes, str]:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            return self._json(ApiError(401, "Unauthorized").body(), 401)
        with self._cond:
            for path, content in self._files.values():
                if path == file_path:
                    return 200, content, "application/octet-stream"
        return self._json(ApiError(404, "Not Found").body(), 404)

    # ------------------------------------------------------------------ helpers for handlers

    @staticmethod
    def _require_chat(params: JSONDict) -> int | str:
        chat_id = _norm_chat_id(params.get("chat_id"))
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        return chat_id

    def _visible_text(self, text: Any, parse_mode: Any, *, what: str = "text") -> str:
        visible = "" if text is None else str(text)
        if isinstance(parse_mode, str) and parse_mode.lower() == "html":
            visible = parse_html(visible)
        if what == "text" and not visible.strip():
            raise _bad_request("message text is empty")
        limit = self.MAX_TEXT_LENGTH if what == "text" else self.MAX_CAPTION_LENGTH
        if len(visible.encode("utf-16-le")) // 2 > limit:  # Telegram counts UTF-16 units
            raise _bad_request(
                "message is too long" if what == "text" else "message caption is too long"
            )
        return visible

    @staticmethod
    def _inline_markup(params: JSONDict) -> JSONDict | None:
        markup = params.get("reply_markup")
        error = _markup_error(markup)
        if error is not None:
            raise error
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            return markup
        return None

    def _thread_id(self, params: JSONDict) -> int | None:
        thread = params.get("message_thread_id")
        return thread if isinstance(thread, int) and not isinstance(thread, bool) else None

    def _reply_to(self, chat_id: int | str, params: JSONDict) -> JSONDict | None:
        reply = params.get("reply_parameters")
        mid = (
            reply.get("message_id")
            if isinstance(reply, dict)
            else params.get("reply_to_message_id")
        )
        if not isinstance(mid, int):
            return None
        original = self._messages.get((chat_id, mid))
        return copy.deepcopy(original) if original else None

    def _member_obj(self, user: JSONDict, status: str) -> JSONDict:
        member: JSONDict = {"status": status, "user": copy.deepcopy(user)}
        if status == "administrator":
            member.update(
                dict.fromkeys(
                    (
                        "can_manage_chat",
                        "can_delete_messages",
                        "can_manage_video_chats",
                        "can_restrict_members",
                        "can_change_info",
                        "can_invite_users",
                        "can_post_stories",
                        "can_edit_stories",
                        "can_delete_stories",
                        "can_pin_messages",
                        "can_manage_topics",
                    ),
                    True,
                ),
                can_be_edited=False,
                is_anonymous=False,
                can_promote_members=False,
            )
        elif status == "creator":
            member["is_anonymous"] = False
        elif status == "kicked":
            member["until_date"] = 0
        return member

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    # ------------------------------------------------------------------ method handlers

    def _m_getMe(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_getUpdates(self, params: JSONDict) -> list[JSONDict]:
        if self._webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = params.get("limit", 100)
        limit = max(1, min(100, int(limit))) if isinstance(limit, int | float) else 100
        timeout = params.get("timeout", 0)
        timeout = max(0.0, float(timeout)) if isinstance(timeout, int | float) else 0.0
        if isinstance(offset, int) and not isinstance(offset, bool):
            if offset > 0:
                self._confirmed_offset = max(self._confirmed_offset, offset)
                self._pending = [p for p in self._pending if p.update_id >= offset or p.force]
            elif offset < 0:
                self._pending = self._pending[offset:]
        deadline = time.monotonic() + timeout
        while not self._pending and not self._stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._cond.wait(remaining)
        batch = self._pending[:limit]
        for entry in batch:
            entry.force = False
        return [copy.deepcopy(p.update) for p in batch]

    def _m_deleteWebhook(self, params: JSONDict) -> bool:
        self._webhook_url = ""
        if params.get("drop_pending_updates") is True:
            self._pending = []
        return True

    def _m_setWebhook(self, params: JSONDict) -> bool:
        self._webhook_url = str(params.get("url") or "")
        if params.get("drop_pending_updates") is True:
            self._pending = []
        return True

    def _m_getWebhookInfo(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook_error is not None:
            info["last_error_message"], info["last_error_date"] = self._webhook_error
        return info

    def _m_logOut(self, params: JSONDict) -> bool:
        return True

    def _m_close(self, params: JSONDict) -> bool:
        return True

    def _m_sendMessage(self, params: JSONDict) -> JSONDict:
        chat_id = self._require_chat(params)
        if "text" not in params:
            raise _bad_request("message text is empty")
        text = self._visible_text(params.get("text"), params.get("parse_mode"))
        markup = self._inline_markup(params)
        message = self._new_message(
            chat_id,
            self.bot_user,
            self._thread_id(params),
            text=text,
            reply_markup=markup,
            reply_to_message=self._reply_to(chat_id, params),
        )
        self._store(message)
        key = (chat_id, message["message_id"])
        self._signatures[key] = (params.get("text"), params.get("parse_mode"), markup)
        self._sent.append({**copy.deepcopy(params), "message_id": message["message_id"]})
        return message

    def _edit_target(
        self, params: JSONDict
    ) -> tuple[tuple[int | str, int] | None, JSONDict | None]:
        if params.get("inline_message_id"):
            return None, None
        chat_id = self._require_chat(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _bad_request("message identifier is not specified")
        key = (chat_id, message_id)
        message = self._messages.get(key)
        if message is None:
            raise _bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.BOT_ID:
            raise _bad_request("message can't be edited")
        return key, message

    def _finish_edit(
        self, method: str, params: JSONDict, key: Any, message: JSONDict | None, signature: Any
    ) -> JSONDict | bool:
        if key is not None and message is not None:
            if self._signatures.get(key) == signature:
                raise ApiError(400, _NOT_MODIFIED)
            self._signatures[key] = signature
            message["edit_date"] = int(time.time())
            self._messages[key] = message
        self._edits.append({**copy.deepcopy(params), "method": method})
        return copy.deepcopy(message) if message is not None else True

    def _m_editMessageText(self, params: JSONDict) -> JSONDict | bool:
        key, message = self._edit_target(params)
        text = self._visible_text(params.get("text"), params.get("parse_mode"))
        markup = self._inline_markup(params)
        if message is not None:
            message = copy.deepcopy(message)
            message["text"] = text
            message.pop("reply_markup", None)
            if markup is not None:
                message["reply_markup"] = markup
        signature = (params.get("text"), params.get("parse_mode"), markup)
        return self._finish_edit("editMessageText", params, key, message, signature)

    def _m_editMessageReplyMarkup(self, params: JSONDict) -> JSONDict | bool:
        key, message = self._edit_target(params)
        markup = self._inline_markup(params)
        signature: Any = None
        if message is not None and key is not None:
            message = copy.deepcopy(message)
            message.pop("reply_markup", None)
            if markup is not None:
                message["reply_markup"] = markup
            old = self._signatures.get(key, (message.get("text"), None, None))
            signature = (*old[:2], markup)
        return self._finish_edit("editMessageReplyMarkup", params, key, message, signature)

    def _m_editMessageCaption(self, params: JSONDict) -> JSONDict | bool:
        key, message = self._edit_target(params)
        caption = self._visible_text(
            params.get("caption"), params.get("parse_mode"), what="caption"
        )
        markup = self._inline_markup(params)
        if message is not None:
            message = copy.deepcopy(message)
            message["caption"] = caption
            message.pop("reply_markup", None)
            if markup is not None:
                message["reply_markup"] = markup
        signature = ("caption", params.get("caption"), params.get("parse_mode"), markup)
        return self._finish_edit("editMessageCaption", params, key, message, signature)

    def _m_answerCallbackQuery(self, params: JSONDict) -> bool:
        if not params.get("callback_query_id"):
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._answers.append(copy.deepcopy(params))
        return True

    def _m_sendChatAction(self, params: JSONDict) -> bool:
        self._require_chat(params)
        if not params.get("action"):
            raise _bad_request("wrong parameter action in request")
        return True

    def _send_media(self, params: JSONDict, method: str, field_name: str) -> JSONDict:
        chat_id = self._require_chat(params)
        media = params.get(field_name)
        if media is None or media == "":
            raise _bad_request(f"there is no {field_name} in the request")
        caption = None
        if params.get("caption") is not None:
            caption = self._visible_text(
                params["caption"], params.get("parse_mode"), what="caption"
            )
        markup = self._inline_markup(params)
        content = media["content"] if isinstance(media, dict) else str(media).encode()
        file_id, unique = self._register_file(field_name, content, "bin")
        if field_name == "photo":
            obj: Any = [{"file_id": file_id, "file_unique_id": unique, "width": 800, "height": 600}]
        else:
            obj = {"file_id": file_id, "file_unique_id": unique}
            if isinstance(media, dict):
                obj["file_name"] = media["filename"]
        message = self._new_message(
            chat_id,
            self.bot_user,
            self._thread_id(params),
            caption=caption or None,
            reply_markup=markup,
            **{field_name: obj},
        )
        self._store(message)
        self._sent_media.append(
            {**copy.deepcopy(params), "method": method, "message_id": message["message_id"]}
        )
        return message

    def _m_sendPhoto(self, params: JSONDict) -> JSONDict:
        return self._send_media(params, "sendPhoto", "photo")

    def _m_sendDocument(self, params: JSONDict) -> JSONDict:
        return self._send_media(params, "sendDocument", "document")

    def _copy(self, params: JSONDict, method: str) -> JSONDict:
        chat_id = self._require_chat(params)
        from_chat = _norm_chat_id(params.get("from_chat_id"))
        message_id = params.get("message_id")
        if from_chat is None or not isinstance(message_id, int):
            raise _bad_request("message to copy not found")
        source = self._messages.get((from_chat, message_id))
        if source is None:
            raise _bad_request("message to copy not found")
        content = {
            k: copy.deepcopy(v)
            for k, v in source.items()
            if k not in ("message_id", "from", "chat", "date", "message_thread_id", "edit_date")
            and k not in ("is_topic_message", "reply_to_message")
        }
        if method == "copyMessage":
            if "caption" in params:
                content["caption"] = params["caption"]
            markup = self._inline_markup(params)
            content.pop("reply_markup", None)
            if markup is not None:
                content["reply_markup"] = markup
        else:
            content["forward_origin"] = {
                "type": "user",
                "date": source["date"],
                "sender_user": source.get("from", self.bot_user),
            }
        message = self._new_message(chat_id, self.bot_user, self._thread_id(params), **content)
        self._store(message)
        self._copies.append(
            {
                **copy.deepcopy(params),
                "method": method,
                "message_id": message["message_id"],
                "source_message_id": message_id,
            }
        )
        return message

    def _m_copyMessage(self, params: JSONDict) -> JSONDict:
        return {"message_id": self._copy(params, "copyMessage")["message_id"]}

    def _m_forwardMessage(self, params: JSONDict) -> JSONDict:
        return self._copy(params, "forwardMessage")

    def _forum_chat(self, params: JSONDict) -> int | str:
        chat_id = self._require_chat(params)
        if not self._chat(chat_id).get("is_forum"):
            raise _bad_request("the chat is not a forum")
        return chat_id

    def _topic(self, params: JSONDict) -> JSONDict:
        chat_id = self._forum_chat(params)
        thread = self._thread_id(params)
        topic = self._topics.get((chat_id, thread or 0))
        if topic is None:
            raise _bad_request("TOPIC_ID_INVALID")
        return topic

    def _m_createForumTopic(self, params: JSONDict) -> JSONDict:
        chat_id = self._forum_chat(params)
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise _bad_request("TOPIC_NAME_INVALID" if name else "topic name is empty")
        thread_id = self._next_message_id(chat_id)  # topics are identified by a service message
        color = params.get("icon_color", self.DEFAULT_ICON_COLOR)
        result: JSONDict = {"message_thread_id": thread_id, "name": name, "icon_color": color}
        if params.get("icon_custom_emoji_id"):
            result["icon_custom_emoji_id"] = params["icon_custom_emoji_id"]
        self._topics[(chat_id, thread_id)] = {**result, "chat_id": chat_id, "closed": False}
        return result

    def _m_editForumTopic(self, params: JSONDict) -> bool:
        topic = self._topic(params)
        if params.get("name"):
            topic["name"] = params["name"]
        if "icon_custom_emoji_id" in params:
            topic["icon_custom_emoji_id"] = params["icon_custom_emoji_id"]
        return True

    def _m_closeForumTopic(self, params: JSONDict) -> bool:
        topic = self._topic(params)
        if topic["closed"]:
            raise _bad_request("TOPIC_NOT_MODIFIED")
        topic["closed"] = True
        return True

    def _m_reopenForumTopic(self, params: JSONDict) -> bool:
        topic = self._topic(params)
        if not topic["closed"]:
            raise _bad_request("TOPIC_NOT_MODIFIED")
        topic["closed"] = False
        return True

    def _m_getChat(self, params: JSONDict) -> JSONDict:
        chat = copy.deepcopy(self._chat(self._require_chat(params)))
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _m_getChatMember(self, params: JSONDict) -> JSONDict:
        chat_id = self._require_chat(params)
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise _bad_request("invalid user_id specified")
        chat = self._chat(chat_id)
        info = self._chats[chat_id]
        if user_id == self.BOT_ID:
            user, status = self.bot_user, info.members.get(user_id, "administrator")
        else:
            user = self._users.get(user_id, {"id": user_id, "is_bot": False, "first_name": "User"})
            status = info.members.get(user_id) or (
                "member" if chat["type"] == "private" and chat["id"] == user_id else "left"
            )
        member = self._member_obj(user, status)
        if status == "administrator":
            member.update(info.rights.get(user_id, {}))
        return member

    def _m_setMyCommands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("commands must be an array")
        for cmd in commands:
            if not isinstance(cmd, dict) or not _BOT_COMMAND_RE.match(str(cmd.get("command"))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description") or "")) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = copy.deepcopy(commands)
        return True

    def _m_deleteMyCommands(self, params: JSONDict) -> bool:
        self._commands.pop(
            self._commands_key(params.get("scope"), params.get("language_code")), None
        )
        return True

    def _m_getMyCommands(self, params: JSONDict) -> list[JSONDict]:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    def _m_getFile(self, params: JSONDict) -> JSONDict:
        file_id = str(params.get("file_id") or "")
        if file_id not in self._files:
            raise _bad_request("invalid file_id")
        path, content = self._files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_size": len(content),
            "file_path": path,
        }
