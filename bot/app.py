"""Composition root: settings in, a ready application out. The only place that wires."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from bot.admin import Admin
from bot.admin_reports import Answers
from bot.clock import Clock, system_clock
from bot.followups import FollowUpFlow
from bot.reload import KnowledgeWatch
from bot.settings import Settings
from bot.storage import PollerLock, SqlUnitOfWork, UnitOfWorkFactory, make_engine, upgrade
from flows.desk import Desk
from flows.engine import Conversations
from flows.followup import FollowUps
from flows.text import order_pattern
from flows.turn import FlowSettings, Localised, Services
from knowledge.catalogue import Catalogue
from knowledge.checks import check_tests
from knowledge.matcher import DEFAULT_THRESHOLDS, Matcher
from knowledge.responses import Responses
from knowledge.schema import Entry, KnowledgeBase
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
    admin: Admin | None = None  # /stats, /unmatched, /reload for ADMIN_IDS
    poller_lock: PollerLock | None = None  # which replica polls Telegram (PostgreSQL)


def build(settings: Settings, *, clock: Clock | None = None) -> App:
    """Open (and migrate) the database, load the knowledge, build the flows.

    Raises ``KnowledgeError`` for bad knowledge files and ``StorageError`` for a database
    that cannot be opened; both carry a message for the operator.
    """
    gate = os.environ.get("SUPPORTBOT_TEST_RELOAD_GATE")  # a test hook: see KnowledgeWatch
    watch = KnowledgeWatch(settings.knowledge_dir, gate=Path(gate) if gate else None)
    knowledge = watch.load()
    matcher = make_matcher(knowledge, settings)
    _check_tests(knowledge, matcher, settings)
    catalogue = Catalogue.load(default=settings.default_language)
    responses = catalogue.default
    engine = make_engine(settings.database_url)
    upgrade(engine)
    clock = clock or system_clock()
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
    followups = FollowUps(services=services, clock=clock)

    def install(new: Services) -> None:
        conversations.services = new
        followups.services = new

    # the reload thread reads the services in use; only ``install``, on the loop, changes them
    watch.rebuild = lambda kb: rebuild(conversations.services, kb, settings)
    watch.install = install
    new_uow = functools.partial(SqlUnitOfWork, engine)
    admin = Admin(
        admin_ids=settings.admin_ids,
        catalogue=catalogue,
        clock=clock,
        new_uow=new_uow,
        watch=watch,
        answers=Answers(
            new_uow=new_uow,
            services=lambda: conversations.services,
            clock=clock,
            timezone=settings.timezone,
        ).as_dict(),
    )
    watch.on_problems = admin.tell_broken
    return App(
        settings=settings,
        conversations=conversations,
        responses=responses,
        new_uow=new_uow,
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
        followups=followups,
        admin=admin,
        poller_lock=PollerLock(engine),
    )


def make_matcher(
    knowledge: KnowledgeBase, settings: Settings, *, previous: object = None
) -> Matcher | SemanticMatcher:
    """The matcher ``MATCHER`` asks for; ``auto`` takes the semantic one when installed.

    ``previous``: the matcher this one replaces; a semantic one lends its model and the
    embeddings of the phrasings that did not change.

    Raises ``SemanticUnavailable`` (with the install line) when ``semantic`` is asked for
    but cannot run.
    """
    choice = settings.matcher
    model_dir = settings.semantic_model_dir
    if choice == "semantic" or (choice == "auto" and semantic_available(model_dir)):
        thresholds = settings.thresholds(DEFAULT_SEMANTIC_THRESHOLDS)
        embeddings = previous.embeddings if isinstance(previous, SemanticMatcher) else None
        return SemanticMatcher(knowledge, thresholds, model_dir=model_dir, embeddings=embeddings)
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


def localise(
    knowledge: KnowledgeBase, settings: Settings, previous: Mapping[str, Localised] | None = None
) -> dict[str, Localised]:
    """The knowledge as each translated language's customers meet it, with its matcher.

    Lexical whatever ``MATCHER`` says: the packaged semantic model reads English only. A
    language whose entries read as in ``previous`` (other languages' translations aside)
    keeps its matcher from there.
    """
    thresholds = settings.thresholds(DEFAULT_THRESHOLDS)
    found = {}
    for code in knowledge.languages():
        translated = knowledge.in_language(code)
        kept = (previous or {}).get(code)
        if kept is not None and _own_words(kept.knowledge) == _own_words(translated):
            matcher = kept.matcher
        else:
            matcher = Matcher(translated, thresholds)
        found[code] = Localised(translated, matcher, thresholds)
    return found


def _own_words(knowledge: KnowledgeBase) -> tuple[Entry, ...]:
    """A language's entries without the translations into others, which its matcher ignores."""
    return tuple(replace(entry, translations=()) for entry in knowledge)


def rebuild(
    services: Services, knowledge: KnowledgeBase, settings: Settings, *, reuse: bool = True
) -> Services:
    """``services`` serving ``knowledge`` instead: its matchers built (seconds; safe in any
    thread). With ``reuse``, what the edit left alone is taken from ``services``: all of it
    when the knowledge reads the same, else a translated language's matcher when that
    language's knowledge does, and the semantic model and unchanged phrasings' embeddings."""
    if reuse and knowledge == services.knowledge:  # files touched, not changed
        return services
    matcher = make_matcher(knowledge, settings, previous=services.matcher if reuse else None)
    _check_tests(knowledge, matcher, settings)  # in the build thread too: a miss is logged
    return replace(
        services,
        knowledge=knowledge,
        matcher=matcher,
        thresholds=matcher.thresholds,
        localised=localise(knowledge, settings, services.localised if reuse else None),
    )
