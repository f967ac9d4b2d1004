"""The Telegram channel: the only package that imports python-telegram-bot.

PTB 22 hands out ``RetryAfter.retry_after`` as seconds and warns that it will become a
``timedelta``; the code here takes both, and opts in to the ``timedelta`` now.
"""

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")
