"""`supportbot agents ...`: who may use the agent commands, managed from the command line.

Agents are numeric Telegram user ids: a @username can be given up and taken by someone else.
Admins (``ADMIN_IDS``) are agents too without being stored (``flows.agents.may_act``).
Every add and remove writes an audit row whose actor is empty: the command line.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from bot.clock import system_clock
from bot.settings import Settings
from bot.storage import SqlUnitOfWork, make_engine, upgrade
from flows.model import Agent, AuditEntry, UserId

# Telegram: a user id "has at most 52 significant bits".
USER_ID_LIMIT = 2**52
NAME_LIMIT = 256  # the agent.name column
FIND_YOUR_ID = "they can get theirs by messaging @userinfobot"


class _Refused(ValueError):
    """A bad argument: one line for the person at the terminal, exit status 2."""


def add_parsers(agents: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``agents add``, ``remove`` and ``list``, in the ``agents`` group."""
    add_ = agents.add_parser("add", help="add an agent by numeric Telegram user id, or rename one")
    add_.add_argument("user_id", metavar="ID", help="numeric Telegram user id, e.g. 123456789")
    add_.add_argument("--name", help="how the team knows them")
    add_.set_defaults(handler=add)
    remove_ = agents.add_parser("remove", help="stop an agent using the agent commands")
    remove_.add_argument("user_id", metavar="ID", help="numeric Telegram user id")
    remove_.set_defaults(handler=remove)
    agents.add_parser("list", help="agents and admins").set_defaults(handler=list_agents)


def parse_user_id(text: str) -> UserId:
    """A Telegram user id from the command line; ``_Refused`` says what is wrong with it."""
    value = text.strip()
    if re.fullmatch(r"[0-9]+", value):
        number = int(value)
        if 0 < number < USER_ID_LIMIT:
            return UserId(number)
        raise _Refused(f"{text!r} is not a Telegram user id: they are between 1 and 2^52")
    if re.fullmatch(r"-[0-9]+", value):
        raise _Refused(
            f"{text!r} is a group or channel id; an agent is a person: give their numeric"
            f" user id ({FIND_YOUR_ID})"
        )
    if value.startswith("@") or value[:1].isalpha():
        raise _Refused(
            f"{text!r} looks like a username, and usernames can change hands: give the"
            f" numeric Telegram user id instead ({FIND_YOUR_ID})"
        )
    raise _Refused(f"{text!r} is not a Telegram user id: expected a number such as 123456789")


def _name(text: str | None) -> str | None:
    if text is None:
        return None
    name = text.strip()
    if not name:
        raise _Refused(
            "--name is empty: give the name the team knows them by, or leave --name out"
            " (an agent keeps the name they have)"
        )
    if len(name) > NAME_LIMIT:
        raise _Refused(f"--name is {len(name)} characters long; at most {NAME_LIMIT}")
    if any(not char.isprintable() for char in name):
        raise _Refused("--name must be one line of printable text")
    return name


def add(args: argparse.Namespace, settings: Settings) -> int:
    """Add an agent, or rename one; without ``--name`` an agent keeps the name they have."""
    try:
        user_id = parse_user_id(args.user_id)
        name = _name(args.name)
    except _Refused as exc:
        return _refuse(exc)
    now = system_clock().now()
    with _unit_of_work(settings) as uow:
        before = uow.agents.get(user_id)
        if name is None:
            name = before.name if before is not None else ""
        uow.agents.add(Agent(user_id, name), now)
        if before is None:
            said = f"added agent {_who(user_id, name)}"
        elif before.name != name:
            said = f"{_who(user_id, before.name)} is already an agent; renamed to {name!r}"
        else:
            said = f"{_who(user_id, name)} is already an agent; nothing changed"
        uow.audit.add(AuditEntry(at=now, action="agents.add", allowed=True, detail=said))
        uow.commit()
    print(said)
    return 0


def remove(args: argparse.Namespace, settings: Settings) -> int:
    """Remove an agent (the row stays, marked removed, for the audit's sake)."""
    try:
        user_id = parse_user_id(args.user_id)
    except _Refused as exc:
        return _refuse(exc)
    now = system_clock().now()
    with _unit_of_work(settings) as uow:
        before = uow.agents.get(user_id)
        removed = uow.agents.remove(user_id, now)
        if before is not None and removed:
            said = f"removed agent {_who(user_id, before.name)}"
        else:
            said = f"{user_id} is not an agent; nothing removed"
        uow.audit.add(AuditEntry(at=now, action="agents.remove", allowed=True, detail=said))
        uow.commit()
    out = sys.stdout if removed else sys.stderr
    print(said if removed else f"supportbot: {said}", file=out)
    if user_id in settings.admin_ids:
        print(f"note: {user_id} is an admin (ADMIN_IDS), and admins act as agents too", file=out)
    return 0 if removed else 1


def list_agents(args: argparse.Namespace, settings: Settings) -> int:
    """The current agents as an aligned table, then the admins."""
    with _unit_of_work(settings) as uow:
        agents = uow.agents.list()
    if agents:
        print(_table(agents))
    else:
        print("No agents yet. Add one with: supportbot agents add ID --name NAME")
    if settings.admin_ids:
        admins = ", ".join(str(admin) for admin in settings.admin_ids)
        print(f"\nAdmins (ADMIN_IDS), who are agents too: {admins}")
    return 0


def _table(agents: Sequence[Agent]) -> str:
    rows = [("USER ID", "NAME", "ADDED (UTC)", "BY")]
    for agent in agents:
        added = agent.added_at.strftime("%Y-%m-%d %H:%M") if agent.added_at else ""
        by = str(agent.added_by) if agent.added_by is not None else "command line"
        rows.append((str(agent.user_id), agent.name or "-", added, by))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _who(user_id: int, name: str) -> str:
    return f"{user_id} ({name})" if name else str(user_id)


def _refuse(exc: _Refused) -> int:
    print(f"supportbot: {exc}", file=sys.stderr)
    return 2


@contextmanager
def _unit_of_work(settings: Settings) -> Iterator[SqlUnitOfWork]:
    """One transaction on the configured database, migrated first (as ``run`` does), so
    agents can be added before the bot's first start."""
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with SqlUnitOfWork(engine) as uow:
            yield uow
    finally:
        engine.dispose()
