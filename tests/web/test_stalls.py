"""The stall diagnosis ($FLSDB_STALLS, `flsdb.web.stalls`): a request held behind another
writer's open transaction is written down as slow, its cause the write lock, the holder's
transaction written with when it took and released the lock, and the threads' places while it
waited; benchmarks/stalls.py then says whose transaction the request waited behind."""

from __future__ import annotations

import gc
import json
import threading
import time
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from benchmarks.stalls import report
from fastapi.testclient import TestClient

from flsdb.kept import Kept
from flsdb.services.events import record_event
from flsdb.storage.transactions import write_transaction
from flsdb.web import stall_probes, stalls
from flsdb.web.app import create_app
from flsdb.web.settings import Settings
from tests.web.conftest import PASSWORD, SECRET, Site


def test_kinds_come_from_the_method_and_the_route_shape() -> None:
    assert stalls.kind_of("GET", "/fls/FLS01") == "dashboard page"
    assert stalls.kind_of("GET", "/api/records/12") == "record read (API)"
    assert stalls.kind_of("PUT", "/api/records/12") == "record save (API)"
    assert stalls.kind_of("GET", "/api/records") == "record search (API)"
    assert stalls.kind_of("GET", "/api/kpis") == "KPIs (API)"
    assert stalls.kind_of("POST", "/api/login") == "other"


def test_the_cause_is_the_largest_share() -> None:
    line: dict[str, Any] = dict.fromkeys((*stalls.PARTS, *stalls.OVER), 0.0)
    line.update(total=0.5, thread_cpu=0.05, sql=0.02, lock=0.3)
    assert stalls.cause(line) == "write lock"
    line.update(lock=0.0, gc=0.35)
    assert stalls.cause(line) == "garbage collector"
    line.update(gc=0.0)
    assert stalls.cause(line) == "unaccounted"  # 0.43 s on none of the waits


def _until(check: Any, what: str) -> None:
    deadline = time.monotonic() + 60
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_request_behind_an_open_write_is_noted_with_its_cause(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(stalls.ENV, str(tmp_path / "stalls"))
    # put back after the test: the diagnosis patches these for the whole process
    monkeypatch.setattr(anyio.to_thread, "run_sync", anyio.to_thread.run_sync)
    monkeypatch.setattr(Kept, "get", Kept.get)
    callbacks = list(gc.callbacks)  # the collector calls its own list: put back in place
    try:
        _held_save(site, tmp_path / "stalls")
    finally:
        gc.callbacks[:] = callbacks


def _held_save(site: Site, folder: Path) -> None:
    app = create_app(Settings(database_url=site.url, secret_key=SECRET))
    engine = app.state.engine
    state = stalls._STATE[0]
    record_id = site.record_id("FLS01")
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:  # another writer's transaction, open until released
        with write_transaction(engine) as conn:
            record_event(conn, "someone", "login")
            holding.set()
            release.wait(60)

    with TestClient(app, base_url="http://testserver") as client:
        login = client.post("/api/login", json={"username": "nurse", "password": PASSWORD})
        assert login.status_code == 200
        client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        body = client.get(f"/api/records/{record_id}").json()  # not held: fast
        changed = {**body, "sex": "male" if body["sex"] != "male" else "female"}
        held = threading.Thread(target=writer, name="held-writer")
        held.start()
        assert holding.wait(60)
        answers: list[int] = []
        saver = threading.Thread(
            target=lambda: answers.append(
                client.put(f"/api/records/{record_id}", json=changed).status_code
            )
        )
        saver.start()
        # The save waits for the writer (a read's access event does not: it is written after
        # the answer, `services.event_writer`); the watchdog writes down the threads.
        stacks = folder / f"stacks-{state.pid}.txt"
        _until(lambda: stacks.exists() and "update_record" in stacks.read_text(), "no dump")
        time.sleep(0.1)  # the lock held a little longer than the watchdog's SLOW
        release.set()
        held.join(60)
        saver.join(60)
        gc.collect()  # a pause the collector's probe notes
    assert answers == [200]
    stalls._summary(state)  # written now (the watchdog writes them every 2 s)
    slow = [json.loads(line) for line in (folder / f"slow-{state.pid}.jsonl").open()]
    # A read never waits for the write lock (its access event is written after the answer).
    assert all(line["lock"] == 0 for line in slow if line["kind"] == "record read (API)")
    saves = [line for line in slow if line["kind"] == "record save (API)"]
    assert len(saves) == 1, json.dumps(slow)
    assert saves[0]["cause"] == "write lock", json.dumps(slow)
    assert saves[0]["lock"] >= stalls.SLOW
    [(began, ended)] = saves[0]["lock_waits"]
    assert ended - began >= stalls.SLOW
    holds = [json.loads(line) for line in (folder / f"holds-{state.pid}.jsonl").open()]
    held_by = [h for h in holds if h[0] == "held-writer"]
    # the writer took the lock before the save began to wait, and let it go before it got it
    # (SQLite's busy handler sleeps up to 100 ms between tries: the gap is the lock free)
    assert len(held_by) == 1 and held_by[0][1] <= began < held_by[0][2] <= ended
    summary = json.loads((folder / f"summary-{state.pid}.json").read_text())
    save = summary["kinds"]["record save (API)"]
    assert (save["n"], save["slow"]) == (1, 1)
    assert summary["gc_pauses"] >= 1
    # The session is looked up on the event loop (a thread hand-off per request cost more than
    # it saved on a quiet machine: README, issue 19), so the loop may be noted stalled here.
    assert "held-writer" in stacks.read_text()  # the open write is in the threads' dump
    written = report(folder)
    assert "held-writer (same process)" in written
    assert "| record save (API) | 1 | 1 |" in written
    app.state.engine.dispose()


def test_a_late_wake_while_the_process_ran_is_the_interpreter_lock() -> None:
    timeline = stall_probes.Timeline()
    stop = threading.Event()
    probe = threading.Thread(target=stall_probes.gil_probe, args=(timeline, stop), daemon=True)
    probe.start()
    time.sleep(0.05)
    began = time.perf_counter()
    # One long C step: the builtin sum holds the interpreter lock until it returns.
    assert sum(range(40_000_000)) > 0
    ended = time.perf_counter()
    time.sleep(0.05)
    stop.set()
    probe.join(5)
    held = stall_probes.Timeline.overlap(timeline.gil, began, ended)
    late = held + stall_probes.Timeline.overlap(timeline.starved, began, ended)
    assert late >= (ended - began) * 0.5, (held, late, ended - began)
    assert held > 0
    assert any("test_stalls.py" in place for place in timeline.gil_where)
