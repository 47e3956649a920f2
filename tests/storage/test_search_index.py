"""A search of records by status counts its matches from an index alone (migration 0015)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, inspect

from flsdb.services.access import Actor, Role
from flsdb.services.missing import key_fields
from flsdb.services.records import Search, search_statements

STAFF = Actor("nurse", Role.FLS_STAFF, frozenset({"FLS01"}), visible=frozenset({"FLS01"}))


def test_the_key_fields_index_holds_every_key_field(engine: Engine) -> None:
    """On both databases: the FLS, the fracture date and every key field the status reads."""
    found = {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("records")}
    columns = found["ix_records_key_fields"]
    assert columns[:2] == ["service_code", "date_fracture_diagnosed"]
    read = {k.column for k in key_fields()} | {"followup_16w", "followup_52w"}
    assert read <= set(columns[2:])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the plan's words are SQLite's
@pytest.mark.parametrize("status", ["due", "missing", "complete"])
def test_a_status_count_reads_the_index_alone(engine: Engine, status: str) -> None:
    """SQLite's plan for the list's total: the covering index, no record's row."""
    query = Search(fracture_from=dt.date(2024, 1, 1), status=status)  # type: ignore[arg-type]
    count, _, values = search_statements(STAFF, query, dt.date(2026, 12, 7))
    del values["limit"], values["offset"]  # the page's, not the count's
    sql = count.params(**values).compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert "USING COVERING INDEX ix_records_key_fields" in plan
