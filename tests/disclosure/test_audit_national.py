"""The intruder's audit on a national-sized synthetic set: 77 FLSs, every KPI, the suppression
as `flsdb report` publishes it."""

from __future__ import annotations

import pytest

from flsdb.disclosure import audit_tables, find_disclosures
from flsdb.figures import audited
from tests.disclosure.nation import nation


@pytest.mark.slow
def test_a_national_synthetic_set_passes_the_outsiders_audit() -> None:
    data = nation()  # shared with tests/reports/test_outliers.py
    policy = data.thresholds.suppression
    hidden = sum(
        int(t["numerator"].map(lambda v: isinstance(v, str)).sum()) for t in data.published.values()
    )
    assert hidden > 0  # small counts were withheld
    assert find_disclosures(data.published, data.services, policy) == []
    assert (
        audit_tables(data.published, data.unsuppressed, data.services, policy, insiders=False) == []
    )
    # Every FLS as insider too: the gate passes the protection levels' pattern as it is (no
    # search), as `flsdb report` would publish it (about 4 s of CPU; the outliers' test
    # runs the same gate, and a process that ran it takes its kept outcome).
    assert audited(data).published is data.published
