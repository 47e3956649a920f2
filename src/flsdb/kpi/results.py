"""Turn engine counts into KPI rows: roll up to the level, then percent, interval and RAG.

Proportions get a Wilson interval; kpi02 (observed records over an expected caseload) an exact
Poisson interval on the observed count; kpi01 none (it counts fields, or FLSs).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from flsdb.config import Thresholds
from flsdb.dictionary import load_dictionary
from flsdb.kpi import count_columns
from flsdb.kpi.catalogue import Catalogue, Measure
from flsdb.kpi.expected import (
    ALL_NATIONS,
    expected_by_unit,
    known_caseloads,
)
from flsdb.kpi.periods import Grain, Period, label_for
from flsdb.kpi.query import AGE_BANDS, NOT_RECORDED
from flsdb.stats.intervals import poisson_ratio_interval, wilson_interval

LEVELS = ("service", "region", "nation", "age_band", "sex", "care_home")
BREAKDOWNS = ("age_band", "sex", "care_home")
NATIONS = ("england", "wales")
RESULT_COLUMNS = (
    "level",
    "unit",
    "period",
    "kpi",
    "numerator",
    "denominator",
    "percent",
    "ci_low",
    "ci_high",
    "rag",
    "not_due",
)


def level_units(level: str, services: pd.DataFrame) -> list[str]:
    """Every unit a level reports, including those with no records."""
    dictionary = load_dictionary()
    if level == "service":
        return sorted(services["service_code"])
    if level == "region":
        return sorted(services["region_code"].unique())
    if level == "nation":
        return [*NATIONS, ALL_NATIONS]
    if level == "age_band":
        return list(AGE_BANDS)
    if level == "sex":
        return [*dictionary.codesets["sex"].codes, NOT_RECORDED]
    return [*dictionary.codesets["yes_no_unknown"].codes, NOT_RECORDED]


def _with_units(counts: pd.DataFrame, level: str, services: pd.DataFrame) -> pd.DataFrame:
    if level == "service":
        return counts.assign(unit=counts["service_code"])
    if level in BREAKDOWNS:
        return counts.assign(unit=counts["group"])
    lookup = services.set_index("service_code")
    if level == "region":
        return counts.assign(unit=counts["service_code"].map(lookup["region_code"]))
    by_nation = counts.assign(unit=counts["service_code"].map(lookup["nation"]))
    return pd.concat([by_nation, counts.assign(unit=ALL_NATIONS)], ignore_index=True)


def _caseload_counts(
    counts: pd.DataFrame, measure: Measure, expected: pd.DataFrame
) -> pd.DataFrame:
    """Per service: records of each part, counted only where its caseload is known."""
    out = pd.DataFrame(index=counts.index)
    codes = counts["service_code"]
    for part_id, part in measure.parts.items():
        known = codes.isin(known_caseloads(expected, part.expected)).to_numpy()
        out[count_columns.numerator(part_id)] = counts[count_columns.records(part_id)].where(
            known, 0
        )
    return out


def round_half_up(values: np.ndarray, digits: int = 1) -> np.ndarray:
    """Round as people do (2.25 -> 2.3), not to even; a tiny nudge absorbs binary error (1.15)."""
    scale = 10.0**digits
    return np.floor(values * scale + 0.5 + 1e-9) / scale


Rows = dict[str, np.ndarray]  # one KPI's rows, by result column (`_table` joins them)


def _rows_for(
    kpi: str,
    measure: Measure,
    thresholds: Thresholds,
    grid: pd.DataFrame,
    numerator: pd.Series,
    denominator: pd.Series,
    not_due: pd.Series | None,
    interval: str = "wilson",
) -> Rows:
    num = numerator.to_numpy(dtype=float)
    den = denominator.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = np.where(den > 0, num / den * 100, np.nan)
    if interval == "wilson":
        low, high = wilson_interval(num, den)
    elif interval == "poisson":
        low, high = poisson_ratio_interval(num, den)
    else:
        low = high = np.full(len(num), np.nan)
    rag = thresholds.rag_for(measure.id)
    values = num if rag is not None and rag.measure == "numerator" else exact
    return {
        "unit": grid["unit"].to_numpy(dtype=object),
        "period": grid["period"].to_numpy(dtype=object),
        "kpi": np.full(len(num), kpi, dtype=object),
        "numerator": num,
        "denominator": den,
        "percent": round_half_up(exact),
        "ci_low": round_half_up(low * 100),
        "ci_high": round_half_up(high * 100),
        "rag": np.full(len(num), None, dtype=object) if rag is None else rag.rates(values),
        "not_due": (
            np.full(len(num), None, dtype=object)
            if not_due is None
            else not_due.to_numpy().astype(object)
        ),
    }


_FLOATS = ("numerator", "denominator", "percent", "ci_low", "ci_high")


def _table(
    level: str, parts: list[Rows], unit_order: dict[str, int], kpi_order: dict[str, int]
) -> pd.DataFrame:
    """The KPIs' rows as one table of Python values (None for no value), by unit, period and
    catalogue order: each column joined once, sorted with one stable lexsort."""
    columns: dict[str, np.ndarray] = {}
    for name in RESULT_COLUMNS[1:]:
        joined = np.concatenate([part[name] for part in parts]) if parts else np.array([])
        if name in _FLOATS:
            values = joined.astype(float)
            joined = values.astype(object)
            joined[np.isnan(values)] = None
        columns[name] = joined
    periods = np.unique(columns["period"].astype(str), return_inverse=True)[1]
    order = np.lexsort(
        (
            np.array([kpi_order.get(k, len(kpi_order)) for k in columns["kpi"]], dtype=np.int64),
            periods.reshape(-1),
            np.array([unit_order.get(u, len(unit_order)) for u in columns["unit"]], np.int64),
        )
    )
    data = {"level": np.full(len(order), level, dtype=object)}
    data.update({name: values[order] for name, values in columns.items()})
    return pd.DataFrame({name: pd.Series(v, dtype=object) for name, v in data.items()})


def build_results(
    counts: pd.DataFrame,
    *,
    level: str,
    services: pd.DataFrame,
    expected: pd.DataFrame,
    catalogue: Catalogue,
    thresholds: Thresholds,
    measures: tuple[Measure, ...],
    period: Period,
    interval: Grain | None,
    only_services: list[str] | None = None,
    as_of: dt.date | None = None,
) -> pd.DataFrame:
    """KPI rows for every unit of the level and every sub-period, in catalogue order."""
    grain = interval or period.grain
    scope = (
        services
        if only_services is None
        else services[services["service_code"].isin(only_services)]
    )
    periods = [p.label for p in period.split(interval)]
    fractions = {
        p.label: p.year_fraction if as_of is None else p.year_fraction_by(as_of)
        for p in period.split(interval)
    }
    counts = counts.copy()
    months = counts["month"].astype("int64")
    parts = (months - 1) // 3 + 1 if grain == "quarter" else months
    labels = {
        (y, p): label_for(int(y), grain, int(p))
        for y, p in set(zip(counts["year"], parts, strict=True))
    }
    counts["period"] = [labels[key] for key in zip(counts["year"], parts, strict=True)]
    for measure in measures:
        if measure.kind == "caseload" and level not in BREAKDOWNS:
            counts = counts.join(_caseload_counts(counts, measure, expected))
    grid = pd.MultiIndex.from_product(
        [level_units(level, scope), periods], names=["unit", "period"]
    )
    value_columns = [
        c
        for c in counts.columns
        if c not in {"service_code", "year", "month", "group", "unit", "period"}
    ]
    summed = _with_units(counts, level, scope).groupby(["unit", "period"])[value_columns].sum()
    table = summed.reindex(grid, fill_value=0).reset_index()
    frames: list[Rows] = []
    for measure in measures:
        if measure.kind == "caseload":
            if level in BREAKDOWNS:
                continue
            frames += _caseload_rows(table, measure, thresholds, scope, expected, level, fractions)
        elif measure.kind == "completeness":
            if level in ("region", "nation"):
                frames.append(
                    _completeness_share_rows(counts, measure, thresholds, level, scope, grid)
                )
            else:
                frames.append(_completeness_rows(table, measure, thresholds))
        else:
            not_due = table[count_columns.not_due(measure.id)] if measure.due else None
            frames.append(
                _rows_for(
                    measure.id,
                    measure,
                    thresholds,
                    table,
                    table[count_columns.numerator(measure.id)],
                    table[count_columns.denominator(measure.id)],
                    not_due,
                )
            )
    order = {kpi: i for i, kpi in enumerate(catalogue.kpi_ids)}
    unit_order = {u: i for i, u in enumerate(level_units(level, scope))}
    return _table(level, frames, unit_order, order)


def fields_over_threshold(table: pd.DataFrame, measure: Measure) -> np.ndarray:
    """kpi01 per row of summed counts: key fields with more than the threshold missing;
    NaN where the row has no records (nothing to be complete)."""
    over = np.zeros(len(table))
    for key in measure.key_fields:
        applies = count_columns.applies(measure.id, key.column)
        applicable = table[applies if key.applicable else "records"].to_numpy(dtype=float)
        missing = table[count_columns.missing(measure.id, key.column)].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(applicable > 0, missing / applicable * 100, 0.0)
        over += share > measure.missing_threshold
    return np.where(table["records"].to_numpy() > 0, over, np.nan)


def _completeness_rows(table: pd.DataFrame, measure: Measure, thresholds: Thresholds) -> Rows:
    over = fields_over_threshold(table, measure)
    fields = pd.Series(np.full(len(table), float(len(measure.key_fields))))
    return _rows_for(
        measure.id, measure, thresholds, table, pd.Series(over), fields, None, interval="none"
    )


def _completeness_share_rows(
    counts: pd.DataFrame,
    measure: Measure,
    thresholds: Thresholds,
    level: str,
    services: pd.DataFrame,
    grid: pd.MultiIndex,
) -> Rows:
    """kpi01 for a region or nation: FLSs with records whose completeness is green, over FLSs
    with records (as the national audit reports it)."""
    columns = [
        "records",
        *(c for c in counts.columns if c.startswith(count_columns.of_measure(measure.id))),
    ]
    per_service = counts.groupby(["service_code", "period"])[columns].sum().reset_index()
    per_service = per_service[per_service["service_code"].isin(services["service_code"])]
    rag = thresholds.rag_for(measure.id)
    over = fields_over_threshold(per_service, measure)
    good = np.where(np.isnan(over), False, over < (rag.green if rag else 5))
    flags = per_service[["service_code", "period"]].assign(
        good=good.astype(int), with_records=(per_service["records"] > 0).astype(int)
    )
    summed = (
        _with_units(flags, level, services)
        .groupby(["unit", "period"])[["good", "with_records"]]
        .sum()
    )
    table = summed.reindex(grid, fill_value=0).reset_index()
    rows = _rows_for(
        measure.id,
        measure,
        thresholds,
        table,
        table["good"],
        table["with_records"],
        None,
        interval="none",
    )
    rows["rag"] = np.full(len(table), None, dtype=object)  # no threshold for the share of FLSs
    return rows


def _caseload_rows(
    table: pd.DataFrame,
    measure: Measure,
    thresholds: Thresholds,
    services: pd.DataFrame,
    expected: pd.DataFrame,
    level: str,
    fractions: dict[str, float],
) -> list[Rows]:
    yearly_by_unit = expected_by_unit(services, expected, measure, level)
    frames = []
    for part_id in measure.parts:
        yearly = table["unit"].map(yearly_by_unit[part_id]).astype("float64")
        # Expected cases for the period, as a whole number of patients.
        denominator = pd.Series(
            round_half_up((yearly * table["period"].map(fractions)).to_numpy(dtype=float), 0),
            index=table.index,
        )
        frames.append(
            _rows_for(
                part_id,
                measure,
                thresholds,
                table,
                table[count_columns.numerator(part_id)],
                denominator,
                None,
                interval="poisson",
            )
        )
    return frames
