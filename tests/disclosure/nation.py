"""The synthetic nation the audit's national tests share (77 FLSs, 20,000 records of 2024):
built once per test process, for `tests/disclosure/test_audit_national.py` and
`tests/reports/test_outliers.py` alike, and the nation's suppression tests (test_costs,
test_level_passes). They are one xdist group (`NATION_GROUP`), so that one worker builds it,
audits it and searches its linked counts once (they are kept with the figures)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

import pytest

from flsdb.figures import PeriodFigures, compute_figures
from flsdb.kpi import parse_period
from flsdb.kpi.sources import source_from_files
from flsdb.synth import generate, write_upload_files

NATION_GROUP = pytest.mark.xdist_group("nation")


@cache
def nation() -> PeriodFigures:
    """The nation's figures of 2024 (read only: tests that change figures take a copy)."""
    folder = Path(tempfile.mkdtemp(prefix="flsdb-nation-"))
    atexit.register(shutil.rmtree, folder, True)
    made = generate(services=77, records=20_000, year=2024, seed=3, history_years=0)
    services_path, records_path = write_upload_files(made, folder)
    source = source_from_files(records_path, services_path, upload_date=made.as_of)
    return compute_figures(source, parse_period("2024"), made.as_of)
