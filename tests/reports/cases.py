"""The reports' test set: the KPI cases' records (`tests.kpi.cases`) and their figures of 2024,
as several report test modules build them."""

from __future__ import annotations

from pathlib import Path

from flsdb.figures import PeriodFigures, compute_figures
from flsdb.kpi import parse_period
from flsdb.kpi.sources import RecordSource, source_from_files
from tests.factory import write_records, write_services
from tests.kpi.cases import AS_OF, ROWS


def case_source(folder: Path) -> RecordSource:
    """The test set's records and services written into `folder`, as a KPI source."""
    return source_from_files(
        write_records(folder / "r.csv", ROWS), write_services(folder / "s.csv"), upload_date=AS_OF
    )


def case_figures(folder: Path) -> PeriodFigures:
    """The test set's figures of 2024 at its extract date."""
    return compute_figures(case_source(folder), parse_period("2024"), AS_OF)
