"""Data completeness per key field and service: the detail behind kpi01."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from flsdb.kpi import count_columns
from flsdb.kpi.catalogue import Catalogue, load_catalogue
from flsdb.kpi.periods import Period
from flsdb.kpi.query import count_query, run_counts
from flsdb.kpi.sources import RecordSource


def completeness_by_field(
    source: RecordSource,
    period: Period,
    as_of: dt.date,
    catalogue: Catalogue | None = None,
    counts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Rows of service_code, field, applicable, missing, percent_missing, over_threshold.

    `counts` may be the engine counts of a KPI run on the same period (they hold kpi01's).
    """
    catalogue = catalogue or load_catalogue()
    measure = next(m for m in catalogue.measures if m.kind == "completeness")
    if counts is None:
        counts = run_counts(
            *count_query(
                source.table,
                source.backend,
                catalogue,
                (measure,),
                period.start,
                period.end,
                as_of,
                "service",
            )
        )
    per_service = counts.groupby("service_code").sum(numeric_only=True)
    per_service = per_service.reindex(sorted(source.services["service_code"]), fill_value=0)
    rows = []
    for key in measure.key_fields:
        applicable = per_service[
            count_columns.applies(measure.id, key.column) if key.applicable else "records"
        ]
        missing = per_service[count_columns.missing(measure.id, key.column)]
        for code in per_service.index:
            share = missing[code] / applicable[code] * 100 if applicable[code] else None
            rows.append(
                {
                    "service_code": code,
                    "field": key.column,
                    "applicable": int(applicable[code]),
                    "missing": int(missing[code]),
                    "percent_missing": share,
                    "over_threshold": share is not None and share > measure.missing_threshold,
                }
            )
    return pd.DataFrame(rows)
