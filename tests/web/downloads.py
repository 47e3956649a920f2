"""The web's report downloads in tests: the figures of a period and extract date computed from
the store once, for every download of a test that changes no record between its downloads."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from flsdb.figures import PeriodFigures
from flsdb.services import report_files


def figures_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The figures of the web's downloads computed from the store once per database, period
    and extract date: the first download computes them, each later one gets a copy of them
    (each computation costs about 1.3 s of processor time on SQLite, 0.65 s on PostgreSQL).
    The copies keep the views made with the figures, as the copies the downloads make of them
    (`report_files.publishable`) do: the audit of the counts published beside the KPI tables
    (`published_counts.withhold_linked`, about 0.2 s a download) is then made by the first
    download, from the same figures as every later one would make it. Only for a test whose
    records do not change between its downloads."""
    made: dict[tuple[str, str, dt.date], PeriodFigures] = {}
    compute = report_files.figures_from_store

    def figures(database_url: str, period_text: str, as_of: dt.date) -> PeriodFigures:
        key = (database_url, period_text, as_of)
        if key not in made:
            made[key] = compute(database_url, period_text, as_of)
        return dataclasses.replace(made[key])

    monkeypatch.setattr(report_files, "figures_from_store", figures)
