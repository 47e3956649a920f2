"""The access log's events of an SQLite store written by one thread after the answer
(`services.event_writer`): a read is answered while another writer holds the store's write
lock, its event is written once the lock is free, nothing queued is lost, and the queue is
bounded."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from flsdb.services import event_writer
from flsdb.services.events import list_events, record_event
from flsdb.storage import open_engine
from flsdb.storage.tables import events
from tests.web.conftest import Site


def _actions(engine: Engine, record_id: int | None = None) -> list[str]:
    query = select(events.c.action).order_by(events.c.id)
    if record_id is not None:
        query = query.where(events.c.record_id == record_id)
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


def _hold_write_lock(path: str) -> sqlite3.Connection:
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_read_is_answered_while_a_writer_holds_the_lock_and_logged_after(site: Site) -> None:
    client = site.client("nurse")
    record_id = site.record_id("FLS01")
    holder = _hold_write_lock(site.url.removeprefix("sqlite:///"))
    try:
        answer = client.get(f"/api/records/{record_id}")
        assert answer.status_code == 200 and answer.json()["id"] == record_id
        assert "read_record" not in _actions(site.engine, record_id)  # not written yet
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # The log's own list waits for what this process has queued.
    rows, total = list_events(site.engine, action="read_record")
    assert total == 1 and rows[0]["record_id"] == record_id and rows[0]["user_name"] == "nurse"


def _until(condition: object, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def test_the_queue_is_bounded_and_loses_nothing_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.db"
    engine = open_engine(f"sqlite:///{path}")
    event_writer.defer_events(engine)
    queue = event_writer.queue_for(engine)
    assert queue is not None
    monkeypatch.setattr(event_writer, "MAX_QUEUED", 3)
    holder = _hold_write_lock(str(path))
    try:

        def produce() -> None:
            for i in range(6):
                record_event(engine, "u", f"action_{i}")

        producer = threading.Thread(target=produce)
        producer.start()
        # Three wait (the writer holds them until their transaction commits); the fourth
        # event's caller waits for room.
        assert _until(lambda: len(queue._rows) == 3)
        assert producer.is_alive()
        assert _actions(engine) == []
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    producer.join(30)
    assert not producer.is_alive()
    event_writer.flush_all()
    assert _actions(engine) == [f"action_{i}" for i in range(6)]
    event_writer.stop(engine)
    assert event_writer.queue_for(engine) is None
    record_event(engine, "u", "after_stop")  # written by its caller, at once
    assert _actions(engine)[-1] == "after_stop"
    engine.dispose()


def test_stopping_writes_what_is_queued(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    engine = open_engine(f"sqlite:///{path}")
    event_writer.defer_events(engine)
    holder = _hold_write_lock(str(path))
    try:
        record_event(engine, "u", "first")
        record_event(engine, "u", "second")
        assert _actions(engine) == []
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    event_writer.stop(engine)  # as the server's shutdown does
    assert _actions(engine) == ["first", "second"]
    engine.dispose()


def test_a_postgresql_store_writes_its_events_in_the_request(engine: Engine) -> None:
    event_writer.defer_events(engine)
    if engine.dialect.name == "sqlite":
        assert event_writer.queue_for(engine) is not None
        event_writer.stop(engine)
    else:
        assert event_writer.queue_for(engine) is None


def test_a_failed_write_is_tried_again_and_logged_without_the_events(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    engine = open_engine(f"sqlite:///{tmp_path / 'store.db'}")
    failures = [2]  # the first two tries fail, as a full disk or a lock held too long would

    def refuse(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.startswith("INSERT INTO events") and failures[0]:
            failures[0] -= 1
            raise OperationalError(statement, (), Exception("database or disk is full"))

    event.listen(engine, "before_cursor_execute", refuse)
    event_writer.defer_events(engine)
    record_event(engine, "u", "kept", detail="upload 1234abcd")
    event_writer.flush_all()
    assert failures == [0]
    with engine.connect() as conn:
        assert list(conn.execute(select(events.c.action, events.c.detail))) == [
            ("kept", "upload 1234abcd")
        ]
    logged = [r.getMessage() for r in caplog.records if r.name == "flsdb.services.event_writer"]
    assert len(logged) == 2 and all("1 access events" in m for m in logged)
    assert not any("1234abcd" in m or "full" in m for m in logged)
    event_writer.stop(engine)
    engine.dispose()
