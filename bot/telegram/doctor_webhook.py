"""``supportbot doctor`` on the webhook: will Telegram post to WEBHOOK_URL, and does it?

The settings already refuse a WEBHOOK_URL that is not an http(s) URL with a host and a valid
port, or that ends in an operations path, and a WEBHOOK_SECRET that is missing or not 1-256
of A-Z a-z 0-9 _ - (doctor's "settings" line fails naming it, never showing the value); none
of that is judged again here. What is: Telegram's own servers post only to https:// on port
443, 80, 88 or 8443 at a public address, so anything else fails with them; a Bot API server
of your own (``TELEGRAM_BASE_URL``) allows it when started with ``--local``, so there it is a
warning. Then ``getWebhookInfo``: which URL Telegram posts to, how many updates wait, and its
last failed delivery.

What the checks say the bot does is what it does: ``supportbot run`` in webhook mode sets the
webhook to WEBHOOK_URL (``setWebhook``) at every start and leaves it set when it stops; in
polling mode it deletes a webhook still set before its first ``getUpdates`` (which Telegram
refuses with 409 while one is), keeping the waiting updates (``Poller``).
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from telegram import Bot
from telegram.error import BadRequest, NetworkError, TelegramError

from bot.telegram.doctor import Check, Status, unreachable

TELEGRAM_HOST = "api.telegram.org"
PORTS = (443, 80, 88, 8443)  # the ports Telegram's servers post webhooks to
RECENT = timedelta(hours=1)  # a failed delivery this recent is a warning


# ---- judging (pure) ----------------------------------------------------------------------


def judge_webhook_url(url: str, *, base_url: str) -> Check:
    """Whether Telegram can post to ``url`` (WEBHOOK_URL, valid as the settings read it)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    problems = []
    if parts.scheme != "https":
        problems.append("is http://, not https://")
    if port not in PORTS:
        problems.append(f"uses port {port}")
    if not _public(parts.hostname or ""):
        problems.append(f"names {parts.hostname}, not a public address")
    if not problems:
        return Check(
            "webhook URL",
            Status.OK,
            f"{url} is https on port {port}, which Telegram posts to, and WEBHOOK_SECRET is set",
        )
    wrong = " and ".join([", ".join(problems[:-1]), problems[-1]] if problems[1:] else problems)
    rule = "https:// on port 443, 80, 88 or 8443 at a public address"
    if urlsplit(base_url).hostname == TELEGRAM_HOST:
        return Check(
            "webhook URL",
            Status.FAIL,
            f"WEBHOOK_URL {wrong}, but Telegram posts only to {rule}: put the bot behind a"
            " reverse proxy with a TLS certificate on one of those ports (see Deployment in"
            " the README) and set WEBHOOK_URL to its public https:// address",
        )
    return Check(
        "webhook URL",
        Status.WARN,
        f"WEBHOOK_URL {wrong}: your Bot API server (TELEGRAM_BASE_URL) posts there only when"
        f" started with --local, so start it so, or make WEBHOOK_URL {rule} as Telegram's own"
        " servers need",
    )


def judge_webhook(webhook_url: str, telegram_url: str, pending: int) -> Check:
    """What ``getWebhookInfo`` said about the URL, against WEBHOOK_URL ("" when polling)."""
    if not webhook_url:
        kept = f" (keeping the {_waiting(pending)})" if pending else ""
        if not telegram_url:
            return Check(
                "webhook",
                Status.OK,
                f"none set, so the bot can long-poll for updates ({_waiting(pending)})",
            )
        return Check(
            "webhook",
            Status.WARN,
            f"Telegram posts updates to {telegram_url}, but WEBHOOK_URL is not set:"
            " supportbot run deletes that webhook when it starts and long-polls instead"
            f"{kept}, so set WEBHOOK_URL and WEBHOOK_SECRET here if you meant webhook mode, or"
            " stop the deployment that set it",
        )
    if telegram_url == webhook_url:
        return Check("webhook", Status.OK, "Telegram posts updates to WEBHOOK_URL")
    if not telegram_url:
        return Check(
            "webhook",
            Status.WARN,
            "Telegram has no webhook for this bot yet, so no update reaches WEBHOOK_URL:"
            f" supportbot run sets it when it starts ({_waiting(pending)})",
        )
    return Check(
        "webhook",
        Status.WARN,
        f"Telegram posts updates to {telegram_url}, not to WEBHOOK_URL: supportbot run sets"
        " WEBHOOK_URL in its place when it starts; if another deployment of this bot set that"
        " URL, stop that one first, or each start takes the webhook from the other",
    )


def judge_delivery(
    pending: int, error: str | None, error_date: datetime | None, *, now: datetime
) -> Check:
    """Telegram's last failed post to WEBHOOK_URL: a warning while recent."""
    if error_date is None:
        return Check(
            "webhook delivery",
            Status.OK,
            f"no failed delivery reported ({_waiting(pending)})",
        )
    age = max(now - error_date, timedelta(0))
    said = f'"{error or "no reason given"}"'
    if age <= RECENT:
        return Check(
            "webhook delivery",
            Status.WARN,
            f"Telegram's last post to WEBHOOK_URL failed {_ago(age)} ago with {said}"
            f" ({_waiting(pending)}): check that supportbot run is up and that your reverse"
            " proxy passes WEBHOOK_URL on to WEBHOOK_LISTEN with a valid TLS certificate",
        )
    return Check(
        "webhook delivery",
        Status.OK,
        f"no failed delivery in the last hour; the last was {_ago(age)} ago with {said}"
        f" ({_waiting(pending)})",
    )


def _public(host: str) -> bool:
    """False for localhost and an IP address Telegram's servers cannot reach."""
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:  # a domain name: what it resolves to is Telegram's to find out
        return True


def _waiting(pending: int) -> str:
    if pending == 0:
        return "no update waiting"
    return f"{pending} update{'' if pending == 1 else 's'} waiting"


def _ago(age: timedelta) -> str:
    minutes = round(age.total_seconds() / 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 120:
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    hours = round(minutes / 60)
    return f"{hours} hours" if hours < 48 else f"{round(hours / 24)} days"


# ---- asking Telegram -------------------------------------------------------------------


async def check_webhook(bot: Bot, webhook_url: str, *, base_url: str, now: datetime) -> list[Check]:
    """WEBHOOK_URL (when set), then ``getWebhookInfo``; ``bot`` is initialized."""
    checks = [judge_webhook_url(webhook_url, base_url=base_url)] if webhook_url else []
    try:
        info = await bot.get_webhook_info()
    except TelegramError as exc:
        if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):  # BadRequest is one
            return [*checks, unreachable(base_url, exc)]
        return [
            *checks,
            Check(
                "webhook",
                Status.WARN,
                f"getWebhookInfo was refused ({exc.message}), so where Telegram posts updates"
                " is unknown: run supportbot doctor again in a minute",
            ),
        ]
    pending = info.pending_update_count
    checks.append(judge_webhook(webhook_url, info.url, pending))
    if webhook_url and info.url == webhook_url:
        error_date = info.last_error_date
        checks.append(judge_delivery(pending, info.last_error_message, error_date, now=now))
    return checks
