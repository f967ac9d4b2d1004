"""The ``supportbot`` command.

supportbot                 Telegram when TELEGRAM_BOT_TOKEN is set, else the terminal chat
supportbot run             serve customers in Telegram (long polling)
supportbot chat            the same conversation in this terminal
supportbot doctor          check the settings, database, knowledge and Telegram set-up
supportbot kb validate     check the knowledge files; names file › entry › field
supportbot kb match TEXT   ranked candidates with scores and the band
supportbot kb test [DIR]   every tests: phrasing through the bot's matcher; exit 1 on a miss
supportbot kb suggestions [--apply IDS|all] [--reject IDS]   proposed symptoms
supportbot report [--since 7d] [--json] [--html FILE]   figures, charts, unmatched questions
supportbot db upgrade      create or migrate the database
supportbot agents add ID [--name NAME]   let a person use the agent commands
supportbot agents remove ID              take that away again
supportbot agents list     the agents, and the admins (ADMIN_IDS), who are agents too
supportbot export --since 30d --format csv|jsonl   tickets with their transcript
supportbot --version       the installed version
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import logging
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot import agents_cli, export_cli, kb_cli, logs, report_cli, suggestions_cli
from bot.app import make_matcher
from bot.settings import Settings, SettingsError, load_settings, parse_listen
from bot.storage import (
    StorageError,
    current_revision,
    hold_single_process,
    make_engine,
    schema_drift,
    upgrade,
)
from knowledge.loader import (
    KnowledgeBaseError,
    KnowledgeError,
    load_knowledge,
    validate_knowledge,
)
from knowledge.matcher import DEFAULT_THRESHOLDS

if TYPE_CHECKING:  # imported when used: the terminal chat loads no python-telegram-bot
    from bot.telegram.doctor import Check

log = logging.getLogger("supportbot")


class UsageError(Exception):
    """Something the person at the terminal can fix; printed without a traceback."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if isinstance(args.handler, _GroupHelp):  # before the settings: help needs none
        return args.handler()
    if args.handler is _doctor:  # a setting with a wrong value is one of its checks
        try:
            return int(_doctor())  # int(): mypy reads `_doctor` as Any after `is`
        except KeyboardInterrupt:
            return 130
    try:
        settings = load_settings()
        logs.configure(settings.log_level, settings.token, settings.secret)
        status = int(args.handler(args, settings))
        sys.stdout.flush()  # a reader that left shows here, not as Python exits
        return status
    except BrokenPipeError:  # `supportbot export | head`: the reader had what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush
        return 1  # as rich's tables do (Console.on_broken_pipe)
    except (SettingsError, UsageError, StorageError) as exc:
        print(f"supportbot: {exc}", file=sys.stderr)
        return 2
    except KnowledgeBaseError as exc:
        if not isinstance(exc, KnowledgeError):
            print(f"supportbot: {exc}", file=sys.stderr)
            return 2
        print(
            f"supportbot: the knowledge files have {len(exc.problems)} problem(s):", file=sys.stderr
        )
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


class _GroupHelp:
    """What ``supportbot kb``, ``db`` or ``agents`` does without a command: print the group's help
    on stderr and exit 2, as for any other incomplete command line. (Falling through to the
    default command would start the chat, or the Telegram bot when a token is set.)"""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self._parser = parser

    def __call__(self) -> int:
        self._parser.print_help(sys.stderr)
        return 2


