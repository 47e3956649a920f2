"""SQLite files that a pooled engine of this process keeps open through Python's sqlite3 (the web
application's, `open_engine(pooled=True)`).

ADBC's copy of SQLite must not open such a file meanwhile (`flsdb.storage.bulk`), so sessions and
reads of it go through sqlite3. A file is held for its engine's lifetime only, and only that
file: no process-wide switch that a command, a test or a second application would inherit.
"""

from __future__ import annotations

import os
import threading
import weakref

from sqlalchemy import Engine

_HELD: dict[str, int] = {}  # file -> how many live pooled engines hold it
_LOCK = threading.Lock()


def _key(path: str) -> str:
    return os.path.realpath(path)


def hold_open(engine: Engine) -> None:
    """Mark the engine's SQLite file as kept open by sqlite3 for as long as the engine lives."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return
    key = _key(engine.url.database)
    with _LOCK:
        _HELD[key] = _HELD.get(key, 0) + 1
    weakref.finalize(engine, _release, key)


def _release(key: str) -> None:
    with _LOCK:
        left = _HELD.get(key, 0) - 1
        if left > 0:
            _HELD[key] = left
        else:
            _HELD.pop(key, None)


def held_open(path: str) -> bool:
    """Whether a live pooled engine of this process keeps the SQLite file open."""
    with _LOCK:
        return bool(_HELD) and _key(path) in _HELD
