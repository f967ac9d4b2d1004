"""Composition root: settings in, a ready application out. The only place that wires."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bot.clock import Clock, SystemClock
from bot.followups import FollowUpFlow
from bot.settings import Settings
from bot.storage import SqlUnitOfWork, UnitOfWorkFactory, make_engine, upgrade
from flows.desk import Desk
from flows.engine import Conversations
from flows.followup import FollowUps
from flows.text import order_pattern
from flows.turn import FlowSettings, Localised, Services
from knowledge.loader import KnowledgeError, check_tests, load_knowledge
from knowledge.matcher import DEFAULT_THRESHOLDS, Matcher
from knowledge.responses import Catalogue, Responses
from knowledge.schema import KnowledgeBase
from knowledge.semantic import (
    DEFAULT_SEMANTIC_THRESHOLDS,
    SemanticMatcher,
    semantic_available,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class App:
    settings: Settings
    conversations: Conversations
    responses: Responses
    new_uow: UnitOfWorkFactory
    clock: Clock
    knowledge_watch: KnowledgeWatch
    desk: Desk
    # what the dispatcher runs a due follow-up through (flows.followup.FollowUps); None:
    # follow-ups are not dispatched
    followups: FollowUpFlow | None = None


def build(settings: Settings, *, clock: Clock | None = None) -> App:
    """Open (and migrate) the database, load the knowledge, build the flows.

    Raises ``KnowledgeError`` for bad knowledge files and ``StorageError`` for a database
    that cannot be opened; both carry a message for the operator.
    """
    watch = KnowledgeWatch(settings.knowledge_dir)
    knowledge = watch.load()
    matcher = make_matcher(knowledge, settings)
    _check_tests(knowledge, matcher, settings)
    catalogue = Catalogue.load(default=settings.default_language)
    responses = catalogue.default
    engine = make_engine(settings.database_url)
    upgrade(engine)
    clock = clock or SystemClock()
    services = Services(
        knowledge=knowledge,
        matcher=matcher,
        responses=responses,
        thresholds=matcher.thresholds,
        catalogue=catalogue,
        localised=localise(knowledge, settings),
        settings=FlowSettings(
            max_attempts=settings.max_fix_attempts,
            escalation=settings.escalation_on,
            support_contact=settings.support_contact,
            reopen_window=settings.reopen_window,
            followup_delay=settings.followup_delay,
            auto_close_after=settings.auto_close_after,
            followup_stale_after=settings.followup_stale_after,
            quiet_hours=settings.quiet,
            timezone=settings.timezone,
            hours=settings.hours,
            date_order=settings.date_order,
            order_number_pattern=order_pattern(settings.order_number_pattern),
        ),
    )
    conversations = Conversations(services=services, clock=clock)
    watch.on_change = lambda kb: _swap_knowledge(conversations, kb, settings)
    return App(
        settings=settings,
        conversations=conversations,
        responses=responses,
        new_uow=functools.partial(SqlUnitOfWork, engine),
        clock=clock,
        knowledge_watch=watch,
        desk=Desk(
            responses=responses,
            clock=clock,
            admins=frozenset(settings.admin_ids),
            agent_names=settings.agent_names == "on",
            conversations=conversations,
            followup_delay=settings.followup_delay,
        ),
        followups=FollowUps(services=services, clock=clock),
    )


def make_matcher(knowledge: KnowledgeBase, settings: Settings) -> Matcher | SemanticMatcher:
    """The matcher ``MATCHER`` asks for; ``auto`` takes the semantic one when installed.

    Raises ``SemanticUnavailable`` (with the install line) when ``semantic`` is asked for
    but cannot run.
    """
    choice = settings.matcher
    model_dir = settings.semantic_model_dir
    if choice == "semantic" or (choice == "auto" and semantic_available(model_dir)):
        default = DEFAULT_SEMANTIC_THRESHOLDS
        return SemanticMatcher(knowledge, settings.thresholds(default), model_dir=model_dir)
    return Matcher(knowledge, settings.thresholds(DEFAULT_THRESHOLDS))


def describe_matcher(matcher: Matcher | SemanticMatcher) -> str:
    """Which matcher, and the bands it uses: "the semantic matcher · thresholds: answer 54, ..."."""
    kind = "semantic" if isinstance(matcher, SemanticMatcher) else "lexical"
    t = matcher.thresholds
    return (
        f"the {kind} matcher · thresholds: answer {t.answer:g}, suggest {t.suggest:g},"
        f" margin {t.margin:g}"
    )


def _check_tests(
    knowledge: KnowledgeBase, matcher: Matcher | SemanticMatcher, settings: Settings
) -> None:
    """The knowledge's ``tests:`` with the matcher the bot uses; a miss is logged, not fatal
    (the bot still answers; ``supportbot kb validate`` lists them and exits 1)."""
    problems = check_tests(knowledge, matcher, settings.thresholds(DEFAULT_THRESHOLDS))
    for problem in problems:
        log.warning("knowledge test misses with %s: %s", describe_matcher(matcher), problem)


def localise(knowledge: KnowledgeBase, settings: Settings) -> dict[str, Localised]:
    """The knowledge as each translated language's customers meet it, with its matcher.

    Lexical whatever ``MATCHER`` says: the packaged semantic model reads English only.
    """
    thresholds = settings.thresholds(DEFAULT_THRESHOLDS)
    found = {}
    for code in knowledge.languages():
        translated = knowledge.in_language(code)
        found[code] = Localised(translated, Matcher(translated, thresholds), thresholds)
    return found


def _swap_knowledge(
    conversations: Conversations, knowledge: KnowledgeBase, settings: Settings
) -> None:
    matcher = make_matcher(knowledge, settings)
    conversations.services = replace(
        conversations.services,
        knowledge=knowledge,
        matcher=matcher,
        thresholds=matcher.thresholds,
        localised=localise(knowledge, settings),
    )


class KnowledgeWatch:
    """Reloads the knowledge files when they change; keeps the old ones if the new fail.

    Changes are seen by the files' names, sizes and modification times, so a check costs
    one directory listing.
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self.on_change: Callable[[KnowledgeBase], None] | None = None
        self._seen: tuple[tuple[str, int, int], ...] = ()

    def load(self) -> KnowledgeBase:
        seen = self._fingerprint()
        knowledge = load_knowledge(self.directory)
        self._seen = seen
        return knowledge

    def check(self) -> bool:
        """Reload if the files changed; True when new knowledge is in use."""
        seen = self._fingerprint()
        if seen == self._seen:
            return False
        self._seen = seen  # a broken edit is reported once, not on every check
        try:
            knowledge = load_knowledge(self.directory)
        except KnowledgeError as exc:
            log.error(
                "knowledge files changed but have problems; still using the previous ones:\n  %s",
                "\n  ".join(str(p) for p in exc.problems),
            )
            return False
        if self.on_change is not None:
            self.on_change(knowledge)
        log.info("knowledge reloaded: %d entries", len(knowledge))
        return True

    def _fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        try:
            files = sorted(p for p in self.directory.iterdir() if p.suffix in (".yaml", ".yml"))
            return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)
        except OSError:
            return ()
