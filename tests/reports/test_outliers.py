"""Outliers are never silently dropped (issue 17 item 2): the published text counts the FLSs
beyond a limit whose counts are withheld, and internal/outliers-PERIOD.csv lists every one."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from flsdb.figures import FUNNEL_KPIS, PeriodFigures, audited
from flsdb.reports.build import build_reports
from flsdb.reports.outliers import FLAGS, withheld, withheld_sentence
from tests.disclosure.nation import NATION_GROUP, nation

pytestmark = NATION_GROUP  # one worker builds the nation and its audit once


@pytest.fixture(scope="module")
def data() -> PeriodFigures:
    return nation()  # the synthetic nation the national audit's test uses too


def _flagged(data: PeriodFigures) -> list[tuple[str, str, str, bool]]:
    out = []
    for kpi in FUNNEL_KPIS:
        result = data.inequities[kpi]
        for name, flag, shown in zip(result.names, result.funnel.flags, result.shown, strict=True):
            if flag in FLAGS:
                out.append((kpi, name, str(flag), bool(shown)))
    return out


def test_every_outlier_is_listed_internally_and_counted_where_withheld(
    data: PeriodFigures, tmp_path: Path
) -> None:
    # As the reports publish them (the gate's tables: `audited`, as `build_reports` uses).
    flagged = _flagged(audited(data))
    hidden = [f for f in flagged if not f[3]]
    assert hidden, "the synthetic set has outliers whose counts are withheld"
    written = build_reports(
        data, tmp_path, fls_reports=False, region_reports=False, formats=("html",), jobs=1
    )
    # Synthetic data: the file name and every row say so (issue 17 item 3).
    path = tmp_path / "internal" / "synthetic-outliers-2024.csv"
    assert path in written.internal and path.exists()
    assert "NOT FOR PUBLICATION" in (tmp_path / "internal" / "synthetic-README.txt").read_text()
    table = pd.read_csv(path, dtype={"service_code": str})
    assert set(table["marking"]) == {"SYNTHETIC DATA: not real services"}
    note = (tmp_path / "internal" / "synthetic-README.txt").read_text()
    assert "synthetic-outliers-PERIOD.csv" in note and "SYNTHETIC DATA: not real services" in note
    listed = {(r.kpi, r.service_code) for r in table.itertuples()}
    assert listed == {(kpi, name) for kpi, name, _, _ in flagged}
    # Each with its counts, value and limits: an alarm-level FLS lies outside its alarm limits.
    for row in table.itertuples():
        value = row.numerator / row.denominator * 100
        assert abs(value - row.percent) < 0.01
        if row.level == "alarm":
            assert value < row.alarm_lower or value > row.alarm_upper
        assert row.alarm_lower <= row.alert_lower <= row.alert_upper <= row.alarm_upper
    withheld_rows = table[table["published"] != "yes"]
    assert {(r.kpi, r.service_code) for r in withheld_rows.itertuples()} == {
        (kpi, name) for kpi, name, _, _ in hidden
    }
    # The national report counts, for each KPI, the FLSs beyond a limit that it does not name.
    html = next(p for p in written.national if p.suffix == ".html").read_text()
    for kpi in FUNNEL_KPIS:
        result = data.inequities[kpi]
        alarm = len(withheld(result, "low_alarm", "high_alarm"))
        alert = len(withheld(result, "low_alert", "high_alert"))
        sentence = withheld_sentence(result)
        assert bool(sentence) == bool(alarm + alert)
        if sentence:
            assert f"({alarm} at alarm level, {alert} at alert level)" in sentence
            assert sentence in html
    # A withheld FLS is not named beside its KPI's funnel.
    names = dict(zip(data.services["service_code"], data.services["service_name"], strict=True))
    for kpi, code, flag, _ in hidden:
        if flag.endswith("alarm"):
            caption = re.search(rf"{kpi} [^<]*</h3>.*?Alarm, below: (.*?)\. Alarm, above", html)
            if caption:
                assert names[code] not in caption.group(1)
