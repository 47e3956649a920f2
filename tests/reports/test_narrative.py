"""SPC signals in words and recommendations with their thresholds."""

from __future__ import annotations

import pandas as pd

from flsdb.config import load_thresholds
from flsdb.reports.narrative import explain_chart, recommendations
from flsdb.stats import p_chart, xmr_chart
from flsdb.stats.inequity import inequity

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


class _Data:
    """The parts of PeriodFigures that recommendations read."""

    def __init__(self) -> None:
        self.thresholds = load_thresholds()
        self.services = pd.DataFrame(
            {
                "service_code": ["X", "Y", "Z"],
                "service_name": ["Ex FLS", "Why FLS", "Zed FLS"],
                "region_code": ["A", "B", "C"],
                "region_name": ["Ay ICB", "Bee ICB", "Cee ICB"],
            }
        )
        region = pd.DataFrame(
            {"unit": ["A", "B", "C"], "kpi": ["kpi02_spine"] * 3, "percent": [79.9, 80.0, None]}
        )
        service = pd.DataFrame(
            {"unit": ["X", "Y", "Z"], "kpi": ["fa01"] * 3, "percent": [50.0, 95.0, None]}
        )
        self.unsuppressed = {"region": region, "service": service}
        self.inequities = {
            "kpi04": inequity(
                ["X", "Y", "Z"], [10, 500, 900], [1000, 1000, 1000], method="arcsine"
            ),
            "kpi07": inequity(["X", "Y", "Z"], [480, 500, 520], [1000, 1000, 1000]),
        }

    def unit_name(self, level: str, unit: str) -> str:
        column = "service" if level == "service" else "region"
        rows = self.services[self.services[f"{column}_code"] == unit]
        return f"{rows[f'{column}_name'].iloc[0]} ({unit})"


def test_recommendations_name_only_alarm_level_outliers() -> None:
    found = {item["rule"].kpi: item for item in recommendations(_Data())}  # type: ignore[arg-type, union-attr]
    spine = found["kpi02_spine"]
    assert (spine["count"], spine["of"], spine["units"]) == (1, 3, [])  # counted, not named
    assert "at least 80%" in str(spine["text"])
    assert (found["fa01"]["count"], found["fa01"]["units"]) == (1, [])
    # kpi04: X (1%) is far below the others, beyond the outer limit: named, with its name.
    assert found["kpi04"]["units"] == ["Ex FLS (X)"]
    assert found["kpi07"]["units"] == []
