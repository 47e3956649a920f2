"""The web's report downloads in tests: the figures of a period and extract date computed from
the store once, for every download of a test that changes no record between its downloads."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from flsdb.figures import Kept, PeriodFigures
from flsdb.services import report_files


def figures_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The figures of the web's downloads computed from the store once per database, period
    and extract date: the first download computes them, each later one gets a copy without the
    views kept with them, as computing them again from the same records would give (each
    computation costs about 1.3 s of processor time on SQLite, 0.65 s on PostgreSQL). Only for
    a test whose records do not change between its downloads."""
    made: dict[tuple[str, str, dt.date], PeriodFigures] = {}
    compute = report_files.figures_from_store

    def figures(database_url: str, period_text: str, as_of: dt.date) -> PeriodFigures:
        key = (database_url, period_text, as_of)
        if key not in made:
            made[key] = compute(database_url, period_text, as_of)
        return dataclasses.replace(made[key], kept=Kept())

    monkeypatch.setattr(report_files, "figures_from_store", figures)
