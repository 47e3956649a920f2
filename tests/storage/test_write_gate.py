"""The web application's writers take turns in the process before SQLite's write lock
(`storage.write_gate`): a second writer waits at the gate, not in SQLite's busy handler, and
goes on as soon as the first commits; the gate is let go on a rollback, a failed statement and
a connection's return to the pool, never at a savepoint's rollback."""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from flsdb.services.events import record_event
from flsdb.storage import open_engine
from flsdb.storage.tables import events
from flsdb.storage.transactions import write_transaction
from flsdb.storage.write_gate import WriteGate, gate_of


@pytest.fixture
def pooled(migrated_db_url: str) -> Iterator[Engine]:
    engine = open_engine(migrated_db_url, pooled=True)
    yield engine
    engine.dispose()


def _gate(engine: Engine) -> WriteGate:
    gate = gate_of(engine)
    assert gate is not None
    return gate


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def _at_gate(thread: threading.Thread) -> bool:
    frame: Any = sys._current_frames().get(thread.ident or 0)
    while frame is not None:
        if frame.f_code.co_name == "take" and frame.f_code.co_filename.endswith("write_gate.py"):
            return True
        frame = frame.f_back
    return False


def _until(check: Any, what: str) -> None:
    deadline = time.monotonic() + 30
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.005)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_second_writer_waits_at_the_gate_and_goes_on_at_the_commit(pooled: Engine) -> None:
    gate = _gate(pooled)
    holding, release = threading.Event(), threading.Event()
    taken: list[float] = []

    def first() -> None:
        with write_transaction(pooled) as conn:
            record_event(conn, "first", "login")
            holding.set()
            release.wait(30)

    def second() -> None:  # a deferred transaction: its INSERT takes the lock
        record_event(pooled, "second", "login")
        taken.append(time.perf_counter())

    one = threading.Thread(target=first)
    one.start()
    assert holding.wait(30)
    assert gate.holding is not None
    two = threading.Thread(target=second)
    two.start()
    _until(lambda: _at_gate(two), "the second writer is not waiting at the gate")
    assert _count(pooled) == 0  # a reader is not held
    release.set()
    one.join(30)
    two.join(30)
    assert len(taken) == 1
    assert _count(pooled) == 2
    assert gate.holding is None and gate.owner is None


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_gate_is_let_go_on_a_rollback_and_a_return_to_the_pool(pooled: Engine) -> None:
    gate = _gate(pooled)
    with pytest.raises(RuntimeError), write_transaction(pooled) as conn:
        record_event(conn, "someone", "login")
        assert gate.holding is not None
        raise RuntimeError("refused")
    assert gate.holding is None
    with pooled.connect() as conn:  # a write never committed: rolled back at the return
        record_event(conn, "someone", "login")
        assert gate.holding is not None
    assert gate.holding is None
    with pooled.begin() as conn:
        record_event(conn, "kept", "login")
    assert gate.holding is None
    assert _count(pooled) == 1


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_failed_write_lets_the_gate_go(pooled: Engine) -> None:
    gate = _gate(pooled)
    row = {"at": dt.datetime.now(), "user_name": "x", "action": "login", "id": 1}
    with pooled.begin() as conn:
        conn.execute(events.insert(), row)
    with pytest.raises(Exception, match="UNIQUE"), pooled.begin() as conn:
        conn.execute(events.insert(), row)  # the same id: refused
    assert gate.holding is None
    record_event(pooled, "after", "login")  # not held up: the gate was let go
    assert _count(pooled) == 2


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_savepoints_rollback_keeps_the_gate(pooled: Engine) -> None:
    gate = _gate(pooled)
    with write_transaction(pooled) as conn:
        record_event(conn, "outer", "login")
        conn.exec_driver_sql("SAVEPOINT inner")
        record_event(conn, "inner", "login")
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT inner")
        assert gate.holding is not None  # the transaction goes on, holding SQLite's lock
        conn.exec_driver_sql("RELEASE SAVEPOINT inner")
    assert gate.holding is None
    assert _count(pooled) == 1


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_writer_whose_own_thread_holds_the_gate_is_not_held_at_it(pooled: Engine) -> None:
    gate = _gate(pooled)
    with pooled.begin() as conn:
        record_event(conn, "first", "login")
        with pooled.connect() as other:
            other.exec_driver_sql("PRAGMA busy_timeout=50")
            # SQLite refuses it after its busy timeout, as it did before the gate
            with pytest.raises(Exception, match="locked"):
                record_event(other, "second", "login")
            other.exec_driver_sql("PRAGMA busy_timeout=60000")
        assert gate.holding is not None
    assert gate.holding is None
    assert _count(pooled) == 1


def test_engines_other_than_sqlite_have_no_gate() -> None:
    from sqlalchemy import create_engine

    from flsdb.storage.write_gate import gate_writes

    assert gate_writes(create_engine("postgresql+psycopg://u@localhost/none")) is None
