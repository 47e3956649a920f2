"""Writers at once, on SQLite and a real PostgreSQL server: imports of the same keys queue, the
last committed values are kept everywhere, and every audit before-value is the after-value of
the change before it. Readers (KPIs, reports) and an import run side by side."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from flsdb.ingest import validate_file
from flsdb.storage import known_service_codes, store_records, writer
from flsdb.storage.tables import audit_log, import_log, records
from tests.command import Forked, flsdb_here, fork_flsdb, start_flsdb
from tests.factory import record, write_records
from tests.storage.test_store import TODAY, load_services

ROWS = 1500


def valid_numbers(count: int) -> list[str]:
    """`count` valid NHS numbers (modulus 11), in order from 9000000000."""
    found: list[str] = []
    base = 900_000_000
    while len(found) < count:
        digits = [int(d) for d in str(base)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            found.append(f"{base}{check}")
        base += 1
    return found


NUMBERS = valid_numbers(ROWS)


def write_sexes(path: Path, sexes: list[str]) -> Path:
    return write_records(
        path, [record(nhs_number=n, sex=s) for n, s in zip(NUMBERS, sexes, strict=False)]
    )


def db_argument(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def stored_sexes(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(records.c.nhs_number, records.c.sex)).all()
    return {n: s for n, s in rows}


def imports(engine: Engine) -> list[tuple[int, str, int, int, int]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(
                    import_log.c.id,
                    import_log.c.file_name,
                    import_log.c.inserted,
                    import_log.c.updated,
                    import_log.c.unchanged,
                )
                .where(import_log.c.kind == "records")
                .order_by(import_log.c.id)
            )
        ]


def assert_audit_chain(engine: Engine) -> None:
    """Per record: one insert first; each update's before is the previous update's after; the
    last after is what is stored."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.row_key, audit_log.c.action, audit_log.c.before, audit_log.c.after)
            .where(audit_log.c.table_name == "records")
            .order_by(audit_log.c.id)
        ).all()
    history: dict[str, list[tuple[str, str | None, str | None]]] = defaultdict(list)
    for key, action, before, after in rows:
        history[key].append((action, before, after))
    current = stored_sexes(engine)
    assert len(history) == len(current) == ROWS
    for key, changes in history.items():
        assert changes[0][0] == "insert", key
        updates = [(json.loads(b), json.loads(a)) for action, b, a in changes[1:]]
        assert all(action == "update" for action, _, _ in changes[1:]), key
        for (_, previous_after), (before, _) in itertools.pairwise(updates):
            assert before == previous_after, key
        if updates:
            assert updates[-1][1]["sex"] == current[key.split("|")[1]], key


def _sqlite_waits(process: subprocess.Popen[str], database: str) -> bool:
    """The process has the database file open and its main thread sleeps (SQLite's busy handler
    retrying the write lock): read from /proc."""
    proc = Path(f"/proc/{process.pid}")
    try:
        opened = {os.path.realpath(fd) for fd in (proc / "fd").iterdir()}
        wchan = (proc / "wchan").read_text()
    except OSError:
        return False
    return os.path.realpath(database) in opened and "nanosleep" in wchan


def waits_for_lock(engine: Engine, process: subprocess.Popen[str], limit: float = 120) -> bool:
    """Poll until `process` is seen waiting for a write lock: a PostgreSQL advisory lock not
    granted, or (SQLite) the database open and the busy handler sleeping, twice in a row. False
    if it finished or `limit` seconds passed first."""
    deadline = time.monotonic() + limit
    seen = 0
    while time.monotonic() < deadline and process.poll() is None:
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                waiting = conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND NOT granted AND pid <> pg_backend_pid()"
                    )
                ).scalar_one()
            seen = seen + 1 if waiting else 0
        else:
            seen = seen + 1 if _sqlite_waits(process, str(engine.url.database)) else 0
        if seen >= 2:
            return True
        time.sleep(0.05)
    return False


def import_held_while_the_command_waits(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    table: Any,
    name: str,
    other: Path,
    cwd: Path,
) -> None:
    """Stores `table` in this process, its transaction held open once its rows are written,
    until the installed command importing `other` (another process) is seen waiting for the
    lock; then both finish, and both must succeed."""
    holding, waited_seen = threading.Event(), threading.Event()
    real = writer._upsert_batch

    def held_batch(*args, **kwargs):  # type: ignore[no-untyped-def]
        counts = real(*args, **kwargs)
        holding.set()
        waited_seen.wait(180)  # this import's rows stay uncommitted until the other waits
        return counts

    monkeypatch.setattr(writer, "_upsert_batch", held_batch)
    thread = threading.Thread(target=store_records, args=(engine, table, name))
    thread.start()
    assert holding.wait(60)
    process = start_flsdb("import", str(other), "--db", db_argument(engine), cwd=cwd)
    try:
        waited = waits_for_lock(engine, process)
    finally:
        waited_seen.set()
    assert waited, "the second import did not wait for the first's lock"
    thread.join(120)
    _, err = process.communicate(timeout=180)
    assert process.returncode == 0, err


