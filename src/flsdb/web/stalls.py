"""Where a slow request's time went: a diagnosis of the server under load, off (and costing
nothing) unless $FLSDB_STALLS names a folder (benchmarks/load.py --stalls sets it;
benchmarks/stalls.py reads what it leaves).

Per request the probes (`flsdb.web.stall_probes`) note the wait for a pooled connection, for one
of anyio's threads, for SQLite's write lock, the commits, the other SQL, the request's own CPU in
threads and its time making (or waiting for) the dashboards' views. Beside them, over the
request's time: the event loop kept from running (a task that wakes every 10 ms notes when it
woke late), the garbage collector's pauses, and the interpreter lock held by another thread (a
probe thread's late wakes while the process ran). A watchdog thread writes what every thread is
doing when a request has waited more than `SLOW` seconds or the loop has not run for as long
(at most once a second). Each process writes `slow-PID.jsonl` (one line per slow request: its
waits, the intervals it waited for the write lock, its cause), `holds-PID.jsonl` (every write
transaction: its request's kind, when it took and released the lock), `stacks-PID.txt` and
`summary-PID.json` (sums per kind of request, rewritten every few seconds). Nothing of a
request's values is written: its kind comes from the method and the route's shape.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import os
import re
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from flsdb.web import stall_probes as probes
from flsdb.web.stall_probes import CURRENT, Timeline, Trace

ENV = "FLSDB_STALLS"
SLOW = 0.2  # seconds: a request slower than this is a stall
LAG = 0.05  # seconds the event loop may be late before it counts as blocked
PARTS = ("pool", "thread_wait", "lock", "commit", "sql", "thread_cpu", "views", "views_wait")
OVER = ("loop_blocked", "gc", "gil", "cpu_starved")  # the process's own, over the request's time


@dataclass
class _Kind:
    n: int = 0
    slow: int = 0
    total: float = 0.0
    slow_total: float = 0.0
    slow_parts: dict[str, float] = field(default_factory=dict)
    causes: dict[str, int] = field(default_factory=dict)


class _State:
    """What one process has noted."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.kinds: dict[str, _Kind] = {}
        self.in_flight: dict[int, Trace] = {}
        self.timeline = Timeline()
        self.blocked: deque[tuple[float, float, str]] = deque(maxlen=5000)  # loop kept from running
        self.loop_tick = time.perf_counter()
        self.loop_thread: int | None = None
        self.loop_started = False
        self.last_dump = 0.0
        self.dumps = 0
        self.cpu_start = time.process_time()
        self.slow_pending: list[tuple[Trace, float]] = []  # summed by the watchdog
        self.loop_where: dict[str, int] = {}  # the loop's places when sampled busy

    def path(self, name: str, suffix: str = "jsonl") -> Path:
        return self.folder / f"{name}-{self.pid}.{suffix}"


_STATE: list[_State] = []


def install(app: Any, engine: Engine) -> None:
    """The diagnosis around the application (a FastAPI one), when $FLSDB_STALLS is set."""
    folder = os.environ.get(ENV)
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    state = _State(Path(folder))
    _STATE[:] = [state]
    probes.watch_engine(engine, state.timeline)
    probes.watch_threads()
    probes.watch_gc(state.timeline)
    probes.watch_views()
    probes.start_gil_probe(state.timeline)
    threading.Thread(target=_watchdog, args=(state,), daemon=True, name="stall-watchdog").start()
    app.add_middleware(_Middleware, state=state)  # the last added: the outermost


_SHAPES = [
    (re.compile(r"^GET /fls/"), "dashboard page"),
    (re.compile(r"^GET /api/records/\d+$"), "record read (API)"),
    (re.compile(r"^PUT /api/records/\d+$"), "record save (API)"),
    (re.compile(r"^GET /api/records$"), "record search (API)"),
    (re.compile(r"^GET /api/kpis$"), "KPIs (API)"),
    (re.compile(r"^GET /healthz$"), "healthz"),
]