def _version() -> str:
    try:
        return importlib.metadata.version("supportbot")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "(not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="supportbot", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.set_defaults(handler=_auto)
    sub = parser.add_subparsers(title="commands")
    sub.add_parser("run", help="serve customers in Telegram").set_defaults(handler=_run)
    chat = sub.add_parser("chat", help="the conversation in this terminal")
    chat.add_argument(
        "--lang",
        metavar="CODE",
        help="the customer's language, as Telegram would send it (ru, es, ...); "
        "default: DEFAULT_LANGUAGE",
    )
    chat.set_defaults(handler=_chat)
    sub.add_parser(
        "doctor", help="check the settings, database, knowledge and Telegram set-up"
    ).set_defaults(handler=_doctor)

    kb_group = sub.add_parser("kb", help="knowledge files")
    kb_group.set_defaults(handler=_GroupHelp(kb_group))
    kb = kb_group.add_subparsers(title="kb commands")
    validate = kb.add_parser("validate", help="check the knowledge files")
    validate.add_argument(
        "--knowledge", type=Path, help="folder of *.yaml files (default KNOWLEDGE_DIR)"
    )
    validate.set_defaults(handler=kb_cli.validate)
    match = kb.add_parser("match", help="how a phrase matches; one query a line on stdin")
    match.add_argument("text", nargs="?", help="the phrase; omit to read stdin")
    match.add_argument(
        "--knowledge", type=Path, help="folder of *.yaml files (default KNOWLEDGE_DIR)"
    )
    match.add_argument("--top", type=int, default=3, help="candidates to show (default 3)")
    match.add_argument("--json", action="store_true", help="one JSON object a line")
    match.add_argument(
        "--lang", metavar="CODE", help="match as a customer writing this language (ru, es, ...)"
    )
    match.set_defaults(handler=kb_cli.match)
    test = kb.add_parser(
        "test", help="every tests: phrasing through the bot's matcher: a pass/fail table"
    )
    test.add_argument(
        "directory", metavar="DIR", nargs="?", type=Path, help="default KNOWLEDGE_DIR"
    )
    test.add_argument("--json", action="store_true", help="one JSON object: results, summary")
    test.set_defaults(handler=kb_cli.test)
    suggestions = kb.add_parser(
        "suggestions", help="customers' words proposed as symptoms: list, apply, reject"
    )
    suggestions.add_argument(
        "--apply", metavar="IDS", help="write these into the files: 3,5 or all"
    )
    suggestions.add_argument("--reject", metavar="IDS", help="drop these: 4,7 or all")
    suggestions.add_argument(
        "--all", action="store_true", help="list applied and rejected ones too"
    )
    suggestions.add_argument(
        "--knowledge", type=Path, help="folder of *.yaml files (default KNOWLEDGE_DIR)"
    )
    suggestions.set_defaults(handler=suggestions_cli.suggestions)

    report_cli.add_parser(sub)

    db_group = sub.add_parser("db", help="the database")
    db_group.set_defaults(handler=_GroupHelp(db_group))
    db = db_group.add_subparsers(title="db commands")
    db.add_parser("upgrade", help="create or migrate the schema").set_defaults(handler=_db_upgrade)

    agents_group = sub.add_parser("agents", help="who may use the agent commands")
    agents_group.set_defaults(handler=_GroupHelp(agents_group))
    agents_cli.add_parsers(agents_group.add_subparsers(title="agents commands"))
    export_cli.add_parser(sub)
    return parser


def _auto(args: argparse.Namespace, settings: Settings) -> int:
    if settings.token:
        return _run(args, settings)
    print(
        "No TELEGRAM_BOT_TOKEN set: starting the terminal chat (see README to connect Telegram).",
        file=sys.stderr,
    )
    return _chat(args, settings)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build
    from bot.telegram.channel import ChannelError, TelegramChannel, build_bot

    if not settings.token:
        raise UsageError("TELEGRAM_BOT_TOKEN is not set: get one from @BotFather (see README)")
    hold_single_process(settings.database_url)
    app = build(settings)
    bot = build_bot(settings.token, settings.telegram_base_url, settings.base_file_url)
    channel = TelegramChannel(
        bot=bot,
        new_uow=app.new_uow,
        conversations=app.conversations,
        desk=app.desk,
        responses=app.responses,
        clock=app.clock,
        agent_chat_id=settings.agent_chat_id,
        admin_ids=settings.admin_ids,
        poll_timeout=settings.poll_timeout,
        knowledge_watch=app.knowledge_watch,
        escalation=settings.escalation_on,
        base_url=settings.telegram_base_url,
        followups=app.followups,
        followup_rate=settings.followup_rate,
        send_stale_after=settings.send_stale_after,
        send_rate=settings.send_rate,
        poller_lock=app.poller_lock,
        sole_sender=settings.database_url.startswith("sqlite"),
        followup_lease=settings.followup_lease,
        # a test hook: freeze after claiming follow-ups, so a test can kill the process there
        hang_after_claim=os.environ.get("SUPPORTBOT_TEST_HANG_AFTER_CLAIM") == "1",
        admin=app.admin,
        webhook_url=settings.webhook_url,
        webhook_secret=settings.secret,
        listen=_listen(settings),
    )
    try:
        asyncio.run(channel.run())
    except ChannelError as exc:
        print(f"supportbot: {exc}", file=sys.stderr)
        return 1
    return 0


