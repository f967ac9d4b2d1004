"""What ``/metrics`` shows: this process's counters and the queues' depths, as Prometheus text.

Counters live on the objects that count (the poller, the webhook, the worker, the Bot API
client); ``collect`` reads them and, in one short transaction, how many updates and messages
wait in the database (shared by every replica: the same figure on each). The text format is
written here: a dozen fixed names whose only labels are fixed words, so there is nothing to
escape, and no client library is worth a dependency for that.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

from telegram.error import TelegramError
from telegram.request import HTTPXRequest

# the Bot API methods that put a message in a chat
SENDING = frozenset({"sendmessage", "copymessage", "forwardmessage", "sendphoto", "senddocument"})


@dataclass(frozen=True)
class Metric:
    name: str
    kind: Literal["counter", "gauge"]
    help: str
    samples: tuple[tuple[dict[str, str], float], ...]


def metric(name: str, kind: Literal["counter", "gauge"], help: str, value: float) -> Metric:
    return Metric(name, kind, help, (({}, value),))


def render(metrics: Iterable[Metric]) -> str:
    """The Prometheus text exposition format (version 0.0.4)."""
    lines = []
    for m in metrics:
        lines.append(f"# HELP {m.name} {m.help}")
        lines.append(f"# TYPE {m.name} {m.kind}")
        for labels, value in m.samples:
            shown = ",".join(f'{key}="{text}"' for key, text in sorted(labels.items()))
            lines.append(f"{m.name}{{{shown}}} {value:g}" if shown else f"{m.name} {value:g}")
    return "\n".join(lines) + "\n"


@dataclass
class BotApiCounts:
    """Calls to the Bot API by this process, counted where they go over the wire."""

    requests: int = 0
    sent: int = 0  # messages put in a chat (sendMessage, copyMessage, ...)
    too_many: int = 0  # 429: Telegram asked to slow down
    errors: int = 0  # every other refusal or failure, network errors included


class CountingRequest(HTTPXRequest):
    """python-telegram-bot's HTTP client, counting each call and how it ended."""

    def __init__(self, counts: BotApiCounts, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.counts = counts

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        self.counts.requests += 1
        try:
            code, body = await super().do_request(url, method, *args, **kwargs)
        except TelegramError:  # a network error or a timeout
            self.counts.errors += 1
            raise
        if code == HTTPStatus.TOO_MANY_REQUESTS:
            self.counts.too_many += 1
        elif code >= HTTPStatus.BAD_REQUEST:
            self.counts.errors += 1
        elif url.rsplit("/", 1)[-1].lower() in SENDING:
            self.counts.sent += 1
        return code, body


@dataclass
class WebhookCounts:
    """What the webhook answered, by HTTP status, and what it stored."""

    stored: int = 0  # new updates put in the inbox
    duplicates: int = 0  # an update_id stored before (Telegram retried)
    answers: Counter[int] = field(default_factory=Counter)


Source = Callable[[], list[Metric]]


@dataclass(frozen=True)
class Sending:
    """The sender's figures: rows sent, their total wait from queued to sent, given up."""

    sent: int
    latency_sum: float
    stale: int
    polling: bool  # this replica is the one polling Telegram


def counters(
    *,
    stored: int,
    handled: int,
    failed: int,
    api: BotApiCounts | None,
    sending: Sending | None = None,
) -> list[Metric]:
    """The process's own counters: updates stored and handled, its sends, its Bot API calls."""
    found = [
        metric(
            "supportbot_updates_stored_total",
            "counter",
            "New updates this process stored in the inbox (polling or webhook).",
            stored,
        ),
        metric(
            "supportbot_updates_handled_total",
            "counter",
            "Updates this process finished handling (set-aside ones included).",
            handled,
        ),
        metric(
            "supportbot_updates_failed_total",
            "counter",
            "Updates set aside after failing with a bug (the customer got an apology).",
            failed,
        ),
    ]
    if sending is not None:
        found += [
            metric(
                "supportbot_send_latency_seconds_sum",
                "counter",
                "Seconds from queued to sent, summed over the messages this process sent"
                " (divide by supportbot_send_latency_seconds_count for the mean).",
                round(sending.latency_sum, 3),
            ),
            metric(
                "supportbot_send_latency_seconds_count",
                "counter",
                "Outbox rows this process sent.",
                sending.sent,
            ),
            metric(
                "supportbot_messages_given_up_total",
                "counter",
                "Replies given up unsent, older than SEND_STALE_AFTER.",
                sending.stale,
            ),
            metric(
                "supportbot_polling",
                "gauge",
                "1 if this replica is the one polling Telegram (long polling), else 0.",
                int(sending.polling),
            ),
        ]
    if api is None:
        return found
    return [
        *found,
        metric(
            "supportbot_telegram_requests_total",
            "counter",
            "Bot API calls (getUpdates aside).",
            api.requests,
        ),
        metric(
            "supportbot_messages_sent_total",
            "counter",
            "Messages put in a chat (sendMessage, copyMessage, ...).",
            api.sent,
        ),
        metric(
            "supportbot_telegram_429_total",
            "counter",
            "Bot API calls answered 429 (Telegram asked to slow down).",
            api.too_many,
        ),
        metric(
            "supportbot_telegram_errors_total",
            "counter",
            "Bot API calls that failed otherwise (refused, network, 5xx).",
            api.errors,
        ),
    ]
