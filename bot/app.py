"""Composition root: settings in, a ready application out. The only place that wires."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from bot.clock import Clock, SystemClock
from bot.settings import Settings
from bot.storage import SqlUnitOfWork, UnitOfWorkFactory, make_engine, upgrade
from flows.engine import Conversations
from flows.turn import FlowSettings, Services
from knowledge.loader import load_knowledge
from knowledge.matcher import Matcher
from knowledge.responses import Responses


@dataclass(frozen=True)
class App:
    settings: Settings
    conversations: Conversations
    responses: Responses
    new_uow: UnitOfWorkFactory
    clock: Clock


def build(settings: Settings, *, clock: Clock | None = None) -> App:
    """Open (and migrate) the database, load the knowledge, build the flows.

    Raises ``KnowledgeError`` for bad knowledge files and ``StorageError`` for a database
    that cannot be opened; both carry a message for the operator.
    """
    knowledge = load_knowledge(settings.knowledge_dir)
    thresholds = settings.thresholds()
    responses = Responses.load()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    clock = clock or SystemClock()
    services = Services(
        knowledge=knowledge,
        matcher=Matcher(knowledge, thresholds),
        responses=responses,
        thresholds=thresholds,
        settings=FlowSettings(max_attempts=settings.max_fix_attempts),
    )
    return App(
        settings=settings,
        conversations=Conversations(services=services, clock=clock),
        responses=responses,
        new_uow=functools.partial(SqlUnitOfWork, engine),
        clock=clock,
    )
