"""The intruder's audit as the gate of every published report (issue 17 item 1): the report
set of the reports' test data passes it, and a set that fails it is refused with nothing
written."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from flsdb.config import Suppression
from flsdb.disclosure import audit_tables, protect_tables
from flsdb.errors import FlsdbError
from flsdb.figures import PeriodFigures, audited
from flsdb.kpi.catalogue import Catalogue
from flsdb.reports.build import build_reports
from tests.reports.cases import CASES_GROUP, checked_case_figures, computed_case_figures

pytestmark = CASES_GROUP  # the checked figures are made once per process


@pytest.fixture(scope="module")
def report_data() -> PeriodFigures:
    """The test set's figures as computed (not yet audited)."""
    return computed_case_figures()


def test_the_reports_test_set_passes_the_audit_outsider_and_insiders(
    report_data: PeriodFigures,
) -> None:
    data = audited(report_data)
    policy = data.thresholds.suppression
    assert (
        audit_tables(data.published, data.unsuppressed, data.services, policy, data.catalogue) == []
    )
    assert (
        audit_tables(
            {"nation": data.years},
            {"nation": data.years_computed},  # type: ignore[dict-item]
            data.services,
            policy,
            data.catalogue,
        )
        == []
    )
    # `<5` means 1 to 4: no true zero is marked so (a withheld zero is c).
    for level, table in data.published.items():
        for column in ("numerator", "denominator", "not_due"):
            truth = pd.to_numeric(data.unsuppressed[level][column], errors="coerce").fillna(-1)
            marks = table[column]
            assert not ((marks == "<5") & (truth.to_numpy() == 0)).any(), (level, column)
    assert audited(data) is data  # a set that passed is not audited again


def _weak(
    tables: dict[str, pd.DataFrame],
    services: pd.DataFrame,
    policy: Suppression,
    catalogue: Catalogue | None = None,
    audited: bool = False,
    per_fls: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """A deliberately weak suppression: small counts only, no complementary cells."""
    weak = policy.model_copy(update={"complement": False})
    return protect_tables(tables, services, weak, catalogue)


def test_a_set_that_fails_the_audit_is_refused_and_nothing_is_written(
    report_data: PeriodFigures, tmp_path: Path
) -> None:
    policy = report_data.thresholds.suppression
    weak = replace(
        report_data, published=_weak(report_data.unsuppressed, report_data.services, policy)
    )
    out = tmp_path / "reports"
    with pytest.raises(FlsdbError) as refused:
        build_reports(weak, out, jobs=1, formats=("html",), protect=_weak)
    message = str(refused.value)
    assert message.startswith("The disclosure audit could still work out a withheld count (")
    assert message.endswith("so nothing was written: please report this.")
    assert "\n" not in message
    assert not out.exists() or not any(out.rglob("*"))


def test_appendix_b_withholds_small_counts_and_rows_whose_records_are_withheld(
    report_data: PeriodFigures,
) -> None:
    from flsdb.reports.national import _data_quality

    data = audited(report_data)
    rows = _data_quality(data)
    assert rows
    for row in rows:
        for column in ("applicable", "missing"):
            value = row[column]
            assert isinstance(value, str) or not 1 <= int(str(value)) <= 4, row
        if isinstance(row["applicable"], str) or isinstance(row["missing"], str):
            assert row["percent"] is None
    # The nine records are withheld in the KPI tables (c), so every row's counts are too.
    assert data.row("nation", "all", "kpi03")["denominator"] == "c"
    assert all(row["applicable"] in ("c", "<5") for row in rows)
    internal = replace(report_data, suppression=False)
    assert all(isinstance(row["applicable"], int) for row in _data_quality(internal))


def test_the_same_figures_are_audited_once_and_the_store_is_bounded(
    report_data: PeriodFigures, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Figures equal to ones audited before (a second report or download of the same period)
    take the first audit's outcome without a second audit; the kept outcomes stay bounded."""
    from flsdb.figures import compute, passed

    first = audited(report_data)
    runs: list[int] = []
    real = compute._audit

    def counted(data: PeriodFigures) -> list[str]:
        runs.append(1)
        return real(data)

    monkeypatch.setattr(compute, "_audit", counted)
    # The outcomes kept before this test are put back after it (the store's own map, filled
    # below, is a copy of them until then): the modules after it take the test set's outcome
    # instead of auditing the same figures again (about 8.5 CPU s).
    monkeypatch.setattr(passed.KEPT, "_values", passed.KEPT._values.copy())
    again = audited(replace(report_data))  # an equal copy, not yet audited
    assert runs == [] and again._audited
    for level, table in first.published.items():
        pd.testing.assert_frame_equal(again.published[level], table)
    # Different figures have another fingerprint, so they are audited afresh.
    changed = report_data.services.assign(service_name="Other")
    parts = (report_data.unsuppressed, report_data.published, report_data.years, None)
    assert passed.fingerprint(*parts, report_data.services, "x") != passed.fingerprint(
        *parts, changed, "x"
    )
    assert passed.fingerprint(*parts, report_data.services, "x") != passed.fingerprint(
        *parts, report_data.services, "y"
    )
    for n in range(passed.MAX_SETS + 2):
        passed.KEPT.get(f"key {n}", lambda: passed.Passed({}, pd.DataFrame(), False))
    assert len(passed.KEPT) == passed.MAX_SETS


def test_the_counts_beside_the_kpi_tables_are_audited_with_them() -> None:
    """Fracture sites, reasons and Appendix B are in the audit's model with their relations to
    the KPI tables, and what the reports publish of them passes it."""
    from flsdb.disclosure.linked import audit_linked
    from flsdb.reports.published_counts import linked_counts

    # `check_publishable` of the test set's figures, as the report modules share it.
    data = checked_case_figures()
    linked = linked_counts(data)
    assert linked is not None

    def nation(kpi: str, column: str) -> tuple[str, str, str, str]:
        return ("nation", "all", kpi, column)

    assert (("site:total",), (nation("kpi03", "denominator"),)) in linked.sums
    assert (("site:spine",), (nation("kpi03", "numerator"),)) in linked.sums
    assert (
        ("reason:total", nation("kpi07", "numerator")),
        (nation("kpi07", "denominator"),),
    ) in linked.sums
    assert (("quality:sex:applicable",), (nation("kpi03", "denominator"),)) in linked.sums
    assert ("quality:sex:missing", "quality:sex:applicable") in linked.nested
    # Each FLS's own part of every count, for the insiders.
    assert {code for code in linked.parts} == set(data.services["service_code"])
    policy = data.thresholds.suppression
    assert (
        audit_linked(
            data.published,
            data.unsuppressed,
            data.services,
            policy,
            linked,
            data.linked_withheld,
            data.group_counts,
        )
        == []
    )
