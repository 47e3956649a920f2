"""KPI rows as plain objects (numbers as numbers, None for nothing): what `flsdb kpis`, the API
and the reports' long tables all give."""

from __future__ import annotations

import pandas as pd

from flsdb.kpi.results import RESULT_COLUMNS
from flsdb.sheets import plain_number


def kpi_records(
    table: pd.DataFrame, names: dict[str, str] | None = None
) -> list[dict[str, object]]:
    """Rows as objects with exactly the result keys (and `unit_name` when names are given)."""
    rows = []
    for row in table[list(RESULT_COLUMNS)].itertuples(index=False):
        item = {key: plain_number(value) for key, value in zip(RESULT_COLUMNS, row, strict=True)}
        for key in ("percent", "ci_low", "ci_high"):
            if item[key] is not None:
                item[key] = float(item[key])  # type: ignore[arg-type]
        if names is not None:
            item["unit_name"] = names.get(str(item["unit"]), str(item["unit"]))
        rows.append(item)
    return rows
