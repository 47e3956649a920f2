"""Figures computed once per test process for the same inputs, in the tests of the web's
dashboards and KPI rows.

Most web tests start from a copy of one small site (tests/web/conftest.py), and many make the
same change to it (FLS01's first record's falls assessment), so their figures are the same
computation on the same rows again and again. Two computations are kept here, each by a digest
of exactly the tables it reads (with the backend, period and extract date); any other content
(another change, another FLS) is another key, computed afresh:

- `records_figures_once`: the figures from the records (`report_files.figures_from_store`:
  the dashboards of a store without maintained figures, and the report downloads), which read
  the records and services tables (`kpi.sources.source_from_database`): about 1.3 s of
  processor time on SQLite and 0.7 s on PostgreSQL each;
- `kpi_rows_once`: the KPI rows of every level and their published copies from the
  maintained cells (`live_figures._computed`, under the caches and counters of
  `kpi_figures` and `compute`), which read the cells, their layout and monthly tables and the
  services table: about 0.3 s each.

Two parts of a dashboard's figures from the cells are kept by the product per store (by its
URL: every test's copy of the site is another store), and made here once per process for the
same content instead (`dashboard_parts_once`), under the product's own caches (which still
keep them per store, and count and bound them as before):

- the monthly KPI rows of a settled year (`dashboard_figures._SETTLED`'s make): by the
  digest of the cells and services (as `kpi_rows_once`), the year, thresholds and layout, as
  the product keys them by data version: about 30 ms each;
- the compiled SQL of an FLS's treatment mix (`dashboard_figures._fls_mix_sql`): by backend,
  period, FLS and that FLS's row of the services table (the SQL names no database): about
  30 ms each.

Each caller gets its own copy (the figures without the views kept with them, the rows' frames
copied), as a new computation would give: no test sees another's objects. A computation whose
inputs changed while it ran (a write in another thread) is not kept."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.pool import NullPool

from flsdb.figures import Kept, PeriodFigures, compute_figures
from flsdb.kpi import parse_period
from flsdb.kpi.sources import source_from_database
from flsdb.services import dashboard_figures, dashboards, live_figures, report_files
from flsdb.storage.tables import CELLS, LAYOUT, MONTHS, records, services

_LOCK = threading.Lock()
_RECORDS: dict[tuple[str, str, dt.date, str], PeriodFigures] = {}
_ROWS: dict[tuple[str, str, dt.date, str], Any] = {}
_SETTLED: dict[tuple[Any, ...], dict[str, Any]] = {}
_MIX_SQL: dict[tuple[Any, ...], str] = {}
_VERSIONS: dict[tuple[str, object], str] = {}


def _digest(rows: list[Any]) -> str:
    return hashlib.sha256(repr(rows).encode()).hexdigest()


# The records' columns that no figure reads (when and by which import a row was written, its
# edit count): left out of the records' digest, so that the same change saved by two tests (at
# two times) gives the same figures once, as the same rows do.
_UNREAD = {"import_id", "created_at", "updated_at", "version"}
_READ = [column for column in records.c if column.name not in _UNREAD]


def _records_digest(database_url: str) -> tuple[str, str]:
    """The backend and a digest of the records' rows (the columns a figure reads) and the
    services' rows, in key order."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            rows = [
                *conn.execute(select(*_READ).order_by(records.c.id)).all(),
                *conn.execute(select(services).order_by(services.c.service_code)).all(),
            ]
    finally:
        engine.dispose()
    return engine.dialect.name, _digest(rows)


def _cells_digest(engine: Engine) -> str:
    """A digest of the maintained cells (whole, by month, their layout) and the services."""
    with engine.connect() as conn:
        rows: list[Any] = []
        for table in (CELLS, MONTHS, LAYOUT):
            rows.append(sorted(map(repr, conn.execute(text(f"SELECT * FROM {table}")).all())))
        rows.append(conn.execute(select(services).order_by(services.c.service_code)).all())
    return _digest(rows)


def _once(
    kept: dict[Any, Any],
    key: tuple[Any, ...],
    make: Callable[[], Any],
    digest: Callable[[], str],
) -> Any:
    """`make()`'s value kept under `key` (whose last part is `digest()` before it), unless
    the inputs changed meanwhile (a write in another thread): then it is not kept."""
    with _LOCK:
        found = kept.get(key)
    if found is None:
        found = make()
        if found is not None and digest() == key[-1]:
            with _LOCK:
                kept[key] = found
    return found


