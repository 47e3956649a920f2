"""The maintained figures by month: `kpi_cells` summed over each month's fracture dates.

A period's KPIs sum the cells of its fracture dates: a year of one breakdown is some 50,000
cells of 40 counts each, most of the time a dashboard spent on a period not viewed before. The
"due" conditions split the dates only at three cutoffs (90 days, 16 and 52 weeks before the
extract date), so every month but the three holding a cutoff reads one column per count for
all its dates, and is the same sum over `kpi_cells_month` (one row per FLS, month and group).
`flsdb.kpi.stored` reads those months from here and only the months with a cutoff from the
cells (`tests/storage/test_figures.py` checks the sums are the same).

The months are kept exact by triggers on the cells, as pg_ivm keeps its views: every change to
a cell (the upserts of `flsdb.storage.figures`, in the write's own transaction) adds its
difference to its month's row, so they change together or not at all. They are built from the
cells, with their triggers, by `build_months` (by `rebuild` and by migration 0014).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from flsdb.storage.tables import CELLS, MONTHS, months_table

Run = Callable[[str], object]

MONTH_KEY = ("breakdown", "year", "month", "service_code", "grp")
_TRIGGER = "kpi_cells_by_month"


def _upsert(counts: tuple[str, ...], row: str, sign: str) -> str:
    """Add `sign` times the counts of the cell `row` (NEW or OLD) to its month's row."""
    names = ", ".join((*MONTH_KEY, *counts))
    values = ", ".join([f"{row}.{k}" for k in MONTH_KEY] + [f"{sign}{row}.{c}" for c in counts])
    updates = ", ".join(f"{c} = {MONTHS}.{c} + excluded.{c}" for c in counts)
    return (
        f"INSERT INTO {MONTHS} ({names}) VALUES ({values}) "
        f"ON CONFLICT ({', '.join(MONTH_KEY)}) DO UPDATE SET {updates};"
    )


def _sqlite_triggers(counts: tuple[str, ...]) -> list[str]:
    events = {
        "insert": [_upsert(counts, "NEW", "")],
        "update": [_upsert(counts, "OLD", "-"), _upsert(counts, "NEW", "")],
        "delete": [_upsert(counts, "OLD", "-")],
    }
    return [
        f"CREATE TRIGGER {_TRIGGER}_{event} AFTER {event.upper()} ON {CELLS} "
        f"BEGIN {' '.join(body)} END"
        for event, body in events.items()
    ]


def _postgres_triggers(counts: tuple[str, ...]) -> list[str]:
    function = (
        f"CREATE OR REPLACE FUNCTION {_TRIGGER}() RETURNS trigger AS $body$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {_upsert(counts, 'OLD', '-')} END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_upsert(counts, 'NEW', '')} END IF; "
        "RETURN NULL; END $body$ LANGUAGE plpgsql"
    )
    trigger = (
        f"CREATE TRIGGER {_TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON {CELLS} "
        f"FOR EACH ROW EXECUTE FUNCTION {_TRIGGER}()"
    )
    return [function, trigger]


def drop_months(run: Run, dialect: str) -> None:
    """The months and their triggers gone (the cells are made again, or go)."""
    if dialect == "sqlite":
        for event in ("insert", "update", "delete"):
            run(f"DROP TRIGGER IF EXISTS {_TRIGGER}_{event}")
    else:
        run(f"DROP FUNCTION IF EXISTS {_TRIGGER}() CASCADE")  # and its trigger
    run(f"DROP TABLE IF EXISTS {MONTHS}")


def build_months(run: Run, dialect: str, columns: tuple[str, ...]) -> None:
    """The months made afresh from the cells (whose count columns are `columns`, besides
    `records`), with the triggers that keep them; in the caller's transaction."""
    drop_months(run, dialect)
    dialect_obj = sqlite.dialect() if dialect == "sqlite" else postgresql.dialect()
    table = months_table(columns, sa.MetaData())
    run(str(sa.schema.CreateTable(table).compile(dialect=dialect_obj)))
    counts = ("records", *columns)
    sums = ", ".join(f"SUM({c})" for c in counts)
    keys = ", ".join(MONTH_KEY)
    run(
        f"INSERT INTO {MONTHS} ({keys}, {', '.join(counts)}) "
        f"SELECT {keys}, {sums} FROM {CELLS} GROUP BY {keys}"
    )
    triggers = _sqlite_triggers if dialect == "sqlite" else _postgres_triggers
    for statement in triggers(counts):
        run(statement)
