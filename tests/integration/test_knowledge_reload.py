"""The running bot picks up edited knowledge files, and keeps the old ones if broken."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path

import pytest

from bot.app import App, build
from bot.settings import load_settings
from flows.followup import FollowUps
from flows.turn import Services
from knowledge.schema import KnowledgeBase

FILE = """\
product: Kettles
entries:
  - id: kettle-leaks
    title: Water leaks from the kettle
    symptoms: [there is water under my kettle, the kettle is leaking]
    fix: Do not fill above MAX.
"""
MORE = """\
  - id: kettle-smells
    title: The kettle smells of plastic
    symptoms: [my kettle smells of plastic, the water tastes like plastic]
    fix: Boil and discard water three times.
"""


def touch_later(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a visibly newer file


def test_edits_are_reloaded_and_broken_edits_keep_the_old(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "kettles.yaml").write_text(FILE, encoding="utf-8")
    app = build(load_settings(database_url=f"sqlite:///{tmp_path / 'db'}", knowledge_dir=kb))
    assert app.knowledge_watch.check() is False  # nothing changed yet

    touch_later(kb / "kettles.yaml", FILE + MORE)
    assert app.knowledge_watch.check() is True
    services = app.conversations.services
    assert services.knowledge.get("kettle-smells") is not None
    best = services.matcher.match("my kettle smells of plastic").best
    assert best is not None and best.entry_id == "kettle-smells"

    with caplog.at_level(logging.ERROR):
        touch_later(kb / "kettles.yaml", FILE + MORE + "  - id: Bad Id\n")
        assert app.knowledge_watch.check() is False
    assert app.conversations.services is services  # still the last good knowledge
    assert "kettles.yaml › Bad Id › fix" in caplog.text


DESCALE = """\
  - id: kettle-scale
    title: White flakes in the water
    symptoms: [white flakes float in my tea, there is limescale in the kettle]
    fix: Descale with vinegar.
"""


class HeldBuilds:
    """The app's own rebuild, made to wait for ``release`` and counted."""

    def __init__(self, app: App) -> None:
        self.rebuild = app.knowledge_watch.rebuild
        assert self.rebuild is not None
        app.knowledge_watch.rebuild = self
        self.release = threading.Event()
        self.started = threading.Event()
        self.builds = 0
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def __call__(self, knowledge: KnowledgeBase) -> Services:
        assert (
            self.rebuild is not None and threading.current_thread() is not threading.main_thread()
        )
        with self._lock:
            self.builds += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        self.started.set()
        try:
            self.release.wait()
            return self.rebuild(knowledge)
        finally:
            with self._lock:
                self.running -= 1

    async def wait_started(self, refresh: asyncio.Task[bool]) -> None:
        while not self.started.is_set() and not refresh.done():
            await asyncio.sleep(0.01)  # the loop stays free while the build runs
        assert not refresh.done(), refresh.exception()


@pytest.fixture
def kettles(tmp_path: Path) -> tuple[App, Path]:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "kettles.yaml").write_text(FILE, encoding="utf-8")
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'db'}", knowledge_dir=kb, matcher="lexical"
    )
    return build(settings), kb / "kettles.yaml"


def test_refresh_builds_in_a_thread_and_swaps_only_when_done(kettles: tuple[App, Path]) -> None:
    app, path = kettles
    held = HeldBuilds(app)
    old = app.conversations.services

    async def scenario() -> bool:
        touch_later(path, FILE + MORE)
        refresh = asyncio.create_task(app.knowledge_watch.refresh())
        await held.wait_started(refresh)
        # the build is under way and the loop runs: the old knowledge still answers
        assert app.conversations.services is old
        assert not refresh.done()
        held.release.set()
        return await refresh

    assert asyncio.run(scenario()) is True
    new = app.conversations.services
    assert new is not old and new.knowledge.get("kettle-smells") is not None
    assert new.settings is old.settings and new.catalogue is old.catalogue
    followups = app.followups
    assert isinstance(followups, FollowUps) and followups.services is new  # both, at once


def test_a_change_during_a_build_is_built_after_it_never_beside_it(
    kettles: tuple[App, Path],
) -> None:
    app, path = kettles
    held = HeldBuilds(app)

    async def scenario() -> tuple[bool, bool]:
        touch_later(path, FILE + MORE)
        first = asyncio.create_task(app.knowledge_watch.refresh())
        await held.wait_started(first)
        touch_later(path, FILE + MORE + DESCALE)  # edited again while the first build runs
        second = asyncio.create_task(app.knowledge_watch.refresh())
        await asyncio.sleep(0)
        assert second.done()  # at once: the running refresh will see the change
        held.release.set()
        return await first, await second

    assert asyncio.run(scenario()) == (True, False)
    assert held.builds == 2 and held.most_at_once == 1
    knowledge = app.conversations.services.knowledge
    assert knowledge.get("kettle-smells") is not None and knowledge.get("kettle-scale") is not None


def test_a_broken_edit_keeps_the_old_knowledge_and_a_later_fix_is_taken(
    kettles: tuple[App, Path], caplog: pytest.LogCaptureFixture
) -> None:
    app, path = kettles
    old = app.conversations.services
    with caplog.at_level(logging.ERROR):
        touch_later(path, FILE + "  - id: Bad Id\n")
        assert asyncio.run(app.knowledge_watch.refresh()) is False
    assert app.conversations.services is old
    assert "kettles.yaml › Bad Id › fix" in caplog.text
    assert asyncio.run(app.knowledge_watch.refresh()) is False  # reported once, not rebuilt

    touch_later(path, FILE + MORE)
    assert asyncio.run(app.knowledge_watch.refresh()) is True
    assert app.conversations.services.knowledge.get("kettle-smells") is not None


TRANSLATED = (  # FILE's one entry, translated
    FILE
    + """\
    translations:
      es: {title: El hervidor gotea, symptoms: [hay agua debajo de mi hervidor]}
      ru: {title: Чайник течёт, symptoms: [под чайником вода]}
"""
)


def test_what_an_edit_leaves_alone_keeps_its_matcher(kettles: tuple[App, Path]) -> None:
    app, path = kettles
    touch_later(path, TRANSLATED)
    assert app.knowledge_watch.check() is True
    before = app.conversations.services

    touch_later(path, TRANSLATED.replace("[под чайником вода]", "[под чайником лужа]"))
    assert app.knowledge_watch.check() is True
    after = app.conversations.services
    # Spanish reads the same: its matcher is kept
    assert after.localised["es"].matcher is before.localised["es"].matcher
    assert after.localised["ru"].matcher is not before.localised["ru"].matcher
    ru = after.localised["ru"].knowledge.get("kettle-leaks")
    assert ru is not None and ru.symptoms[0] == "под чайником лужа"
    assert after.matcher is not before.matcher  # the knowledge differs (in Russian)

    touch_later(path, TRANSLATED.replace("[под чайником вода]", "[под чайником лужа]"))
    assert app.knowledge_watch.check() is True  # touched, the same text: nothing rebuilt
    assert app.conversations.services is after
