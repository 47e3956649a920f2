"""The synthetic nation the audit's national tests share (77 FLSs, 20,000 records of 2024):
built once per test process, for `tests/disclosure/test_audit_national.py` and
`tests/reports/test_outliers.py` alike, and the nation's suppression tests (test_costs,
test_level_passes). They are one xdist group (`NATION_GROUP`), so that one worker builds it,
audits it and searches its linked counts once (they are kept with the figures)."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import pytest

from flsdb.disclosure import audit_tables
from flsdb.figures import PeriodFigures, audited, compute_figures
from flsdb.kpi import parse_period
from flsdb.kpi.sources import source_from_files
from flsdb.synth import generate, write_upload_files

NATION_GROUP = pytest.mark.xdist_group("nation")


@cache
def nation() -> PeriodFigures:
    """The nation's figures of 2024 (read only: tests that change figures take a copy). The
    upload files are removed once the figures are computed (they are read then)."""
    made = generate(services=77, records=20_000, year=2024, seed=3, history_years=0)
    with tempfile.TemporaryDirectory(prefix="flsdb-nation-") as folder:
        services_path, records_path = write_upload_files(made, Path(folder))
        source = source_from_files(records_path, services_path, upload_date=made.as_of)
        return compute_figures(source, parse_period("2024"), made.as_of)


@cache
def national_audit() -> list[str]:
    """The intruder's audit (an outsider, and every FLS with its own part of every breakdown
    group) of what `flsdb report` publishes of the nation (the gate's tables, `audited`): one
    sentence per narrowed count. Run once per process for the tests that assert it passes
    (test_costs, test_audit_national)."""
    data = nation()
    checked = audited(data)
    # The gate shows complements again; it withholds no more (no search): the same counts.
    assert checked.unsuppressed is data.unsuppressed and checked.services is data.services
    return audit_tables(
        checked.published,
        checked.unsuppressed,
        checked.services,
        data.thresholds.suppression,
        data.catalogue,
        per_fls=checked.group_counts,
    )