def _figures_from_records(database_url: str, period_text: str, as_of: dt.date) -> PeriodFigures:
    source = source_from_database(database_url)
    try:
        return compute_figures(source, parse_period(period_text), as_of)
    finally:  # no SQLite connection stays open beside the writers' (storage.bulk)
        source.table._find_backend().disconnect()


def records_figures(database_url: str, period_text: str, as_of: dt.date) -> PeriodFigures:
    """The figures computed from the store's records (`compute_figures`), which tests compare
    the dashboards' figures with: once per backend, records, services, period and extract date
    in this process (the same computations as `records_figures_once`'s, kept with them)."""
    return _kept_records_figures(database_url, period_text, as_of, _figures_from_records)


def _kept_records_figures(
    database_url: str,
    period_text: str,
    as_of: dt.date,
    compute: Callable[[str, str, dt.date], PeriodFigures],
) -> PeriodFigures:
    """`compute`'s figures of the store's records, kept in `_RECORDS` by backend, period,
    extract date and the records' digest; each caller gets its own copy's cache."""
    backend, digest = _records_digest(database_url)
    made = _once(
        _RECORDS,
        (backend, period_text, as_of, digest),
        lambda: compute(database_url, period_text, as_of),
        lambda: _records_digest(database_url)[1],
    )
    return dataclasses.replace(made, kept=Kept())


def records_figures_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """`figures_from_store` for the test: computed once per backend, records, services,
    period and extract date in this process."""
    compute = report_files.figures_from_store

    def figures(database_url: str, period_text: str, as_of: dt.date) -> PeriodFigures:
        return _kept_records_figures(database_url, period_text, as_of, compute)

    monkeypatch.setattr(report_files, "figures_from_store", figures)
    monkeypatch.setattr(dashboards, "figures_from_store", figures)


def kpi_rows_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """`live_figures._computed` for the test: computed once per backend, cells, services,
    period and extract date in this process (None, a store keeping no figures, is not kept)."""
    compute = live_figures._computed

    def computed(engine: Engine, period: Any, as_of: dt.date, version: tuple[object, ...]) -> Any:
        key = (engine.dialect.name, period.label, as_of, _cells_digest(engine))
        made = _once(
            _ROWS,
            key,
            lambda: compute(engine, period, as_of, version),
            lambda: _cells_digest(engine),
        )
        if made is None:
            return None
        return dataclasses.replace(
            made,
            period=period,
            tables={level: frame.copy() for level, frame in made.tables.items()},
            shown={level: frame.copy() for level, frame in made.shown.items()},
            version=version,
        )

    monkeypatch.setattr(live_figures, "_computed", computed)


def dashboard_parts_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A settled year's monthly KPI rows and an FLS's compiled treatment-mix query made once per
    process for the same content (see above), under the product's per-store caches."""
    settled = dashboard_figures._SETTLED.get

    def settled_get(key: tuple[Any, ...], make: Callable[[], dict[str, Any]]) -> Any:
        url, version, *rest = key  # the product's: (store, data version, year, ...)

        def content() -> str:
            engine = create_engine(url, poolclass=NullPool)
            try:
                return _cells_digest(engine)
            finally:
                engine.dispose()

        def made() -> dict[str, Any]:
            # A store's content at one data version is read once (the version, read before
            # the cells, moves with every change to them).
            with _LOCK:
                digest = _VERSIONS.get((url, version))
            if digest is None:
                digest = content()
            rows = _once(_SETTLED, (url.split(":", 1)[0], *rest, digest), make, content)
            with _LOCK:
                if _SETTLED.get((url.split(":", 1)[0], *rest, digest)) is not None:
                    _VERSIONS[(url, version)] = digest
            return {level: frame.copy() for level, frame in rows.items()}

        return settled(key, made)

    compile_mix = dashboard_figures._fls_mix_sql

    def mix_sql(engine: Engine, services: Any, period: Any, code: str) -> str:
        own = repr(services[services["service_code"] == code].to_dict("records"))
        digest = _digest([own])
        key = (engine.dialect.name, period.start, period.end, code, digest)
        # (The SQL is made from the row digested: it cannot change while it is made.)
        made: str = _once(
            _MIX_SQL, key, lambda: compile_mix(engine, services, period, code), lambda: digest
        )
        return made

    monkeypatch.setattr(dashboard_figures._SETTLED, "get", settled_get)
    monkeypatch.setattr(dashboard_figures, "_fls_mix_sql", mix_sql)
