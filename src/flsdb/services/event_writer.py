"""The access log's events written after the response, by one writer thread per store and
process, for an SQLite store under the web server.

SQLite has one write lock for the whole file. A read of patient data writes an event, so
without this every read would queue for that lock behind saves (which hold it about 25 ms, and
100 ms at p95, under 300 staff), and SQLite's busy handler sleeps up to 100 ms between tries
even once the lock is free. Here a read hands its event to a queue and answers at once; the
writer thread takes everything queued in one transaction (one turn at the lock for many
events), in the order they were queued.

- **Nothing lost that a running server has accepted**: events are taken off the queue only
  once their transaction has committed; a failed write is tried again (after a pause growing
  to 5 s) and logged, without the events' detail. The server stopping writes everything
  still queued (`stop_all`, from the application's shutdown, and at the interpreter's exit).
  A process killed outright loses what it had not yet written: normally the last few
  milliseconds' events (as SQLite's `synchronous=NORMAL` loses the last transactions of a
  machine that loses power).
- **Bounded**: at most `MAX_QUEUED` events wait; a request finding the queue full waits for
  room (as it waited for the lock before), so memory cannot grow without limit while the store
  is unwritable. The thread ends when the queue has been empty for `IDLE_SECONDS`, and starts
  again with the next event.
- **Read your own writes**: whoever reads the log in this process (`flush_all`, called by the
  log's lists and exports) first waits for every event queued so far to be written.

PostgreSQL has no file-wide write lock: its events are written in the request, as before.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import deque
from typing import Any

from sqlalchemy import Engine

from flsdb.storage.tables import events

MAX_QUEUED = 20_000
BATCH = 1_000
IDLE_SECONDS = 2.0
FLUSH_SECONDS = 30.0

_LOG = logging.getLogger("flsdb.services.event_writer")
# Every event's insert, built once (an event is written for nearly every request); its values
# are parameters. `services.events` writes its own with it too.
INSERT = events.insert()


class EventQueue:
    """The events waiting to be written to one store, and the thread that writes them."""

    def __init__(self, engine: Engine) -> None:
        # Weak: a store no longer used by anyone is not kept open by its queue (the writer
        # thread holds it while it runs).
        self._engine = weakref.ref(engine)
        self._rows: deque[dict[str, Any]] = deque()
        self._changed = threading.Condition()
        self._queued = 0  # events ever queued
        self._written = 0  # of those, events committed
        self._thread: threading.Thread | None = None
        self._closed = False

    def put(self, row: dict[str, Any]) -> bool:
        """Queue one event (waiting for room while the queue is full); False once the queue
        is closed (the caller writes it itself)."""
        with self._changed:
            while len(self._rows) >= MAX_QUEUED and not self._closed:
                self._changed.wait(1.0)
            if self._closed:
                return False
            self._rows.append(row)
            self._queued += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="flsdb-event-writer", daemon=True
                )
                self._thread.start()
            self._changed.notify_all()
            return True

    def flush(self, timeout: float = FLUSH_SECONDS) -> bool:
        """Wait until every event queued before this call is written; False on time-out."""
        deadline = time.monotonic() + timeout
        with self._changed:
            target = self._queued
            while self._written < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def close(self, timeout: float = FLUSH_SECONDS) -> None:
        """Write what is queued and take no more (later events are written by their callers)."""
        self.flush(timeout)
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _run(self) -> None:
        engine = self._engine()
        pause = 0.05
        while True:
            with self._changed:
                idle_until = time.monotonic() + IDLE_SECONDS
                while not self._rows:
                    left = idle_until - time.monotonic()
                    if self._closed or left <= 0 or engine is None:
                        self._thread = None
                        return
                    self._changed.wait(left)
                batch = [self._rows[i] for i in range(min(BATCH, len(self._rows)))]
            if engine is None:  # its store is gone: nothing can take them
                _LOG.error("%d access events for a closed store were dropped.", len(batch))
                with self._changed:
                    self._rows.clear()
                    self._written = self._queued
                    self._thread = None
                    self._changed.notify_all()
                return
            try:
                with engine.begin() as conn:
                    conn.execute(INSERT, batch)
            except Exception as exc:  # kept, and tried again: the log must not lose them
                _LOG.error(
                    "%d access events could not be written yet (%s); trying again.",
                    len(batch),
                    type(exc).__name__,
                )
                time.sleep(pause)
                pause = min(pause * 2, 5.0)
                continue
            pause = 0.05
            with self._changed:
                for _ in batch:
                    self._rows.popleft()
                self._written += len(batch)
                self._changed.notify_all()


_QUEUES: weakref.WeakKeyDictionary[Engine, EventQueue] = weakref.WeakKeyDictionary()
_QUEUES_LOCK = threading.Lock()


def defer_events(engine: Engine) -> None:
    """Write this SQLite store's standalone events through a queue from now on (the web
    server's engine); a no-op for PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return
    with _QUEUES_LOCK:
        if engine not in _QUEUES:
            _QUEUES[engine] = EventQueue(engine)


def queue_for(engine: Engine) -> EventQueue | None:
    return _QUEUES.get(engine)


def flush_all() -> None:
    """Wait until every event queued in this process so far is written (before the log is
    read)."""
    for queue in list(_QUEUES.values()):
        queue.flush()


def stop(engine: Engine) -> None:
    """Write this store's queued events and stop queueing them (the server's shutdown)."""
    with _QUEUES_LOCK:
        queue = _QUEUES.pop(engine, None)
    if queue is not None:
        queue.close()


def stop_all() -> None:
    with _QUEUES_LOCK:
        queues = list(_QUEUES.values())
        _QUEUES.clear()
    for queue in queues:
        queue.close()


atexit.register(stop_all)
