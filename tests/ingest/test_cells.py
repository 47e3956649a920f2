"""A few rows (a form's record) are parsed cell by cell, each cell's typed columns kept by its
text (`ingest.cells`): the same typed values and issues as the whole batch parsed at once, and
the patient's identifiers never kept."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from flsdb.ingest import cells, parse
from flsdb.ingest.rows import rows_upload
from flsdb.ingest.validate import validate
from tests.factory import nhs_number, record

ON = dt.date(2026, 1, 31)
ROWS = [
    record(),
    # An unknown answer, a two-digit year (a warning), a date that is not one, a bad drug list.
    record(
        nhs_number=nhs_number(1),
        sex="Female",
        falls_assessment="sometimes",
        date_fls_assessment="02/03/24",
        date_dxa="31/02/2024",
        bone_therapy_recommended="alendronate;alendronate",
    ),
    record(nhs_number="1234", fracture_site="Hip", date_of_birth="05/05/50"),
]


def _checked(rows: list[dict[str, str]]) -> tuple[pl.DataFrame, list[tuple[object, ...]]]:
    table = validate(
        rows_upload(rows, "record"),
        "records",
        known_services={"FLS01"},
        allowed_services={"FLS01"},
        upload_date=ON,
        blank="clear",
    )
    try:
        issues = [(i.level, i.row, i.column, i.value, i.message) for i in table.issues.issues()]
        return table.frame, issues
    finally:
        table.close()


def test_rows_parsed_cell_by_cell_equal_the_batch_parsed_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = [[row] for row in ROWS] + [ROWS[:2], ROWS]
    assert all(len(rows) <= cells.FEW_ROWS for rows in files)
    levels = set()
    for attempt in range(2):  # the first parses each cell, the second takes the kept ones
        for rows in files:
            frame, issues = _checked(rows)
            with monkeypatch.context() as m:
                m.setattr(cells, "FEW_ROWS", 0)  # the whole batch at once
                whole, whole_issues = _checked(rows)
            assert frame.equals(whole), (attempt, rows)
            assert issues == whole_issues, (attempt, rows)
            levels |= {level for level, *_ in issues}
    assert levels == {"error", "warning"}


def test_identifiable_cells_are_never_kept() -> None:
    _checked([record(nhs_number=nhs_number(7), date_of_birth="1944-04-04", postcode="SW1A 1AA")])
    kept = [p.cells for p in parse._PARSED.values()]
    texts = {key for memo in kept for key in memo._frames}
    assert ("sex", "female") in texts and ("date_fracture_diagnosed", "2024-03-01") in texts
    assert not {name for name, _ in texts} & {"nhs_number", "date_of_birth", "postcode"}
    assert all(not memo.kept & {"nhs_number", "date_of_birth", "postcode"} for memo in kept)
