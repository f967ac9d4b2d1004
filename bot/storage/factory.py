"""The type of "give me a new unit of work", which adapters take instead of an engine."""

from __future__ import annotations

from collections.abc import Callable

from bot.storage.uow import SqlUnitOfWork

UnitOfWorkFactory = Callable[[], SqlUnitOfWork]
