"""The reports' test set: the KPI cases' records (`tests.kpi.cases`) and their figures of 2024,
as several report test modules build them.

`checked_case_figures` gives them as `check_publishable` makes them (the intruder's audit and
its search, then the linked counts' search: about 15 of the 17 CPU seconds of the set), once
per test process, to the modules that only read them (test_reports, test_audit_gate,
test_audit_mix: one xdist group, `CASES_GROUP`, so one worker makes them once)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

import pytest

from flsdb.figures import PeriodFigures, compute_figures
from flsdb.kpi import parse_period
from flsdb.kpi.sources import RecordSource, source_from_files
from flsdb.reports.build import check_publishable
from tests.factory import write_records, write_services
from tests.kpi.cases import AS_OF, ROWS

CASES_GROUP = pytest.mark.xdist_group("report-cases")


def case_source(folder: Path) -> RecordSource:
    """The test set's records and services written into `folder`, as a KPI source."""
    return source_from_files(
        write_records(folder / "r.csv", ROWS), write_services(folder / "s.csv"), upload_date=AS_OF
    )


def case_figures(folder: Path) -> PeriodFigures:
    """The test set's figures of 2024 at its extract date."""
    return compute_figures(case_source(folder), parse_period("2024"), AS_OF)


@cache
def checked_case_figures() -> PeriodFigures:
    """The test set's figures of 2024 as they may be published (`check_publishable`: audited,
    the counts beside the KPI tables audited with them), made once per test process. Read
    only: a test that changes figures takes a copy (`dataclasses.replace`, which keeps the
    views made from them, the linked counts' outcome among them)."""
    folder = Path(tempfile.mkdtemp(prefix="flsdb-cases-"))
    atexit.register(shutil.rmtree, folder, True)
    return check_publishable(case_figures(folder))
