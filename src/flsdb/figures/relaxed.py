"""The gate's last step: complements the audit does not need shown again (`relaxed`)."""

from __future__ import annotations

import pandas as pd

from flsdb.disclosure import audit_tables, relax_tables
from flsdb.figures.model import PeriodFigures


def relaxed(
    data: PeriodFigures, published: dict[str, pd.DataFrame], years: pd.DataFrame
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The tables (which pass the audit) with the complements of nations and regions that the
    audit does not need shown again (`relax_tables`, each one proven by the audit as it is
    shown), and the national rows of every year with them; as they were if the years' own
    audit would then fail."""
    policy = data.thresholds.suppression
    shown = relax_tables(
        published, data.unsuppressed, data.services, policy, data.catalogue, data.group_counts
    )
    if shown is published:
        return published, years
    if data.years_computed is None:
        return shown, years
    earlier = years[years["period"] != data.period.label]
    current = shown["nation"].assign(period=data.period.label)[earlier.columns]
    every = pd.concat([earlier, current], ignore_index=True)
    problems = audit_tables(
        {"nation": every}, {"nation": data.years_computed}, data.services, policy, data.catalogue
    )
    return (published, years) if problems else (shown, every)
