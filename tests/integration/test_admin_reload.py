"""``/reload`` on real files: it says what is in use, what changed, and what is broken."""

from __future__ import annotations

import asyncio
import functools
import html
from pathlib import Path

from sqlalchemy import Engine

from bot.admin import Admin, Request
from bot.clock import SystemClock
from bot.reload import KnowledgeWatch
from bot.storage import SqlUnitOfWork
from flows.turn import FlowSettings, Services
from knowledge.catalogue import Catalogue
from knowledge.matcher import DEFAULT_THRESHOLDS, Matcher
from knowledge.responses import Responses
from knowledge.schema import KnowledgeBase

KETTLE = """\
product: Kettle
entries:
  - id: kettle-cold
    title: Kettle does not heat
    symptoms: [my kettle does not heat]
    fix: Check the base.
"""
ADMIN = 4242


def admin_for(directory: Path, engine: Engine) -> tuple[Admin, list[KnowledgeBase]]:
    installed: list[KnowledgeBase] = []
    watch = KnowledgeWatch(directory)
    watch.load()
    watch.rebuild = lambda kb: Services(
        knowledge=kb,
        matcher=Matcher(kb),
        responses=Responses.load(),
        thresholds=DEFAULT_THRESHOLDS,
        settings=FlowSettings(),
    )
    watch.install = lambda services: installed.append(services.knowledge)
    admin = Admin(
        admin_ids={ADMIN},
        catalogue=Catalogue.load(),
        clock=SystemClock(),
        new_uow=functools.partial(SqlUnitOfWork, engine),
        watch=watch,
    )
    watch.on_problems = admin.tell_broken
    return admin, installed


def outbox(engine: Engine) -> list[tuple[int, str]]:
    with SqlUnitOfWork(engine) as uow:
        return [(m.chat_id, m.text) for m in uow.outbox.pending()]


def test_reload_says_unchanged_reloaded_and_broken(tmp_path: Path, engine: Engine) -> None:
    (tmp_path / "kettle.yaml").write_text(KETTLE, encoding="utf-8")
    admin, installed = admin_for(tmp_path, engine)
    reload = Request("reload", "", ADMIN, ADMIN)

    asyncio.run(admin.run(reload))
    (tmp_path / "kettle.yaml").write_text(KETTLE.replace("fix: Check the base.", ""), "utf-8")
    asyncio.run(admin.run(reload))
    (tmp_path / "more.yaml").write_text(KETTLE.replace("kettle-cold", "kettle-2"), "utf-8")
    (tmp_path / "kettle.yaml").write_text(KETTLE, encoding="utf-8")
    asyncio.run(admin.run(reload))

    texts = [text for chat, text in outbox(engine) if chat == ADMIN]
    assert "haven't changed since they were loaded. Entries in use: 1." in texts[0]
    # the broken edit: told once by the watch, and as /reload's answer; the old one in use
    assert [t for t in texts[1:3] if "kettle.yaml › kettle-cold › fix" in t] == texts[1:3]
    assert "previous version (entries in use: 1)" in texts[2]
    assert "Knowledge reloaded. Entries in use: 2." in texts[3]
    assert [len(kb) for kb in installed] == [2]


BROKEN = (
    KETTLE.replace(
        "    fix: Check the base.\n", "    fix: Check the base.\n    symptoms: [cold]\n"
    ).replace("title: Kettle does not heat", "title: 5")
    + "  - id: kettle-cold\n    title: Again\n    symptoms: [again]\n    fix: Wait.\n"
)
BROKEN_PROBLEMS = [
    "kettle.yaml › kettle-cold › symptoms: given twice (lines 5 and 7); keep one",
    "kettle.yaml › kettle-cold › title: must be text, not a number (put it in quotes)",
    "kettle.yaml › kettle-cold › id: duplicate id, already used earlier in this file",
]


def test_admins_are_told_every_problem_a_repeated_key_too(tmp_path: Path, engine: Engine) -> None:
    """The edit's notice and /reload's answer list all three, not the first alone."""
    (tmp_path / "kettle.yaml").write_text(KETTLE, encoding="utf-8")
    admin, installed = admin_for(tmp_path, engine)
    (tmp_path / "kettle.yaml").write_text(BROKEN, encoding="utf-8")

    asyncio.run(admin.run(Request("reload", "", ADMIN, ADMIN)))

    notice, answer = [text for chat, text in outbox(engine) if chat == ADMIN]
    for text in (notice, answer):
        assert [p for p in BROKEN_PROBLEMS if f"• {html.escape(p)}" in text] == BROKEN_PROBLEMS
    assert installed == []  # the previous knowledge stays in use
