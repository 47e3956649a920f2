"""The treatment mix in the intruder's audit (issue 17 item 1): each FLS's bar of treatment
shares (a share of its published records is a count) and the national shares are linked counts
with their relations to the KPI tables and the reasons table, and what the audit withholds the
report does not print."""

from __future__ import annotations

import pytest

from flsdb.disclosure.linked import audit_linked
from flsdb.figures import PeriodFigures
from flsdb.kpi.mix import MIX_GROUPS
from flsdb.reports.mix_counts import bars_withheld, national_shares, published_mix
from flsdb.reports.published_counts import linked_counts
from tests.reports.cases import CASES_GROUP, checked_case_figures

pytestmark = CASES_GROUP  # the checked figures are made once per process


@pytest.fixture(scope="module")
def checked() -> PeriodFigures:
    """The test set's figures as `check_publishable` makes them (shared, read only)."""
    return checked_case_figures()


def _audit(data: PeriodFigures, withheld: frozenset[str]) -> list[str]:
    linked = linked_counts(data)
    assert linked is not None
    return audit_linked(
        data.published,
        data.unsuppressed,
        data.services,
        data.thresholds.suppression,
        linked,
        withheld,
        data.group_counts,
    )


def test_the_mix_is_in_the_model_with_its_relations(checked: PeriodFigures) -> None:
    linked = linked_counts(checked)
    assert linked is not None
    for code in checked.services["service_code"]:
        records = f"mix:{code}:records"
        assert linked.owners[records] == code
        groups = tuple(f"mix:{code}:{g}" for g in MIX_GROUPS)
        assert ((records,), groups) in linked.sums
        assert ((records,), (("service", code, "kpi03", "denominator"),)) in linked.sums
    nation = tuple(f"mix:all:{g}" for g in MIX_GROUPS)
    assert (nation, (("nation", "all", "kpi03", "denominator"),)) in linked.sums
    assert "mix:all:decision" in linked.unmarked
    # The follow-up fields of Appendix B lie between KPI counts.
    applies = "quality:followup_16w:applicable"
    assert (("nation", "all", "kpi09", "denominator"), applies) in linked.nested
    assert (applies, ("nation", "all", "kpi03", "denominator")) in linked.nested


def test_national_shares_of_nine_records_give_counts_away_and_are_withheld(
    checked: PeriodFigures,
) -> None:
    # 2 of the 9 patients were recommended an anabolic: 22.2% of 9 published records.
    assert checked.mix["anabolic"].sum() == 2
    found = _audit(checked, frozenset())
    assert "mix:all:anabolic: the hidden count can be worked out as 2 by an outsider" in found
    assert "mix:all:anabolic" in checked.linked_withheld
    shares = national_shares(checked)
    assert shares["anabolic"] is None
    assert shares["other"] == 0.0  # a true zero is shown
    assert _audit(checked, checked.linked_withheld) == []


def test_an_fls_whose_mix_would_give_counts_away_is_not_drawn(checked: PeriodFigures) -> None:
    shown = published_mix(checked).set_index("service_code")
    whole = bars_withheld(checked)
    for code in checked.services["service_code"]:
        if f"mix:{code}:records" in checked.linked_withheld or code in whole:
            assert shown.loc[code].isna().all()
    # FLS01's kpi07 numerator is withheld in the KPI tables (c); its bar would give it back as
    # its records less the groups with no drug, so it is not drawn.
    kpi07 = checked.row("service", "FLS01", "kpi07")
    assert kpi07["numerator"] == "c"
    assert "FLS01" in whole
    assert shown.loc["FLS01", "records"] is None
    linked = linked_counts(checked)
    assert linked is not None
    assert {linked.shown[f"mix:FLS01:{g}"] for g in (*MIX_GROUPS, "records")} == {"c"}


def test_the_2023_label_site_count_is_in_the_model(checked: PeriodFigures) -> None:
    from dataclasses import replace

    from flsdb.reports.national import lost_sites

    data = replace(checked, lost_sites={"FLS01": 3, "FLS02": 0})
    linked = linked_counts(data)
    assert linked is not None
    assert linked.values["lost:total"] == 3 and linked.shown["lost:total"] == "<5"
    assert ("lost:total", ("nation", "all", "kpi03", "denominator")) in linked.nested
    assert linked.parts["FLS01"]["lost:total"] == 3
    assert "FLS02" not in linked.parts or "lost:total" not in linked.parts["FLS02"]
    assert lost_sites(data).startswith("<5 records")
    withheld = replace(data, lost_sites={"FLS01": 30}, linked_withheld=frozenset({"lost:total"}))
    assert lost_sites(withheld).startswith("c records")
