"""SPC signals in words and recommendations with their thresholds."""

from __future__ import annotations

import pandas as pd

from flsdb.reports.narrative import explain_chart, recommendations
from flsdb.stats import p_chart, xmr_chart

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]


def test_a_shift_is_explained_with_its_months_and_meaning() -> None:
    chart = xmr_chart([5, 4, 6, 7, 7, 7, 7, 7, 7, 7, 5, 5], baseline=3)
    sentences = explain_chart(MONTHS, chart, "higher", "kpi04 FLS assessment")
    assert any(
        "2024-03 to 2024-10" in s and "shift" in s and "an improvement" in s for s in sentences
    )
    lower_is_better = explain_chart(MONTHS, chart, "lower", "kpi01")
    assert any("a concern" in s for s in lower_is_better)


def test_stable_process_is_said_to_be_stable() -> None:
    chart = p_chart([10, 11, 9, 10, 12, 10], [20] * 6)
    assert explain_chart(MONTHS[:6], chart, "higher", "kpi07") == [
        "kpi07: no special-cause variation; the process is stable around 52% (common-cause "
        "variation only)."
    ]


def test_recommendations_pick_units_below_thresholds() -> None:
    region = pd.DataFrame(
        {"unit": ["A", "B", "C"], "kpi": ["kpi02_spine"] * 3, "percent": [79.9, 80.0, None]}
    )
    service = pd.DataFrame({"unit": ["X", "Y"], "kpi": ["fa01", "fa01"], "percent": [50.0, 95.0]})
    found = recommendations({"region": region, "service": service}, {"kpi04": ["Z"]})
    by_kpi = {item["rule"].kpi: item for item in found}  # type: ignore[union-attr]
    assert by_kpi["kpi02_spine"]["units"] == ["A"]
    assert by_kpi["fa01"]["units"] == ["X"]
    assert by_kpi["kpi04"]["units"] == ["Z"]
    assert "at least 80%" in str(by_kpi["kpi02_spine"]["text"])
