"""The web application writes SQLite through Python's sqlite3 only: the same imports, updates,
audit rows and reads as the ADBC path the command line uses."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from flsdb.ingest import open_upload, validate
from flsdb.storage import (
    known_service_codes,
    open_engine,
    sqlite_files,
    store_records,
    store_services,
)
from flsdb.storage.offsets import DAY_OFFSETS
from flsdb.storage.tables import RECORD_COLUMNS, audit_log, records
from tests.factory import nhs_number, record, write_records, write_services


def _load(folder: Path, python_only: bool) -> tuple[list[tuple[object, ...]], list[str], object]:
    if python_only:
        sqlite_files.use_python_sqlite()
    try:
        engine = open_engine(str(folder / "db.sqlite"))
        store_services(engine, validate(open_upload(write_services(folder / "s.csv")), "services"))
        rows = [
            record(
                nhs_number=nhs_number(i),
                date_fracture_diagnosed="2024-03-01",
                date_fls_assessment=f"2024-03-{10 + i}",
            )
            for i in range(5)
        ]
        for version in (rows, [{**r, "sex": "male"} if i < 2 else r for i, r in enumerate(rows)]):
            table = validate(
                open_upload(write_records(folder / "r.csv", version)),
                "records",
                known_services=known_service_codes(engine),
            )
            summary = store_records(engine, table, "test")
        assert (summary.inserted, summary.updated, summary.unchanged) == (0, 2, 3)
        with engine.connect() as conn:
            columns = [records.c[c] for c in (*RECORD_COLUMNS, "import_id", *DAY_OFFSETS)]
            stored = [
                tuple(r) for r in conn.execute(select(*columns).order_by(records.c.nhs_number))
            ]
            versions = [
                r.version for r in conn.execute(select(records).order_by(records.c.nhs_number))
            ]
            actions = [
                r.action
                for r in conn.execute(
                    select(audit_log)
                    .where(audit_log.c.table_name == "records")
                    .order_by(audit_log.c.id)
                )
            ]
        read = sqlite_files.read_sqlite(
            str(folder / "db.sqlite"),
            "SELECT nhs_number, sex, t_score FROM records ORDER BY nhs_number",
        )
        assert versions == [2, 2, 1, 1, 1]
        engine.dispose()
        return stored, actions, read.to_pylist()
    finally:
        sqlite_files._PYTHON_SQLITE_ONLY.clear()


def test_python_sqlite_writes_and_reads_as_adbc_does(tmp_path: Path) -> None:
    (tmp_path / "adbc").mkdir()
    (tmp_path / "python").mkdir()
    adbc = _load(tmp_path / "adbc", python_only=False)
    python = _load(tmp_path / "python", python_only=True)
    assert adbc == python
    assert adbc[1] == ["insert"] * 5 + ["update"] * 2
    # The day offsets are set on both paths: assessment 9 to 13 days after the fracture.
    assert [row[-4:] for row in adbc[0]] == [(9 + i, None, None, None) for i in range(5)]