def kind_of(method: str, path: str) -> str:
    line = f"{method} {path}"
    return next((kind for shape, kind in _SHAPES if shape.match(line)), "other")


class _Middleware:
    def __init__(self, app: ASGIApp, state: _State) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = self.state
        if not state.loop_started:
            state.loop_started = True
            state.loop_thread = threading.get_ident()
            asyncio.get_running_loop().create_task(_loop_monitor(state))
        trace = Trace(kind_of(scope["method"], scope["path"]), time.perf_counter())
        limiter = anyio.to_thread.current_default_thread_limiter()
        trace.threads_busy = int(limiter.borrowed_tokens)
        token = CURRENT.set(trace)
        with state.lock:
            state.in_flight[id(trace)] = trace
        try:
            await self.app(scope, receive, send)
        finally:
            CURRENT.reset(token)
            _done(state, trace, time.perf_counter())


def _done(state: _State, trace: Trace, end: float) -> None:
    """On the event loop: counted, and a slow request put aside for the watchdog thread (its
    overlaps with the process's intervals are summed there, off the loop)."""
    total = end - trace.start
    with state.lock:
        state.in_flight.pop(id(trace), None)
        kind = state.kinds.setdefault(trace.kind, _Kind())
        kind.n += 1
        kind.total += total
        if total >= SLOW:
            state.slow_pending.append((trace, end))


class _Spans:
    """A snapshot of a deque of (start, end, what) intervals, for many overlap sums."""

    def __init__(self, intervals: deque[tuple[float, float, str]]) -> None:
        self.spans = sorted(list(intervals))
        self.starts = [a for a, _, _ in self.spans]

    def overlap(self, a: float, b: float) -> float:
        found, k = 0.0, bisect.bisect_left(self.starts, b) - 1
        while k >= 0 and self.spans[k][0] > a - 5.0:  # none is longer than a few seconds
            x, y, _ = self.spans[k]
            found += max(0.0, min(y, b) - max(x, a))
            k -= 1
        return found


def _slow_lines(state: _State) -> list[dict[str, Any]]:
    with state.lock:
        pending, state.slow_pending = state.slow_pending, []
    if not pending:
        return []
    timeline = state.timeline
    spans = {
        "loop_blocked": _Spans(state.blocked),
        "gc": _Spans(timeline.gc),
        "gil": _Spans(timeline.gil),
        "cpu_starved": _Spans(timeline.starved),
    }
    lines = []
    for trace, end in pending:
        line = asdict(trace)
        line.update(total=end - trace.start, at=end)
        line.update({name: found.overlap(trace.start, end) for name, found in spans.items()})
        line["cause"] = cause(line)
        lines.append(line)
    with state.lock:
        for line in lines:
            kind = state.kinds[line["kind"]]
            kind.slow += 1
            kind.slow_total += line["total"]
            for part in (*PARTS, *OVER):
                kind.slow_parts[part] = kind.slow_parts.get(part, 0.0) + line[part]
            kind.causes[line["cause"]] = kind.causes.get(line["cause"], 0) + 1
    return lines


def cause(line: dict[str, Any]) -> str:
    """The largest share of a slow request's time. The waits of the request itself come
    first; the process's own intervals (the loop kept from running, the collector, another
    thread holding the interpreter lock, no processor) overlap them, and are the cause when
    they are larger than any wait. 'unaccounted' is time on none of these."""
    shares = {
        "pool wait": line["pool"],
        "thread wait": line["thread_wait"],
        "write lock": line["lock"],
        "commit": line["commit"],
        "sql": line["sql"],
        "own cpu": line["thread_cpu"] - line["views"],
        "views made": line["views"],
        "views waited for": line["views_wait"],
        "event loop blocked": line["loop_blocked"],
        "garbage collector": line["gc"],
        "interpreter lock": line["gil"],
        "no processor": line["cpu_starved"],
    }
    own = sum(v for k, v in shares.items() if k not in ("own cpu", "views waited for"))
    shares["unaccounted"] = max(0.0, line["total"] - own)
    return max(shares, key=lambda k: shares[k])


