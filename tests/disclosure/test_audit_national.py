"""The intruder's audit on a national-sized synthetic set: 77 FLSs, every KPI, the suppression
as `flsdb report` publishes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from flsdb.disclosure import audit_tables, find_disclosures
from flsdb.figures import compute_figures
from flsdb.kpi import parse_period
from flsdb.kpi.sources import source_from_files
from flsdb.synth import generate, write_upload_files


@pytest.mark.slow
def test_a_national_synthetic_set_passes_the_outsiders_audit(tmp_path: Path) -> None:
    made = generate(services=77, records=20_000, year=2024, seed=3, history_years=0)
    services_path, records_path = write_upload_files(made, tmp_path)
    source = source_from_files(records_path, services_path, upload_date=made.as_of)
    data = compute_figures(source, parse_period("2024"), made.as_of)
    policy = data.thresholds.suppression
    hidden = sum(
        int(t["numerator"].map(lambda v: isinstance(v, str)).sum()) for t in data.published.values()
    )
    assert hidden > 0  # small counts were withheld
    assert find_disclosures(data.published, data.services, policy) == []
    # The outsider's audit (every FLS as insider too passes, but takes minutes on this busy
    # 2-core machine: run by hand, see the README's disclosure control).
    assert (
        audit_tables(data.published, data.unsuppressed, data.services, policy, insiders=False) == []
    )
