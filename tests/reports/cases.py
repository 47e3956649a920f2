"""The reports' test set: the KPI cases' records (`tests.kpi.cases`) and their figures of 2024,
as several report test modules build them.

`computed_case_figures` gives them as computed (about 1.7 CPU s), and `checked_case_figures` as
`check_publishable` makes them (the intruder's audit and its search, then the linked counts'
search: about 10 CPU s more), each made once per test process, to the modules that read them
(test_reports, test_audit_gate, test_audit_mix, test_spc_counts, test_chart_panels,
test_figures_owned, test_spc_small: one xdist group, `CASES_GROUP`, so one worker makes them
once)."""

from __future__ import annotations

import atexit
import dataclasses
import shutil
import tempfile
from functools import cache
from pathlib import Path

import pytest

from flsdb.figures import Kept, PeriodFigures, compute_figures
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


def _folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="flsdb-cases-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


@cache
def _computed() -> PeriodFigures:
    return case_figures(_folder())


def computed_case_figures() -> PeriodFigures:
    """The test set's figures of 2024 at its extract date, as `case_figures` computes them:
    a copy of those computed once per test process, with views of its own and not yet audited
    (as figures just computed are: `dataclasses.replace`). Read only, as computed figures are
    (a test that changes figures takes a copy)."""
    return dataclasses.replace(_computed(), kept=Kept())


@cache
def checked_case_figures() -> PeriodFigures:
    """The test set's figures of 2024 as they may be published (`check_publishable`: audited,
    the counts beside the KPI tables audited with them), made once per test process. Read
    only: a test that changes figures takes a copy (`dataclasses.replace`, which keeps the
    views made from them, the linked counts' outcome among them)."""
    return check_publishable(computed_case_figures())
