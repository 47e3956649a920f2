"""Migration 0010 builds the maintained figures of a store's records from the layout kept beside
it as data (storage never reads the KPI catalogue), and that layout is the packaged
catalogue's, so an upgraded or a new store's figures are read at once (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from flsdb.kpi.cells import store_layout
from flsdb.storage.database import HEAD_REVISION, upgrade
from flsdb.storage.edits import insert_record
from flsdb.storage.figures import CELLS, current, layout_from_json, rebuild_figures
from tests.storage.revisions import store_at
from tests.storage.test_ids import load_services_at, typed

KEPT = (
    Path(__file__).parents[2] / "src/flsdb/storage/migrations/versions/0010_maintained_figures.json"
)


def cells(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.exec_driver_sql(
                f"SELECT * FROM {CELLS} ORDER BY service_code, fracture_date, breakdown, grp"
            )
        ]


def is_current(engine: Engine) -> bool:
    with engine.connect() as conn:

        def rows(sql: str) -> list[tuple[object, ...]]:
            return [tuple(r) for r in conn.exec_driver_sql(sql).fetchall()]

        return current(rows, engine.dialect.name, store_layout().signature)


def test_the_kept_layout_is_the_packaged_catalogues() -> None:
    """If this fails, the catalogue (or its compilation) changed the cells: stores built since
    read their KPIs from the records until `flsdb db rebuild-figures`; add a migration that
    rebuilds the figures under a newly kept layout (`storage.figures.layout_json`)."""
    kept = layout_from_json(KEPT.read_text(encoding="utf-8"))
    packaged = store_layout()
    assert kept.signature == packaged.signature
    assert kept.columns == packaged.columns
    for dialect in ("sqlite", "postgresql"):
        assert kept.contributions(dialect) == packaged.contributions(dialect)


def test_upgrade_builds_the_figures_of_the_records_stored(db_url: str) -> None:
    """A store at 0009 holding records (which kept no figures then) is upgraded as `flsdb db
    upgrade` does: its cells are there, current, equal to a rebuild from the records, and kept by
    the writes after it."""
    engine = store_at(db_url, "0009")
    load_services_at(engine)
    for seed, service in enumerate(("FLS01", "FLS01", "FLS01", "FLS02", "FLS02"), start=1):
        insert_record(engine, typed(service, seed), "a")

    assert upgrade(engine) == HEAD_REVISION
    assert is_current(engine)
    migrated = cells(engine)
    assert {(row[0], row[2]) for row in migrated} >= {("FLS01", ""), ("FLS02", "")}
    all_records = {row[0]: row[6] for row in migrated if row[2] == ""}
    assert all_records == {"FLS01": 3, "FLS02": 2}  # `records`, after the key, year and month
    rebuild_figures(engine, store_layout())
    assert cells(engine) == migrated

    insert_record(engine, typed("FLS02", 6), "b")  # maintained by the layout the store keeps
    maintained = cells(engine)
    rebuild_figures(engine, store_layout())
    assert cells(engine) == maintained != migrated
