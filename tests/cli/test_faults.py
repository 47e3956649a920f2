"""Faults as users meet them, through the installed command: a full disk, a read-only disk, a
file that is not a database or is damaged, outputs that cannot be written, a lost PostgreSQL
connection. Each gives one sentence and exit 1, leaves no partial output, and leaves the
database as it was.

The command runs in-process (tests/command.py). The full and read-only disks are small tmpfs
mounts, made where root allows it (else skipped).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text

from flsdb.errors import StorageError
from flsdb.ingest import validate_file
from flsdb.storage import known_service_codes, store_records, writer
from flsdb.storage.tables import records
from tests.command import flsdb_here as flsdb
from tests.factory import write_services
from tests.storage.test_concurrency import ROWS, write_sexes
from tests.storage.test_store import load_services


@contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small disk needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


def stored(db: Path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return conn.execute("SELECT nhs_number, sex FROM records ORDER BY 1").fetchall()


def one_sentence(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()[-1]  # notes about the run may come before
    assert error.startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in error, result.stderr


def _database(folder: Path, tmp_path: Path) -> Path:
    db = folder / "flsdb.db"
    services = write_services(tmp_path / "services.csv")
    assert flsdb("load-services", str(services), "--db", str(db), cwd=tmp_path).returncode == 0
    female = write_sexes(tmp_path / "female.csv", ["female"] * ROWS)
    assert flsdb("import", str(female), "--db", str(db), cwd=tmp_path).returncode == 0
    return db


def test_disk_full_while_importing(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "8m") as disk:
        db = _database(disk, tmp_path)
        before = stored(db)
        filler = disk / "filler"
        free = shutil.disk_usage(disk).free
        filler.write_bytes(b"\0" * (free - 64 * 1024))
        male = write_sexes(tmp_path / "male.csv", ["male"] * ROWS)
        result = flsdb("import", str(male), "--db", str(db), cwd=tmp_path)
        one_sentence(result, "the disk is full", "Nothing was stored; the database is as it was.")
        assert f"Cannot use the database {db}: the disk is full" in result.stderr
        filler.unlink()
        assert stored(db) == before
        again = flsdb("import", str(male), "--db", str(db), cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert {sex for _, sex in stored(db)} == {"male"}


def test_read_only_disk(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "4m") as disk:
        db = _database(disk, tmp_path)
        before = stored(db)
        read_only(disk)
        male = write_sexes(tmp_path / "male.csv", ["male"] * ROWS)
        result = flsdb("import", str(male), "--db", str(db), cwd=tmp_path)
        one_sentence(result, "it is on a read-only disk, where nothing can be stored")
        assert stored(db) == before
        # Reading needs no writing: KPIs and reports work from a read-only copy.
        kpis = flsdb("kpis", "--period", "2024", "--format", "csv", "--db", str(db), cwd=tmp_path)
        assert kpis.returncode == 0, kpis.stderr
        assert f"service,FLS01,2024,kpi02,{ROWS}," in kpis.stdout


def test_outputs_to_a_full_disk_leave_nothing_behind(tmp_path: Path) -> None:
    db = _database(tmp_path, tmp_path)
    result = flsdb(
        "kpis", "--period", "2024", "--format", "csv", "--out", "/dev/full", "--db", str(db),
        cwd=tmp_path,
    )  # fmt: skip
    one_sentence(result, "Cannot write /dev/full: the disk is full.")
    assert Path("/dev/full").is_char_device()
    with small_disk(tmp_path / "disk", "300k") as disk:
        report = flsdb(
            "report", "--period", "2024", "--as-of", "2026-01-31", "--jobs", "1", "--no-pdf",
            "--out", str(disk / "reports"), "--db", str(db), cwd=tmp_path,
        )  # fmt: skip
        one_sentence(report, "the disk is full")
        assert [p for p in disk.rglob("*") if p.is_file()] == []
        templates = flsdb("template", "--out", str(disk / "templates"), cwd=tmp_path)
        (disk / "filler").write_bytes(b"\0" * (shutil.disk_usage(disk).free - 4096))
        templates = flsdb("template", "--out", str(disk / "templates"), cwd=tmp_path)
        one_sentence(templates, "the disk is full")
        assert not list((disk / "templates").glob(".*"))


@pytest.mark.parametrize("command", ["import", "kpis", "report"])
def test_not_a_database(tmp_path: Path, command: str) -> None:
    fake = tmp_path / "notes.db"
    fake.write_text("These are my notes, not a database.\n" * 200)
    args = {
        "import": ["import", str(write_sexes(tmp_path / "r.csv", ["female"] * 3))],
        "kpis": ["kpis", "--period", "2024"],
        "report": ["report", "--period", "2024", "--out", str(tmp_path / "out")],
    }[command]
    result = flsdb(*args, "--db", str(fake), cwd=tmp_path)
    one_sentence(result, "it is not an SQLite database file (or it is damaged)")
    assert fake.read_text().startswith("These are my notes")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.html"))


def test_damaged_database(tmp_path: Path) -> None:
    db = _database(tmp_path, tmp_path)
    data = bytearray(db.read_bytes())
    page = 4096
    for start in range(3 * page, len(data) - page, 2 * page):  # every other page from the 4th
        data[start + 100 : start + 900] = os.urandom(800)
    db.write_bytes(bytes(data))
    for args in (["kpis", "--period", "2024"], ["import", str(tmp_path / "female.csv")]):
        result = flsdb(*args, "--db", str(db), cwd=tmp_path)
        one_sentence(result, "(or it is damaged)")


def test_lost_postgresql_connection(
    postgres_admin_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server ends the import's connection half-way: one sentence, nothing stored."""
    from tests.conftest import _fresh_postgres

    url = _fresh_postgres(postgres_admin_url)
    from flsdb.storage import open_engine

    engine: Engine = open_engine(url)
    load_services(engine, tmp_path)
    table = validate_file(
        write_sexes(tmp_path / "male.csv", ["male"] * ROWS),
        "records",
        known_services=known_service_codes(engine),
    )
    halfway, ended = threading.Event(), threading.Event()
    real = writer._upsert_batch

    def slow_batch(*args, **kwargs):  # type: ignore[no-untyped-def]
        counts = real(*args, **kwargs)
        halfway.set()
        assert ended.wait(60)  # the next batch goes to a connection the server has ended
        return counts

    monkeypatch.setattr(writer, "_upsert_batch", slow_batch)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")

    def end_connections() -> None:
        halfway.wait(60)
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        ended.set()

    killer = threading.Thread(target=end_connections)
    killer.start()
    with pytest.raises(StorageError) as caught:
        store_records(engine, table, "tester")
    killer.join()
    message = str(caught.value)
    assert "the connection to the database server was lost" in message
    assert "Nothing was stored" in message
    engine.dispose()
    with admin.connect() as conn:
        assert conn.execute(select(func.count()).select_from(records)).scalar_one() == 0
    admin.dispose()
