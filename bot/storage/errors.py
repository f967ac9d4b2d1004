"""The exceptions of ``bot.storage``.

::

    StorageError                  anything storage raises on purpose
    ├── DatabaseUnavailable       the database cannot be opened or reached
    └── NotFound                  a row that must exist does not (e.g. saving an unknown ticket)
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error raised on purpose by ``bot.storage``."""


class DatabaseUnavailable(StorageError):
    """The database cannot be opened or reached. The message names the URL without password."""


class NotFound(StorageError):
    """A row that must exist does not."""
