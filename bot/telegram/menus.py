"""The command menus Telegram shows: the customers' (in each shipped language), the team's
in its chat, and the admins' own (``setMyCommands`` with a scope and a language)."""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeChatMember,
)
from telegram.error import TelegramError
from telegram.ext import ExtBot

from flows.turn import Services
from knowledge.responses import Responses, Say

log = logging.getLogger(__name__)

# The customers' menu, described in each shipped language (Telegram shows the one matching
# the app's language, else the default language's).
CUSTOMER_MENU = (
    ("start", Say.MENU_START),
    ("status", Say.MENU_STATUS),
    ("cancel", Say.MENU_CANCEL),
    ("language", Say.MENU_LANGUAGE),
    ("help", Say.MENU_HELP),
)


def customer_commands(responses: Responses) -> list[BotCommand]:
    return [BotCommand(name, responses.label(key)) for name, key in CUSTOMER_MENU]


# What agents see in the team's chat (flows.desk).
TEAM_COMMANDS = [
    BotCommand("take", "Assign this request to me"),
    BotCommand("note", "An internal note (the customer does not see it)"),
    BotCommand("resolve", "Solved: tell the customer, close the topic"),
    BotCommand("close", "Close without asking the customer again"),
    BotCommand("approve", "Approve the pending replacement"),
    BotCommand("deny", "Deny the pending replacement: /deny reason"),
    BotCommand("fix", "Send a knowledge entry's fix: /fix ENTRY_ID"),
    BotCommand("queue", "Who is waiting, oldest first"),
]

# What admins (ADMIN_IDS) see besides, in their private chat and in the team's chat (bot.admin).
ADMIN_COMMANDS = [
    BotCommand("stats", "Headline figures: /stats 30d"),
    BotCommand("unmatched", "Questions the knowledge missed, grouped"),
    BotCommand("reload", "Reload the knowledge files now"),
]


async def set_menus(
    bot: ExtBot[Any], services: Services, agent_chat_id: int | None, admin_ids: Collection[int]
) -> None:
    """Every menu; one Telegram refuses is logged and skipped (a nicety, not a need)."""
    private = BotCommandScopeAllPrivateChats()
    menus: list[tuple[list[BotCommand], BotCommandScope, str | None]] = [
        (customer_commands(services.responses), private, None)
    ]
    if agent_chat_id is not None:
        menus.append((TEAM_COMMANDS, BotCommandScopeChat(agent_chat_id), None))
    catalogue = services.catalogue
    if catalogue is not None:
        for code in catalogue.languages:
            menus.append((customer_commands(catalogue.for_language(code)), private, code))
    for admin in admin_ids:  # a chat's own menu wins over every private chat's
        menus.append(
            (
                customer_commands(services.responses) + ADMIN_COMMANDS,
                BotCommandScopeChat(admin),
                None,
            )
        )
        if agent_chat_id is not None:
            member = BotCommandScopeChatMember(agent_chat_id, admin)
            menus.append((TEAM_COMMANDS + ADMIN_COMMANDS, member, None))
    for commands, scope, language in menus:
        try:
            await bot.set_my_commands(commands, scope=scope, language_code=language)
        except TelegramError as exc:  # a nicety: the menu of commands
            log.info("setMyCommands failed: %s", exc)
