"""The throughput benchmark's ceiling: a bare python-telegram-bot echo bot.

One ``Application`` with one ``MessageHandler`` that answers every text with the same text,
long polling with PTB's defaults (updates handled one at a time). Nothing is stored, nothing
is matched: what is left is PTB's own cost per update and one ``sendMessage``.

Run as ``python -m benchmarks.echo_bot run`` (the argument mirrors ``python -m bot run``, so
the e2e ``BotProcess`` can start it); it reads ``TELEGRAM_BOT_TOKEN`` and
``TELEGRAM_BASE_URL`` from the environment, as the bot does.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


def main() -> None:
    builder = Application.builder().token(os.environ["TELEGRAM_BOT_TOKEN"])
    base_url = os.environ.get("TELEGRAM_BASE_URL", "")
    if base_url:
        builder = builder.base_url(base_url)
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    timeout = int(os.environ.get("POLL_TIMEOUT", "10"))
    app.run_polling(timeout=timeout, allowed_updates=["message"])


if __name__ == "__main__":
    main()