def _flush(state: _State) -> None:
    lines = _slow_lines(state)
    with state.timeline.lock:
        holds, state.timeline.holds = state.timeline.holds, []
    if lines:
        with state.path("slow").open("a") as out:
            out.write("".join(json.dumps(line) + "\n" for line in lines))
    if holds:
        with state.path("holds").open("a") as out:
            out.write("".join(json.dumps(hold) + "\n" for hold in holds))


async def _loop_monitor(state: _State) -> None:
    """Wake every 10 ms; a wake later than LAG means the loop was kept from running."""
    while True:
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        state.loop_tick = now
        if now - before - 0.01 > LAG:
            state.blocked.append((before + 0.01, now, "loop"))


def _watchdog(state: _State) -> None:
    written = time.perf_counter()
    while True:
        time.sleep(0.05)
        now = time.perf_counter()
        _sample_loop(state)
        with state.lock:
            late = [t for t in state.in_flight.values() if now - t.start > SLOW and not t.dumped]
        loop_late = state.loop_started and now - state.loop_tick > SLOW
        if (late or loop_late) and now - state.last_dump > 1.0:
            for trace in late:
                trace.dumped = True
            state.last_dump = now
            state.dumps += 1
            _dump(state, now, late, loop_late)
        if now - written > 2.0:
            written = now
            _summary(state)


def _sample_loop(state: _State) -> None:
    """Where the event loop is, every 50 ms (a sample profile: counted when not idle)."""
    frame = sys._current_frames().get(state.loop_thread or -1)
    if frame is None or frame.f_code.co_filename.endswith(("runners.py", "selectors.py")):
        return
    place = probes.where(frame)
    state.loop_where[place] = state.loop_where.get(place, 0) + 1


def _dump(state: _State, now: float, late: list[Trace], loop_late: bool) -> None:
    names = {t.ident: t.name for t in threading.enumerate()}
    lines = [
        f"== {time.strftime('%H:%M:%S')} pid {state.pid}: {len(late)} requests over {SLOW}s "
        f"({', '.join(sorted({t.kind for t in late}))}); loop not run for "
        f"{now - state.loop_tick:.3f}s" + (" (LOOP STALLED)" if loop_late else "")
    ]
    for ident, frame in sys._current_frames().items():
        stack = traceback.extract_stack(frame)
        own = [f for f in stack if "/flsdb/" in f.filename]
        shown = own[-2:] + [f for f in stack[-4:] if f not in own[-2:]]
        where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(shown))
        loop = " [event loop]" if ident == state.loop_thread else ""
        lines.append(f"  {names.get(ident, ident)}{loop}: {where}")
    with state.path("stacks", "txt").open("a") as out:
        out.write("\n".join(lines) + "\n")


def _summary(state: _State) -> None:
    _flush(state)
    timeline = state.timeline
    with state.lock, timeline.lock:
        found = {
            "pid": state.pid,
            "cpu": time.process_time() - state.cpu_start,
            "dumps": state.dumps,
            "loop_blocked_seconds": sum(b - a for a, b, _ in state.blocked),
            "gc_seconds": sum(b - a for a, b, _ in timeline.gc),
            "gc_pauses": len(timeline.gc),
            "gc_over_50ms": sum(1 for a, b, _ in timeline.gc if b - a > 0.05),
            "gil_seconds": sum(b - a for a, b, _ in timeline.gil),
            "cpu_starved_seconds": sum(b - a for a, b, _ in timeline.starved),
            "gil_where": dict(timeline.gil_where),
            "loop_where": dict(state.loop_where),
            "kinds": {k: asdict(v) for k, v in state.kinds.items()},
        }
    with contextlib.suppress(OSError):
        state.path("summary", "json").write_text(json.dumps(found, indent=1))
