"""Storage: the tables, the engine, migrations and the unit of work.

The only package that imports sqlmodel, sqlalchemy or alembic. Everything else uses
``SqlUnitOfWork`` through the Protocols in ``flows.ports`` and the records below.
"""

from bot.storage.engine import make_engine
from bot.storage.errors import (
    DatabaseUnavailable,
    NotFound,
    StorageError,
    is_conflict,
    is_temporary,
)
from bot.storage.factory import UnitOfWorkFactory
from bot.storage.lock import AlreadyRunning, PollerLock, hold_single_process
from bot.storage.migrate import current_revision, downgrade, schema_drift, upgrade
from bot.storage.records import (
    FOLLOW_UP,
    LIVE,
    RETRY_AFTER,
    InboxItem,
    MessageKind,
    OutboxItem,
    OutboxStatus,
    OutgoingMessage,
)
from bot.storage.uow import SqlUnitOfWork

__all__ = [
    "FOLLOW_UP",
    "LIVE",
    "RETRY_AFTER",
    "AlreadyRunning",
    "DatabaseUnavailable",
    "InboxItem",
    "MessageKind",
    "NotFound",
    "OutboxItem",
    "OutboxStatus",
    "OutgoingMessage",
    "PollerLock",
    "SqlUnitOfWork",
    "StorageError",
    "UnitOfWorkFactory",
    "current_revision",
    "downgrade",
    "hold_single_process",
    "is_conflict",
    "is_temporary",
    "make_engine",
    "schema_drift",
    "upgrade",
]
