"""Every FLS beyond a funnel limit, accounted for.

As national outlier guidance expects, no FLS beyond a limit is silently dropped: the published
reports name an FLS only where its counts may be published, and say how many more FLSs are at
alert and alarm level whose counts are withheld (a count of FLSs, which tells no patient's
count); `internal/outliers-PERIOD.csv` lists every one, with its counts, value and limits, for
the audit team's private notification (it holds unsuppressed counts: not for publication).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from flsdb.figures import FUNNEL_KPIS, PeriodFigures
from flsdb.reports.marking import SYNTHETIC, file_prefix
from flsdb.stats.inequity import Inequity

NOTE = (
    "NOT FOR PUBLICATION\n\nThe files in this folder name FLSs with their unsuppressed counts "
    "(outliers-PERIOD.csv: every FLS beyond a funnel limit, with its counts, value and limits, "
    "including those whose counts the published reports withhold). They are for the audit "
    "team's private notification of each FLS only.\n"
)
FLAGS = ("low_alarm", "low_alert", "high_alert", "high_alarm")
COLUMNS = [
    "period",
    "kpi",
    "kpi_name",
    "service_code",
    "service_name",
    "region_code",
    "level",
    "direction",
    "numerator",
    "denominator",
    "percent",
    "target_percent",
    "alert_lower",
    "alert_upper",
    "alarm_lower",
    "alarm_upper",
    "published",
]


def withheld(result: Inequity, *flags: str) -> list[str]:
    """FLSs with one of the flags whose values are withheld from publication."""
    return [
        n
        for n, f, s in zip(result.names, result.funnel.flags, result.shown, strict=True)
        if f in flags and not s
    ]


def withheld_sentence(result: Inequity) -> str:
    """'2 more FLSs are beyond a limit (1 at alarm, 1 at alert) ...', or '' when none."""
    alarm = len(withheld(result, "low_alarm", "high_alarm"))
    alert = len(withheld(result, "low_alert", "high_alert"))
    if not alarm + alert:
        return ""
    total = alarm + alert
    fls = "FLS is" if total == 1 else "FLSs are"
    return (
        f"{total} more {fls} beyond a limit ({alarm} at alarm level, {alert} at alert level) "
        "but not named, as their counts are withheld to protect small numbers of patients; "
        "the audit team tells each of them privately."
    )


def _percent(value: float) -> float | None:
    return None if not np.isfinite(value) else round(float(value) * 100, 2)


def outlier_rows(data: PeriodFigures) -> pd.DataFrame:
    """Every FLS beyond an alert or alarm limit, for every funnel KPI, published or not."""
    info = data.services.set_index("service_code")
    rows = []
    for kpi in FUNNEL_KPIS:
        result = data.inequities.get(kpi)
        if result is None:
            continue
        funnel = result.funnel
        alert, alarm = funnel.levels
        table = data.unsuppressed["service"]
        table = table[table["kpi"] == kpi]
        counts = {
            str(u): (float(n), float(d))
            for u, n, d in zip(table["unit"], table["numerator"], table["denominator"], strict=True)
        }
        for i, (code, flag) in enumerate(zip(result.names, funnel.flags, strict=True)):
            if flag not in FLAGS:
                continue
            direction, level = str(flag).split("_")
            numerator, denominator = counts[code]
            rows.append(
                {
                    "period": data.period.label,
                    "kpi": kpi,
                    "kpi_name": data.name(kpi),
                    "service_code": code,
                    "service_name": info.loc[code, "service_name"] if code in info.index else "",
                    "region_code": info.loc[code, "region_code"] if code in info.index else "",
                    "level": level,
                    "direction": "below" if direction == "low" else "above",
                    "numerator": int(numerator),
                    "denominator": int(denominator),
                    "percent": _percent(funnel.proportion[i]),
                    "target_percent": _percent(funnel.target),
                    "alert_lower": _percent(funnel.limits[alert][0][i]),
                    "alert_upper": _percent(funnel.limits[alert][1][i]),
                    "alarm_lower": _percent(funnel.limits[alarm][0][i]),
                    "alarm_upper": _percent(funnel.limits[alarm][1][i]),
                    "published": "yes" if result.shown[i] else "no (counts withheld)",
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def write_outliers(data: PeriodFigures, folder: Path) -> Path:
    """`folder/outliers-PERIOD.csv`: every outlier with its values and limits; from synthetic
    data, `synthetic-outliers-PERIOD.csv` with a `marking` column on every row."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{file_prefix(data)}outliers-{data.period.label}.csv"
    rows = outlier_rows(data)
    if data.synthetic:
        rows = rows.assign(marking=SYNTHETIC)
    rows.to_csv(path, index=False)
    return path


def note(data: PeriodFigures) -> str:
    """The internal folder's note on the outliers, marked when the data are synthetic."""
    marked = f"{SYNTHETIC}: every FLS, count and outlier in this folder is made up.\n\n"
    return NOTE.replace("outliers-PERIOD", f"{file_prefix(data)}outliers-PERIOD") + (
        "\n" + marked if data.synthetic else ""
    )
