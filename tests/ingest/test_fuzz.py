"""Any bytes given as an upload end in either a stored file or a clear refusal (one sentence, an
flsdb error), never a traceback: random bytes, random edits of a valid CSV and XLSX, and CSV
built from random text cells."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from flsdb.errors import FlsdbError
from flsdb.ingest import open_upload, validate
from flsdb.storage import open_engine, store_records, store_services
from tests.factory import RECORD_COLUMNS, nhs_number, record, write_records, write_services


def _valid_csv() -> bytes:
    with tempfile.TemporaryDirectory(prefix="flsdb-fuzz-") as folder:
        rows = [record(nhs_number=nhs_number(i)) for i in range(3)]
        return write_records(Path(folder) / "valid.csv", rows).read_bytes()


def _valid_xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(RECORD_COLUMNS)
    for i in range(3):
        row = record(nhs_number=nhs_number(i))
        book.active.append([row[c] or None for c in RECORD_COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


VALID_CSV = _valid_csv()
VALID_XLSX = _valid_xlsx()


class Uploads:
    """The folder the examples' uploads are written to (each overwrites the last), and a store
    for those that pass, made when the first one does."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._engine: Engine | None = None

    def store(self) -> Engine:
        if self._engine is None:
            self._engine = open_engine(f"sqlite:///{self.folder / 'fuzz.db'}")
            services_file = write_services(self.folder / "services.csv")
            services = validate(open_upload(services_file), "services")
            store_services(self._engine, services, "fuzz")
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Uploads]:
    made = Uploads(tmp_path_factory.mktemp("fuzz"))
    yield made
    made.close()


def upload_ends_well(uploads: Uploads, data: bytes, suffix: str) -> None:
    path = uploads.folder / f"upload{suffix}"
    path.write_bytes(data)
    try:
        table = validate(open_upload(path), "records", known_services={"FLS01", "FLS02", "WAL01"})
        if table.ok:
            store_records(uploads.store(), table, "fuzz")
        else:
            assert table.issues.error_count > 0
            for message in table.issues.frame["message"]:
                assert message and "\n" not in message
    except FlsdbError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message, message
        assert len(message) < 600, message


def _edited(original: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    data = bytearray(original)
    for position, removed, inserted in edits:
        at = position % (len(data) + 1)
        data[at : at + removed] = inserted
    return bytes(data)


EDITS = st.lists(
    st.tuples(st.integers(0, 1 << 16), st.integers(0, 8), st.binary(max_size=8)),
    min_size=1,
    max_size=6,
)
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@FUZZ
@given(st.binary(max_size=3000), st.sampled_from([".csv", ".xlsx", ".txt"]))
def test_any_bytes(uploads: Uploads, data: bytes, suffix: str) -> None:
    upload_ends_well(uploads, data, suffix)


@FUZZ
@given(EDITS)
def test_edited_csv(uploads: Uploads, edits: list[tuple[int, int, bytes]]) -> None:
    upload_ends_well(uploads, _edited(VALID_CSV, edits), ".csv")


@FUZZ
@given(EDITS)
def test_edited_xlsx(uploads: Uploads, edits: list[tuple[int, int, bytes]]) -> None:
    upload_ends_well(uploads, _edited(VALID_XLSX, edits), ".xlsx")


CELL = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", " ", '"', '""', "=1+1", "[/]", "\r", "\n", "٣", "2024-02-30", "NaN"]),
)


@FUZZ
@given(st.lists(st.lists(CELL, min_size=1, max_size=len(RECORD_COLUMNS) + 2), max_size=5))
def test_random_cells_under_the_real_header(uploads: Uploads, rows: list[list[str]]) -> None:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(RECORD_COLUMNS)
    writer.writerows(rows)
    upload_ends_well(uploads, buffer.getvalue().encode("utf-8", "surrogatepass"), ".csv")