def test_an_import_waits_for_one_holding_the_same_keys(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Import A reads the stored rows and holds its transaction open; import B (the installed
    command, another process) starts meanwhile. B must wait and then compare against A's
    committed values: the rows B leaves as they were in the base are changed back by B, not
    skipped as 'unchanged' (a lost update), and its audit before-values are A's after-values."""
    load_services(engine, tmp_path)
    base = write_sexes(tmp_path / "base.csv", ["female"] * ROWS)
    first = validate_file(base, "records", known_services=known_service_codes(engine))
    store_records(engine, first, "base")
    a_rows = write_sexes(tmp_path / "a.csv", ["male"] * ROWS)
    b_sexes = ["female" if i % 2 == 0 else "male" for i in range(ROWS)]
    b_rows = write_sexes(tmp_path / "b.csv", b_sexes)

    a_table = validate_file(
        a_rows, "records", known_services=known_service_codes(engine), upload_date=TODAY
    )
    import_held_while_the_command_waits(engine, monkeypatch, a_table, "a", b_rows, tmp_path)

    assert [(name, i, u, s) for _, name, i, u, s in imports(engine)] == [
        ("base.csv", ROWS, 0, 0),
        ("a.csv", 0, ROWS, 0),
        ("b.csv", 0, ROWS // 2, ROWS // 2),
    ]
    assert stored_sexes(engine) == dict(zip(NUMBERS, b_sexes, strict=True))
    assert_audit_chain(engine)


def test_two_imports_of_the_same_new_keys_at_once(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both insert the same keys: the second to get the lock finds the first's rows and updates
    them (no duplicate-key failure); the values of the last committed are kept. The first
    (in this process) holds its transaction, its new rows inserted, until the second (the
    installed command) is seen waiting for the lock."""
    load_services(engine, tmp_path)
    male = write_sexes(tmp_path / "male.csv", ["male"] * ROWS)
    female = write_sexes(tmp_path / "female.csv", ["female"] * ROWS)
    first = validate_file(
        male, "records", known_services=known_service_codes(engine), upload_date=TODAY
    )
    import_held_while_the_command_waits(engine, monkeypatch, first, "male.csv", female, tmp_path)
    done = imports(engine)
    assert sorted((i, u, s) for _, _, i, u, s in done) == [(0, ROWS, 0), (ROWS, 0, 0)]
    last = done[-1][1]
    assert last == "female.csv"  # the one that waited committed last
    assert done[-1][3] == ROWS  # the last committed updated every row
    assert set(stored_sexes(engine).values()) == {last.removesuffix(".csv")}
    assert_audit_chain(engine)


def _reading(engine: Engine, process: Forked) -> bool:
    """The process has the database open: the SQLite file among its open files, or (PostgreSQL)
    a session of its own on the database."""
    if engine.dialect.name != "postgresql":
        try:
            opened = {os.path.realpath(fd) for fd in Path(f"/proc/{process.pid}/fd").iterdir()}
        except OSError:
            return False
        return os.path.realpath(str(engine.url.database)) in opened
    ports = _client_ports(process.pid)
    with engine.connect() as conn:
        used = conn.execute(
            text(
                "SELECT client_port FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalars()
        return any(port in ports for port in used)


def _client_ports(pid: int) -> set[int]:
    """The local TCP ports of the process's sockets (from /proc: its socket inodes matched in
    the network tables)."""
    try:
        inodes = {
            os.readlink(fd)[8:-1]
            for fd in Path(f"/proc/{pid}/fd").iterdir()
            if os.readlink(fd).startswith("socket:[")
        }
        tables = [
            Path(f"/proc/{pid}/net/{name}").read_text().splitlines()[1:] for name in ("tcp", "tcp6")
        ]
    except OSError:
        return set()
    return {
        int(fields[1].rsplit(":", 1)[1], 16)
        for lines in tables
        for fields in (line.split() for line in lines)
        if fields[9] in inodes
    }


def wait_until_reading(engine: Engine, processes: list[Forked]) -> int:
    """Poll until each process has the database open or has finished; how many were seen with
    it open (a fast one may finish between two looks)."""
    deadline = time.monotonic() + 120
    seen: set[int] = set()
    while time.monotonic() < deadline:
        seen |= {p.pid for p in processes if p.pid not in seen and _reading(engine, p)}
        if all(p.pid in seen or p.poll() is not None for p in processes):
            return len(seen)
        time.sleep(0.05)
    raise AssertionError("the readers never opened the database")


def test_an_import_while_kpis_and_reports_read(engine: Engine, tmp_path: Path) -> None:
    load_services(engine, tmp_path)
    base = write_sexes(tmp_path / "base.csv", ["female"] * ROWS)
    store_records(engine, validate_file(base, "records", known_services={"FLS01"}), "base")
    url = db_argument(engine)
    # Two readers, the report set and the KPIs, each in a process of its own forked from this
    # one (tests/command.py: a new Python's start cost about 2 CPU s each; the installed
    # command's own start is tested above). This process's connections are closed first, so
    # that a reader is seen reading only once it opens the database itself.
    engine.dispose()
    readers = [
        fork_flsdb(
            "report", "--period", "2024", "--as-of", "2026-01-31", "--no-pdf", "--jobs", "1",
            "--out", str(tmp_path / "reports"), "--db", url, cwd=tmp_path,
        ),
        fork_flsdb(
            "kpis", "--period", "2024", "--as-of", "2026-01-31", "--format", "csv",
            "--db", url, cwd=tmp_path,
        ),
    ]  # fmt: skip
    wait_until_reading(engine, readers)  # the import starts once they read (or are done)
    changed = write_sexes(tmp_path / "male.csv", ["male"] * ROWS)
    # The import by the command's entry point in this process (tests/command.py): the readers
    # are the other processes it runs beside.
    result = flsdb_here("import", str(changed), "--db", url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{ROWS} updated" in result.stdout
    for process in readers:
        _out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    assert (tmp_path / "reports" / "national-report-2024.html").is_file()
    assert set(stored_sexes(engine).values()) == {"male"}
