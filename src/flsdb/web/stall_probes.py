"""The probes of the stall diagnosis (`flsdb.web.stalls`): what a request waited for, noted on
its `Trace` while it runs, and what the process did meanwhile, noted as time intervals.

- the store (`watch_engine`): the wait for a pooled connection; SQLite's write lock (the
  `BEGIN IMMEDIATE`, or a deferred transaction's first write, which takes it), each wait kept
  as an interval; every write transaction's hold of the lock (who held it, from when to when),
  written per process so that `benchmarks/stalls.py` can say, across the server's processes
  (perf_counter is the system's monotonic clock), whose transaction a waiter waited behind and
  how long it waited with the lock free (SQLite's busy handler asleep); commits; other SQL;
- anyio's threads (`watch_threads`): the wait for a thread, and the function's own CPU;
- the garbage collector (`watch_gc`): every collection's pause (all Python threads stop);
- the interpreter lock (`gil_probe`): a thread that sleeps 2 ms and notes when it woke late,
  with how much of the lateness the process itself was running (another thread held the
  interpreter lock) and where the process's other threads were when it got it back;
- the dashboards' views (`watch_views`): the time a request made a view (`flsdb.kept.Kept`),
  and the time it waited for another thread making the same one.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine, event

from flsdb.kept import Kept

GIL_LATE = 0.02  # seconds a 2 ms sleep may overrun before it is noted


@dataclass
class Trace:
    """One request's waits (seconds), filled in by the probes while it runs."""

    kind: str
    start: float
    pool: float = 0.0
    thread_wait: float = 0.0
    lock: float = 0.0
    commit: float = 0.0
    sql: float = 0.0
    thread_cpu: float = 0.0
    views: float = 0.0
    views_wait: float = 0.0
    threads_busy: int = 0
    pool_out: int = 0
    dumped: bool = False
    lock_waits: list[tuple[float, float]] = field(default_factory=list)
    view_depth: int = 0


CURRENT: ContextVar[Trace | None] = ContextVar("flsdb_stall_trace", default=None)