def _listen(settings: Settings) -> tuple[str, int] | None:
    """Where the HTTP server binds: WEBHOOK_LISTEN in webhook mode, else METRICS_LISTEN
    (None: no server)."""
    if settings.webhook:
        return parse_listen(settings.webhook_listen)
    return parse_listen(settings.metrics_listen) if settings.metrics_listen else None


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build
    from bot.console import Console

    app = build(settings)
    language = getattr(args, "lang", None) or settings.default_language
    Console(app, interactive=sys.stdin.isatty(), language=language).run(sys.stdin)
    return 0


def _doctor() -> int:
    """One line per check, ✓ ⚠ ✗ (– skipped); exit 1 when anything failed."""
    from bot.telegram.doctor import Check, Status

    try:
        settings = load_settings()
    except SettingsError as exc:
        _print_check(Check("settings", Status.FAIL, f"{exc}: fix it in .env or the environment"))
        return 1
    logs.configure(settings.log_level, settings.token, settings.secret)
    checks = [Check("settings", Status.OK, f"loaded (ESCALATION={settings.escalation})")]
    _print_check(checks[0])
    for local in (_database_check, _knowledge_check):
        checks.append(local(settings))
        _print_check(checks[-1], settings.token)
    for check in _telegram_checks(settings):
        checks.append(check)
        _print_check(check, settings.token)
    return 1 if any(check.status is Status.FAIL for check in checks) else 0


def _telegram_checks(settings: Settings) -> list[Check]:
    from bot.clock import system_clock
    from bot.telegram.channel import build_bot
    from bot.telegram.doctor import Check, Status, check_telegram

    if not settings.token:
        return [
            Check(
                "Telegram",
                Status.SKIP,
                "no TELEGRAM_BOT_TOKEN, so the token, the agent chat, the bot's rights there"
                " and the webhook are not checked; the terminal chat (supportbot chat) works"
                " without one",
            )
        ]
    bot = build_bot(settings.token, settings.telegram_base_url, settings.base_file_url)

    async def ask() -> list[Check]:
        try:
            return await check_telegram(
                bot,
                settings.agent_chat_id,
                escalation=settings.escalation_on,
                base_url=settings.telegram_base_url,
                webhook_url=settings.webhook_url,
                now=system_clock().now(),
            )
        finally:
            with contextlib.suppress(Exception):
                await bot.shutdown()

    return asyncio.run(ask())


def _database_check(settings: Settings) -> Check:
    from bot.telegram.doctor import Check, Status

    shown = re.sub(r"//[^/@]*@", "//…@", settings.database_url)  # no password
    try:
        engine = make_engine(settings.database_url)
    except StorageError as exc:
        return Check("database", Status.FAIL, f"{exc}: check DATABASE_URL")
    try:
        if current_revision(engine) is None:
            return Check(
                "database",
                Status.OK,
                f"{shown} opens; it has no tables yet, and supportbot run (or supportbot db"
                " upgrade) creates them",
            )
        if schema_drift(engine):
            return Check(
                "database",
                Status.OK,
                f"{shown} opens; its tables are behind, and supportbot run (or supportbot db"
                " upgrade) migrates them",
            )
        return Check("database", Status.OK, f"{shown} opens and is up to date")
    except Exception as exc:
        return Check("database", Status.FAIL, f"{shown} cannot be read: {logs.brief(exc)}")
    finally:
        engine.dispose()


def _knowledge_check(settings: Settings) -> Check:
    from bot.telegram.doctor import Check, Status
    from knowledge.responses import Responses

    directory = settings.knowledge_dir
    try:
        problems = validate_knowledge(
            directory,
            settings.thresholds(DEFAULT_THRESHOLDS),
            matcher_for=lambda knowledge: make_matcher(knowledge, settings),
        )
        if not problems:
            knowledge = load_knowledge(directory)
            Responses.load()
    except KnowledgeBaseError as exc:  # the responses catalogue, or a directory not there
        first = (getattr(exc, "problems", None) or [exc])[0]
        return Check("knowledge", Status.FAIL, f"{first}")
    if problems:
        return Check(
            "knowledge",
            Status.FAIL,
            f"{len(problems)} problem(s) in {directory}, the first: {problems[0]}; see them"
            " all with supportbot kb validate",
        )
    products = {entry.product for entry in knowledge}
    return Check(
        "knowledge",
        Status.OK,
        f"{len(knowledge)} entries, {len(products)} products in {directory}; the responses"
        " catalogue matches the code",
    )


def _print_check(check: Check, token: str | None = None) -> None:
    line = check.line()
    print(line.replace(token, "[token]") if token else line, flush=True)


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    upgrade(make_engine(settings.database_url))
    print("database is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
