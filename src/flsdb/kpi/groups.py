"""Each FLS's own counts in the breakdown groups (age band, sex, care home): what an FLS knows of
the national breakdown tables beyond what they publish, for the disclosure audit's insiders
(`flsdb.disclosure.cells.own_parts`)."""

from __future__ import annotations

import pandas as pd

from flsdb.kpi import count_columns
from flsdb.kpi.catalogue import Catalogue

COLUMNS = ["service_code", "level", "unit", "period", "kpi", "numerator", "denominator", "not_due"]


def per_fls_groups(
    counts: dict[str, pd.DataFrame], catalogue: Catalogue, label: str
) -> pd.DataFrame:
    """A row per FLS, breakdown level (the keys of `counts`: each its engine counts of the
    period, by FLS, month and group), group and proportion KPI, with the FLS's own numerator,
    denominator and not-due count, as the breakdown tables count them; rows of an FLS with
    none of a group's patients for a KPI left out."""
    measures = [m for m in catalogue.measures if m.kind == "proportion"]
    frames = []
    for level, frame in counts.items():
        if not len(frame):
            continue
        wanted = [
            name
            for m in measures
            for name in (
                count_columns.numerator(m.id),
                count_columns.denominator(m.id),
                count_columns.not_due(m.id),
            )
        ]
        present = [c for c in wanted if c in frame.columns]
        summed = frame.groupby(["service_code", "group"])[present].sum()
        for measure in measures:
            num = count_columns.numerator(measure.id)
            den = count_columns.denominator(measure.id)
            due = count_columns.not_due(measure.id)
            if num not in summed.columns or den not in summed.columns:
                continue
            part = pd.DataFrame(
                {
                    "numerator": summed[num],
                    "denominator": summed[den],
                    "not_due": summed[due] if due in summed.columns else 0,
                }
            )
            part = part[part.sum(axis=1) > 0].reset_index()
            frames.append(
                part.rename(columns={"group": "unit"}).assign(
                    level=level, period=label, kpi=measure.id
                )
            )
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(frames, ignore_index=True)[COLUMNS]
