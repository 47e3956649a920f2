"""The figures the web computes from a store's records (`report_files.figures_from_store`: the
dashboards of a store without maintained figures, and the report downloads), computed once per
test process for the same records and services on the same backend.

Most web tests start from a copy of one small site (tests/web/conftest.py), so their first
figures from the records are the same computation on the same rows: about 1.3 s of processor
time on SQLite and 0.7 s on PostgreSQL each time. The figures depend on the records and
services tables alone (`kpi.sources.source_from_database` reads no other), so a digest of
those two tables' rows, with the backend, period and extract date, says when a computation
was made before; any change to a record or a service (a test's save, upload or delete, a new
FLS) gives another digest, and its figures are computed afresh. Each caller gets a copy
without the views kept with the figures, as a new computation would give."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from flsdb.figures import Kept, PeriodFigures
from flsdb.services import dashboards, report_files
from flsdb.storage.tables import records, services

_MADE: dict[tuple[str, str, dt.date, str], PeriodFigures] = {}
_LOCK = threading.Lock()


def _digest(database_url: str) -> tuple[str, str]:
    """The backend and a digest of the records' and the services' rows (in key order)."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            rows = [
                *conn.execute(select(records).order_by(records.c.id)).all(),
                *conn.execute(select(services).order_by(services.c.service_code)).all(),
            ]
    finally:
        engine.dispose()
    return engine.dialect.name, hashlib.sha256(repr(rows).encode()).hexdigest()


def figures_by_content(monkeypatch: pytest.MonkeyPatch) -> None:
    """`figures_from_store` for the test: computed by it once per backend, records, services,
    period and extract date in this process."""
    compute = report_files.figures_from_store

    def figures(database_url: str, period_text: str, as_of: dt.date) -> PeriodFigures:
        backend, digest = _digest(database_url)
        key = (backend, period_text, as_of, digest)
        with _LOCK:
            made = _MADE.get(key)
        if made is None:
            made = compute(database_url, period_text, as_of)
            with _LOCK:
                _MADE[key] = made
        return dataclasses.replace(made, kept=Kept())

    monkeypatch.setattr(report_files, "figures_from_store", figures)
    monkeypatch.setattr(dashboards, "figures_from_store", figures)