class Timeline:
    """What the process did meanwhile, as (start, end, what) intervals, bounded."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.gc: deque[tuple[float, float, str]] = deque(maxlen=5000)
        self.gil: deque[tuple[float, float, str]] = deque(maxlen=5000)  # process ran elsewhere
        self.starved: deque[tuple[float, float, str]] = deque(maxlen=5000)  # process not run
        self.holds: list[tuple[str, float, float]] = []  # written out by the watchdog
        self.gil_where: dict[str, int] = {}

    @staticmethod
    def overlap(intervals: deque[tuple[float, float, str]], a: float, b: float) -> float:
        return sum(max(0.0, min(y, b) - max(x, a)) for x, y, _ in list(intervals) if y > a)


def _add(part: str, seconds: float) -> None:
    trace = CURRENT.get()
    if trace is not None:
        setattr(trace, part, getattr(trace, part) + seconds)


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")


def watch_engine(engine: Engine, timeline: Timeline) -> None:
    pool: Any = engine.pool
    take = pool._do_get

    def timed_get() -> Any:
        began = time.perf_counter()
        try:
            return take()
        finally:
            trace = CURRENT.get()
            if trace is not None:
                trace.pool += time.perf_counter() - began
                if hasattr(pool, "checkedout"):
                    trace.pool_out = max(trace.pool_out, int(pool.checkedout()))

    pool._do_get = timed_get

    def released(conn: Any) -> None:
        held = conn.info.pop("stall_held", None)
        if held is not None:
            with timeline.lock:
                timeline.holds.append((held[0], held[1], time.perf_counter()))

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info["stall_began"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        began = conn.info.pop("stall_began", None)
        if began is None:
            return
        now = time.perf_counter()
        head = statement.lstrip()[:6].upper()
        takes_lock = head == "BEGIN " or (head in _WRITES and "stall_held" not in conn.info)
        trace = CURRENT.get()
        if takes_lock and engine.dialect.name == "sqlite":
            kind = trace.kind if trace is not None else threading.current_thread().name
            conn.info["stall_held"] = (kind, now)
            if trace is not None:
                trace.lock += now - began
                trace.lock_waits.append((began, now))
        elif head in ("COMMIT", "ROLLBA"):
            _add("commit", now - began)
            released(conn)
        else:
            _add("sql", now - began)

    dialect: Any = engine.dialect
    commit = dialect.do_commit

    def timed_commit(dbapi_connection: Any) -> None:
        began = time.perf_counter()
        try:
            commit(dbapi_connection)
        finally:
            _add("commit", time.perf_counter() - began)

    dialect.do_commit = timed_commit

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _ended(conn: Any) -> None:  # before the driver's commit: a hold ends a little early
        released(conn)


def watch_threads() -> None:
    """anyio's `run_sync` (what Starlette's run_in_threadpool calls), timed: the wait for a
    thread and the function's own processor time."""
    run_sync: Callable[..., Any] = anyio.to_thread.run_sync
    if getattr(run_sync, "stall_timed", False):
        return

    async def timed(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        trace = CURRENT.get()
        if trace is None:
            return await run_sync(func, *args, **kwargs)
        called = time.perf_counter()

        def inner(*inner_args: Any) -> Any:
            trace.thread_wait += time.perf_counter() - called
            cpu = time.thread_time()
            try:
                return func(*inner_args)
            finally:
                trace.thread_cpu += time.thread_time() - cpu

        return await run_sync(inner, *args, **kwargs)

    timed.stall_timed = True  # type: ignore[attr-defined]
    anyio.to_thread.run_sync = timed  # type: ignore[assignment]


def watch_gc(timeline: Timeline) -> None:
    began: list[float] = [0.0]

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            timeline.gc.append((began[0], time.perf_counter(), f"gen{info['generation']}"))

    if not any(getattr(c, "stall_probe", False) for c in gc.callbacks):
        callback.stall_probe = True  # type: ignore[attr-defined]
        gc.callbacks.append(callback)


def watch_views() -> None:
    """`Kept.get` timed: a request's time making views, and waiting for another's."""
    get = Kept.get
    if getattr(get, "stall_timed", False):
        return

    def timed_get(self: Kept, key: Hashable, make: Callable[[], Any]) -> Any:
        trace = CURRENT.get()
        if trace is None or trace.view_depth:
            return get(self, key, make)
        made = [0.0]

        def timed_make() -> Any:
            began = time.perf_counter()
            try:
                return make()
            finally:
                made[0] += time.perf_counter() - began

        began = time.perf_counter()
        trace.view_depth += 1
        try:
            return get(self, key, timed_make)
        finally:
            trace.view_depth -= 1
            trace.views += made[0]
            trace.views_wait += time.perf_counter() - began - made[0]

    timed_get.stall_timed = True  # type: ignore[attr-defined]
    Kept.get = timed_get  # type: ignore[method-assign]


def where(frame: Any) -> str:
    """The innermost flsdb frame of a stack (not the diagnosis's own) and its innermost frame."""
    inner = f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}"
    own = None
    while frame is not None:
        name = frame.f_code.co_filename
        if "/flsdb/" in name and "stall" not in Path(name).name:
            own = f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno} {frame.f_code.co_name}"
            break
        frame = frame.f_back
    return f"{own or '-'} in {inner}"


def gil_probe(timeline: Timeline, stop: threading.Event | None = None) -> None:
    """Sleep 2 ms at a time; a wake more than GIL_LATE late is a wait for the interpreter lock
    (as far as the process ran meanwhile) or for a processor (the rest)."""
    me = threading.get_ident()
    stop = stop or threading.Event()
    while not stop.is_set():
        before, cpu = time.perf_counter(), time.process_time()
        time.sleep(0.002)
        now = time.perf_counter()
        late = now - before - 0.002
        if late < GIL_LATE:
            continue
        ran = min(late, time.process_time() - cpu)
        places = [where(frame) for ident, frame in sys._current_frames().items() if ident != me]
        busy = [p for p in places if not p.endswith(_IDLE)]
        label = busy[0] if busy else "-"
        with timeline.lock:
            timeline.gil.append((now - ran, now, label))
            timeline.starved.append((before + 0.002, now - ran, "cpu"))
            for place in busy:
                timeline.gil_where[place] = timeline.gil_where.get(place, 0) + 1


_IDLE = (
    "in threading.py:wait",
    "in selectors.py:select",
    "in default.py:do_execute",
    "in default.py:do_commit",
)


def start_gil_probe(timeline: Timeline) -> None:
    threading.Thread(target=gil_probe, args=(timeline,), daemon=True, name="gil-probe").start()
