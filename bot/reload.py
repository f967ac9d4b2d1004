"""Reloading the knowledge files while the bot runs, without stalling it.

Building the matchers for new knowledge takes seconds (the semantic matcher's embeddings,
the lexical index of every language): on the event loop that would stop polling, handling
and sending meanwhile. ``KnowledgeWatch.refresh`` reads the files and builds in a thread of
its own, one build at a time, while the old knowledge keeps answering; the new ``Services``
is put in use on the loop, in one assignment, only once complete. A build under way when
the bot stops is finished (and dropped) before the process exits: it is never cut off midway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flows.turn import Services
from knowledge.loader import KnowledgeError, load_knowledge
from knowledge.schema import KnowledgeBase

log = logging.getLogger(__name__)

_GATE_POLL = 0.02  # seconds between looks for the test gate file


class KnowledgeWatch:
    """Reloads the knowledge files when they change; keeps the old ones if the new fail.

    Changes are seen by the files' names, sizes and modification times, so a look costs
    one directory listing. ``rebuild`` turns loaded knowledge into the ``Services`` serving
    it (slow; run in the reload thread by ``refresh``); ``install`` puts them in use (fast).

    ``on_problems`` is told, on the loop, when edited files do not load (the old knowledge
    stays in use): the bot tells its admins. ``problems`` holds that list until files that
    load replace it.

    ``gate`` is a test hook: a built reload waits until that file exists (and removes it)
    before it is put in use, so a test decides when a rebuild ends.
    """

    def __init__(self, directory: Path, *, gate: Path | None = None):
        self.directory = directory
        self.gate = gate
        self.rebuild: Callable[[KnowledgeBase], Services] | None = None
        self.install: Callable[[Services], None] | None = None
        self.on_problems: Callable[[list[str]], None] | None = None
        self.problems: list[str] = []
        self.entries = 0  # in the knowledge in use
        self._seen: tuple[tuple[str, int, int], ...] = ()
        self._refreshing = False
        self._executor: ThreadPoolExecutor | None = None

    def load(self) -> KnowledgeBase:
        seen = self._fingerprint()
        knowledge = load_knowledge(self.directory)
        self._seen = seen
        self.entries = len(knowledge)
        return knowledge

    def check(self) -> bool:
        """Reload now, on this thread, if the files changed; True when new knowledge is in use."""
        if not self._changed():
            return False
        return self._use(self._build())

    async def refresh(self, *, wait: bool = False) -> bool:
        """``check`` without blocking the event loop: True when new knowledge is in use.

        Files that change again during a build are built again after it. Called while a
        refresh is under way, returns False at once (that one looks again when it ends);
        with ``wait`` (``/reload``), waits for it first, then looks itself.
        """
        while self._refreshing and wait:
            await asyncio.sleep(_GATE_POLL)
        if self._refreshing:
            return False
        self._refreshing = True
        try:
            loop = asyncio.get_running_loop()
            if self._executor is None:  # one thread: even a refresh cancelled mid-build
                # (at shutdown) cannot have a second build start beside it
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="knowledge-reload")
            swapped = False
            while self._changed():
                built = await loop.run_in_executor(self._executor, self._build)
                swapped = self._use(built) or swapped
            return swapped
        finally:
            self._refreshing = False

    def _changed(self) -> bool:
        seen = self._fingerprint()
        if seen == self._seen:
            return False
        self._seen = seen  # a broken edit is reported once, not on every look
        return True

    def _build(self) -> Services | list[str]:
        """The new knowledge's ``Services``, or (logged) the problems of files that fail."""
        started = time.perf_counter()
        try:
            knowledge = load_knowledge(self.directory)
        except KnowledgeError as exc:
            problems = [str(p) for p in exc.problems]
            log.error(
                "knowledge files changed but have problems; still using the previous ones:\n  %s",
                "\n  ".join(problems),
            )
            return problems
        if self.rebuild is None:
            raise RuntimeError("KnowledgeWatch.rebuild is not set")
        log.info("knowledge files changed: building the index for %d entries", len(knowledge))
        built = self.rebuild(knowledge)
        log.info("knowledge index built in %.1f s", time.perf_counter() - started)
        self._wait_for_gate()
        return built

    def _use(self, built: Services | list[str]) -> bool:
        """Put a build in use (True), or keep the old knowledge and report its problems."""
        if isinstance(built, list):
            self.problems = built
            if self.on_problems is not None:
                try:
                    self.on_problems(built)
                except Exception:  # telling the admins must not stop the watch
                    log.exception("could not tell the admins about the knowledge problems")
            return False
        if self.install is None:
            raise RuntimeError("KnowledgeWatch.install is not set")
        self.install(built)
        self.problems = []
        self.entries = len(built.knowledge)
        log.info("knowledge reloaded: %d entries", len(built.knowledge))
        return True

    def _wait_for_gate(self) -> None:
        if self.gate is None:
            return
        while not self.gate.exists():
            time.sleep(_GATE_POLL)
        self.gate.unlink()

    def _fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        try:
            files = sorted(p for p in self.directory.iterdir() if p.suffix in (".yaml", ".yml"))
            return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)
        except OSError:
            return ()
