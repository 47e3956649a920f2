"""The maintained figures (storage.figures) equal a full recomputation after any sequence of
writes: form and API inserts, edits (stale ones refused), deletes, restores, imports and
deletes by key, on SQLite and PostgreSQL. Two recomputations: the cells rebuilt from the
records, and the KPI engine's own counts from the records at several extract dates."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from flsdb.errors import Conflict, ValidationFailed
from flsdb.ingest import open_upload, validate
from flsdb.ingest.rows import rows_upload
from flsdb.kpi import load_catalogue
from flsdb.kpi.cells import store_layout
from flsdb.kpi.query import count_query, counts_frame
from flsdb.kpi.sources import RecordSource, source_from_database
from flsdb.kpi.stored import counts_from_store, source_fetch
from flsdb.storage import delete_record, known_service_codes, store_records, store_services
from flsdb.storage.edits import delete_record_by_id, insert_record, update_record
from flsdb.storage.figures import CELLS, rebuild_figures
from flsdb.storage.tables import MONTHS, RECORD_COLUMNS
from tests.factory import nhs_number, record, write_records, write_services

CODES = ("FLS01", "FLS02", "WAL01")
FRACTURES = ("2024-03-01", "2025-01-10", "2025-08-20", "2025-11-30")
BIRTHS = ("1930-07-15", "1950-05-05", "1958-08-21", "1972-12-01")
EXTRACT_DATES = (dt.date(2025, 12, 15), dt.date(2026, 3, 1), dt.date(2027, 6, 1))


def _later(day: str, days: int) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat()


@st.composite
def rows(draw: st.DrawFn) -> dict[str, str]:
    """A valid record varying every field a KPI or breakdown reads."""
    fracture = draw(st.sampled_from(FRACTURES))
    dxa = draw(st.sampled_from(["", "performed", "ordered"]))
    followup = draw(st.sampled_from(["", "yes", "no"]))
    followup_52 = draw(st.sampled_from(["", "yes"]))
    assessed = draw(st.sampled_from(["", _later(fracture, 20), _later(fracture, 120)]))
    started = draw(st.sampled_from(["", "yes"])) if followup == "yes" else ""
    return record(
        service_code=draw(st.sampled_from(CODES)),
        nhs_number=nhs_number(draw(st.integers(0, 3))),
        date_fracture_diagnosed=fracture,
        date_of_birth=draw(
            st.sampled_from(["1930-07-15", "1950-05-05", "1958-08-21", "1972-12-01"])
        ),
        sex=draw(st.sampled_from(["female", "male", "not_known"])),
        care_home_resident=draw(st.sampled_from(["", "yes", "no"])),
        fracture_site=draw(st.sampled_from(["hip", "spine", "wrist", "other"])),
        date_fls_assessment=assessed,
        dxa=dxa,
        date_dxa=_later(fracture, draw(st.sampled_from([30, 100]))) if dxa == "performed" else "",
        t_score=draw(st.sampled_from(["", "-3.8", "-1.0"])) if dxa == "performed" else "",
        bone_therapy_recommended=draw(
            st.sampled_from(["", "alendronate", "teriparatide", "informed_decline"])
        ),
        falls_assessment=draw(st.sampled_from(["", "assessed", "not_done"])),
        fallen_past_12_months=draw(st.sampled_from(["", "yes", "no"])),
        two_or_more_falls=draw(st.sampled_from(["", "yes"])),
        followup_16w=followup,
        date_followup_16w=_later(fracture, draw(st.sampled_from([90, 130])))
        if followup == "yes"
        else "",
        bone_therapy_16w=draw(st.sampled_from(["", "alendronate", "not_started"]))
        if followup == "yes"
        else "",
        strength_balance_started_16w=started,
        followup_52w=followup_52,
        date_followup_52w=_later(fracture, 370) if followup_52 == "yes" else "",
        bone_therapy_52w="denosumab" if followup_52 == "yes" else "",
    )


operations = st.one_of(
    st.tuples(st.just("insert"), rows()),
    st.tuples(st.just("edit"), st.integers(0, 50), rows()),
    st.tuples(st.just("stale_edit"), st.integers(0, 50), rows()),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("delete_by_key"), st.integers(0, 50)),
    st.tuples(st.just("restore"), st.integers(0, 50)),
    st.tuples(st.just("import"), st.lists(rows(), min_size=1, max_size=6)),
)


def _typed(engine: Engine, row: dict[str, str]) -> dict[str, Any] | None:
    """The row as the form and the API store it (None: it is not valid)."""
    table = validate(
        rows_upload([row], "record"),
        "records",
        known_services=known_service_codes(engine),
        blank="clear",
    )
    try:
        if not table.ok:
            return None
        found = table.frame.row(0, named=True)
    finally:
        table.close()
    return {c: found.get(c) for c in RECORD_COLUMNS}


def _stored(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT id, version, service_code, nhs_number, date_fracture_diagnosed "
                    "FROM records ORDER BY id"
                )
            )
        )


def _cells(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = pd.read_sql_query(text(f"SELECT * FROM {CELLS} WHERE records <> 0"), conn)
    frame["fracture_date"] = frame["fracture_date"].astype(str)
    keys = ["service_code", "fracture_date", "breakdown", "grp"]
    return frame.sort_values(keys).reset_index(drop=True)


def _months(engine: Engine) -> pd.DataFrame:
    """The cells by month (`storage.cell_months`), as the triggers keep them."""
    with engine.connect() as conn:
        frame = pd.read_sql_query(text(f"SELECT * FROM {MONTHS} WHERE records <> 0"), conn)
    keys = ["breakdown", "year", "month", "service_code", "grp"]
    return frame.sort_values(keys).reset_index(drop=True)


def _apply(engine: Engine, step: tuple[Any, ...], folder: Path, first: dict[int, dict]) -> None:
    kind = step[0]
    stored = _stored(engine)
    pick = stored[step[1] % len(stored)] if stored and isinstance(step[1], int) else None
    try:
        if kind == "insert":
            values = _typed(engine, step[1])
            if values is not None:
                first[insert_record(engine, values, "test")] = values
        elif kind in ("edit", "stale_edit") and pick is not None:
            values = _typed(engine, step[2])
            if values is not None:
                version = pick.version - 1 if kind == "stale_edit" else pick.version
                update_record(engine, pick.id, version, values, CODES, "test")
        elif kind == "delete" and pick is not None:
            delete_record_by_id(engine, pick.id, CODES, pick.version, "test")
        elif kind == "delete_by_key" and pick is not None:
            key = {
                "service_code": pick.service_code,
                "nhs_number": pick.nhs_number,
                "date_fracture_diagnosed": str(pick.date_fracture_diagnosed),
            }
            delete_record(engine, key, "test")
        elif kind == "restore" and pick is not None and pick.id in first:
            update_record(
                engine, pick.id, pick.version, first[pick.id], CODES, "test", action="restore"
            )
        elif kind == "import":
            path = write_records(folder / "upload.csv", step[1])
            table = validate(open_upload(path), "records", known_services=set(CODES))
            store_records(engine, table, "test")
    except (Conflict, ValidationFailed):
        pass  # refused: nothing changed, the figures neither


START, END = dt.date(2016, 1, 1), dt.date(2027, 12, 31)
# The KPI engine's query of the records (`count_query`) for an extract date and a grouping,
# compiled to SQL: its column names and each count's column.
Compiled = tuple[str, list[str], dict[str, str]]


def _compiled(
    source: RecordSource, as_of: dt.date, by: str, known: dict[Any, Compiled]
) -> Compiled:
    """The engine's query compiled once per test run (`known`): the examples change the
    records, never the query, whose building and compiling by Ibis took 88% of this test's
    processor time when done again for each example."""
    key = (source.backend, as_of, by)
    if key not in known:
        catalogue = load_catalogue()
        query, columns = count_query(
            source.table, source.backend, catalogue, catalogue.measures, START, END, as_of, by
        )
        sql = source.table._find_backend().compile(query)  # what `query.execute()` runs
        known[key] = (sql, list(query.schema().names), columns)
    return known[key]


def _engine_counts(
    url: str, known: dict[Any, Compiled]
) -> list[tuple[dt.date, str, pd.DataFrame, pd.DataFrame]]:
    """For each extract date and grouping checked: the KPI engine's counts from the records
    (its query run on them, as `run_counts` runs it) and its counts from the maintained cells
    (`counts_from_store`), each in the same order of rows and columns. One source per example
    for all of them, closed before they are compared."""
    found = []
    source = source_from_database(url)
    fetch = source_fetch(source)
    assert fetch is not None
    try:
        for as_of, by in itertools.product(EXTRACT_DATES[:2], ("service", "age_band")):
            sql, names, columns = _compiled(source, as_of, by, known)
            computed = counts_frame(pd.DataFrame(fetch(sql), columns=names), columns)
            stored = counts_from_store(source, START, END, as_of, by)
            assert stored is not None
            keys = ["service_code", "year", "month"] + (["group"] if by != "service" else [])
            computed["year"] = computed["year"].astype("int64")
            computed["month"] = computed["month"].astype("int64")
            computed = computed.sort_values(keys).reset_index(drop=True)
            stored = stored[list(computed.columns)].sort_values(keys).reset_index(drop=True)
            found.append((as_of, by, computed, stored))
    finally:  # no SQLite connection stays open beside the imports' (storage.bulk)
        source.table._find_backend().disconnect()
    return found


@pytest.fixture
def store(engine: Engine, tmp_path: Path) -> Engine:
    store_services(engine, validate(open_upload(write_services(tmp_path / "s.csv")), "services"))
    return engine


@pytest.fixture
def compiled_queries() -> dict[Any, Compiled]:
    """The engine's queries compiled in a test run (`_compiled`), shared by its examples."""
    return {}


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(operations, min_size=1, max_size=8))
def test_maintained_figures_equal_a_full_recomputation(
    store: Engine,
    migrated_db_url: str,
    tmp_path: Path,
    compiled_queries: dict[Any, Compiled],
    steps: list[tuple[Any, ...]],
) -> None:
    with store.begin() as conn:  # each example starts from an empty store
        conn.execute(text("DELETE FROM records"))
    rebuild_figures(store, store_layout())
    first: dict[int, dict] = {}
    for step in steps:
        _apply(store, step, tmp_path, first)
    maintained, months = _cells(store), _months(store)
    rebuild_figures(store, store_layout())
    pd.testing.assert_frame_equal(maintained, _cells(store), check_dtype=False)
    pd.testing.assert_frame_equal(months, _months(store), check_dtype=False)
    checked = 0
    for as_of, by, computed, stored in _engine_counts(migrated_db_url, compiled_queries):
        pd.testing.assert_frame_equal(
            computed, stored, check_dtype=False, obj=f"the counts by {by} as of {as_of}"
        )
        checked += 1
    assert checked == 4  # two extract dates, by service and by age band


def test_a_change_committed_after_a_later_one_changes_the_data_version(engine: Engine) -> None:
    """PostgreSQL numbers audit rows when they are written: a change whose row has the smaller
    id but commits last still changes the version the figures are kept by."""
    from flsdb.services.dashboards import data_version
    from flsdb.storage.tables import audit_log

    def row(key: str) -> Any:
        return audit_log.insert().values(
            table_name="records",
            row_key=key,
            action="update",
            user_name="test",
            changed_at=dt.datetime(2026, 1, 1),
        )

    if engine.dialect.name == "sqlite":  # one writer at a time: commits follow the ids
        with engine.begin() as conn:
            conn.execute(row("a"))
        before = data_version(engine)
        with engine.begin() as conn:
            conn.execute(row("b"))
        assert data_version(engine) != before
        return
    with engine.connect() as first, engine.connect() as second:
        first.begin()
        first.execute(row("first"))  # the smaller id, committed last
        with second.begin():
            second.execute(row("second"))
        before = data_version(engine)
        first.commit()
    assert data_version(engine) != before
