"""The throughput benchmark's ceiling: a bare python-telegram-bot echo bot.

One ``Application`` with one ``MessageHandler`` that answers every text with the same text,
long polling with PTB's defaults (updates handled one at a time). Nothing is stored, nothing
is matched: what is left is PTB's own cost per update and one ``sendMessage``.

With ``ECHO_PACED=1`` it keeps Telegram's limits the way python-telegram-bot documents it,
with ``AIORateLimiter`` (30 messages a second in all): the same sends at the pace a real
bot must keep, so its CPU per update is what PTB costs when replies are paced, as ours are.
(A send costs more CPU paced than in a burst: caches and the event loop go cold between
sends; on this machine a bare ``send_message`` took 0.9 ms of CPU back to back and 2.1 ms
20 ms apart.)

Run as ``python -m benchmarks.echo_bot run`` (the argument mirrors ``python -m bot run``, so
the e2e ``BotProcess`` can start it); it reads ``TELEGRAM_BOT_TOKEN`` and
``TELEGRAM_BASE_URL`` from the environment, as the bot does.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import AIORateLimiter, Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


def main() -> None:
    builder = Application.builder().token(os.environ["TELEGRAM_BOT_TOKEN"])
    base_url = os.environ.get("TELEGRAM_BASE_URL", "")
    if base_url:
        builder = builder.base_url(base_url)
    if os.environ.get("ECHO_PACED") == "1":
        builder = builder.rate_limiter(AIORateLimiter())  # type: ignore[arg-type]  # (PTB stubs)
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    timeout = int(os.environ.get("POLL_TIMEOUT", "10"))
    app.run_polling(timeout=timeout, allowed_updates=["message"])


if __name__ == "__main__":
    main()
