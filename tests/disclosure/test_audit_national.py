"""The intruder's audit on a national-sized synthetic set: 77 FLSs, every KPI, the suppression
as `flsdb report` publishes it."""

from __future__ import annotations

import pandas as pd
import pytest

from flsdb.disclosure import audit_tables, find_disclosures
from flsdb.figures import audited
from flsdb.reports.published_counts import linked_counts, withhold_linked
from tests.disclosure.nation import NATION_GROUP, nation, national_audit


@pytest.mark.slow
@NATION_GROUP
def test_a_national_synthetic_set_passes_the_outsiders_and_every_fls_insiders_audit() -> None:
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
    # Every FLS as insider too, each knowing its own patients in every breakdown group
    # (`group_counts`): the gate passes the protection levels' pattern (no search; 1,469
    # counts withheld), then shows again the nations' and regions' complements the audit does
    # not need; what `flsdb report` would publish passes the same audit (the outliers' test
    # runs the same gate, and a process that ran it takes its kept outcome).
    assert data.group_counts is not None and len(data.group_counts)
    checked = audited(data)
    assert national_audit() == []  # of `checked.published` (shared with test_costs)
    assert find_disclosures(checked.published, checked.services, policy) == []
    # The counts beside the KPI tables (sites, reasons, Appendix B, each FLS's treatment mix:
    # 623 of the 911, the SPC charts' points: 240) audited with them: the nation's records are
    # shown, so they are all modelled; the audit passes once it withholds 10 mix counts of 4
    # FLSs beyond their own rules (a drawn share times the FLS's records is a count): 6 of 3
    # FLSs as before, and 4 of 7A5A, whose records the gate now shows (a complement of Wales's
    # that the audit does not need), so its treatment bar is drawn.
    linked = linked_counts(checked)
    assert linked is not None and len(linked.values) == 911
    assert sum(name.startswith("mix:") for name in linked.values) == 623
    # The national SPC charts' points (10 KPIs, the 12 months of 2024, two counts each).
    assert sum(name.startswith("spc:") for name in linked.values) == 240
    # The search as the reports' gate runs it (`secure_linked` on these figures; FlsdbError when
    # no withholding passes the audit), kept with the figures: test_outliers' report set,
    # on the same worker (NATION_GROUP), takes the outcome.
    withhold_linked(checked)
    withheld = checked.linked_withheld
    assert withheld is not None
    assert len(withheld) == 10 and all(name.startswith("mix:") for name in withheld)
    assert {name.split(":")[1] for name in withheld} == {"7A5A", "QRVA", "QU9A", "QU9B"}


@NATION_GROUP
def test_the_same_figures_passed_again_take_the_gates_figures_and_their_linked_withholding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The gate's figures are kept with the figures they were made of: passed again (a second
    report set, a download), they are the same object, and the counts beside the KPI tables
    are not searched again; a copy that shares their views is gated on its own."""
    from dataclasses import replace

    from flsdb.reports import published_counts
    from flsdb.reports.build import check_publishable

    data = nation()
    checked = audited(data)
    withhold_linked(checked)
    withheld = checked.linked_withheld
    assert withheld is not None and len(withheld) == 10

    def searched_again(_: object) -> frozenset[str]:
        raise AssertionError("the linked counts were searched again")

    monkeypatch.setattr(published_counts, "_search", searched_again)
    assert audited(data) is checked
    again = check_publishable(data)
    assert again is checked and again.linked_withheld == withheld
    copy = audited(replace(data))  # the same views, another object: its own gate's figures
    assert copy is not checked and copy._audited
    assert copy.published.keys() == checked.published.keys()
    for level, table in checked.published.items():
        pd.testing.assert_frame_equal(copy.published[level], table)
