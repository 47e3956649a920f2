"""Small-number suppression for anything published beyond the FLS itself.

Counts from 1 to 4 are shown as `<5` and the percentage and interval built on them are removed.
"""

from __future__ import annotations

import pandas as pd

SMALL = "<5"
COUNT_COLUMNS = ("numerator", "denominator", "not_due")


def _small(value: object) -> bool:
    try:
        number = float(str(value))
    except ValueError:
        return False
    return 1 <= number <= 4


def suppress(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of KPI rows with small counts masked (kpi01 counts fields, not patients)."""
    out = table.astype(object).copy()
    patients = out["kpi"] != "kpi01"
    # kpi02's denominator is an expected caseload (an estimate), not a count of patients.
    patient_denominator = patients & ~out["kpi"].astype(str).str.startswith("kpi02")
    for column in COUNT_COLUMNS:
        if column not in out:
            continue
        counted = patient_denominator if column == "denominator" else patients
        small = counted & out[column].map(_small)
        if column in ("numerator", "denominator"):
            for hidden in ("percent", "ci_low", "ci_high", "rag"):
                out.loc[small, hidden] = None
        out.loc[small, column] = SMALL
    return out
