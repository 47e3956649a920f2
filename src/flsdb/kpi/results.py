"""Turn engine counts into KPI rows: roll up to the level, then percent, Wilson CI and RAG."""

from __future__ import annotations

import numpy as np
import pandas as pd

from flsdb.dictionary import load_dictionary
from flsdb.kpi.catalogue import Catalogue, Measure
from flsdb.kpi.periods import Grain, Period, label_for
from flsdb.kpi.query import AGE_BANDS, NOT_RECORDED
from flsdb.stats.intervals import wilson_interval

LEVELS = ("service", "region", "nation", "age_band", "sex", "care_home")
BREAKDOWNS = ("age_band", "sex", "care_home")
NATIONS = ("england", "wales")
ALL_NATIONS = "all"
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
    """Per service: records of each part (only where its caseload is known) and expected."""
    known = expected.set_index("service_code")
    out = pd.DataFrame(index=counts.index)
    for part_id, part in measure.parts.items():
        columns = (
            ["expected_spine", "expected_non_spine"]
            if part.expected == "all"
            else [f"expected_{part.expected}"]
        )
        yearly = known[columns].sum(axis=1, min_count=len(columns))
        per_service = counts["service_code"].map(yearly).astype("float64")
        out[f"{part_id}__expected"] = per_service.fillna(0.0)
        out[f"{part_id}__num"] = counts[f"{part_id}__records"].where(per_service.notna(), 0)
        out[f"{part_id}__known"] = per_service.notna().astype("int64")
    return out


def round_half_up(values: np.ndarray, digits: int = 1) -> np.ndarray:
    """Round as people do (2.25 -> 2.3), not to even; a tiny nudge absorbs binary error (1.15)."""
    scale = 10.0**digits
    return np.floor(values * scale + 0.5 + 1e-9) / scale


def _rate(
    catalogue: Catalogue, measure: Measure, numerator: np.ndarray, percent: np.ndarray
) -> list[str | None]:
    rag = catalogue.rag_for(measure)
    if rag is None:
        return [None] * len(percent)
    values = numerator if rag.measure == "numerator" else percent
    return [rag.rate(None if np.isnan(v) else float(v)) for v in values]


def _rows_for(
    kpi: str,
    measure: Measure,
    catalogue: Catalogue,
    grid: pd.DataFrame,
    numerator: pd.Series,
    denominator: pd.Series,
    not_due: pd.Series | None,
) -> pd.DataFrame:
    num = numerator.to_numpy(dtype=float)
    den = denominator.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = np.where(den > 0, num / den * 100, np.nan)
    low, high = wilson_interval(num, den)
    return pd.DataFrame(
        {
            "unit": grid["unit"].to_numpy(),
            "period": grid["period"].to_numpy(),
            "kpi": kpi,
            "numerator": num,
            "denominator": den,
            "percent": round_half_up(exact),
            "ci_low": round_half_up(low * 100),
            "ci_high": round_half_up(high * 100),
            "rag": _rate(catalogue, measure, num, exact),
            "not_due": None if not_due is None else not_due.to_numpy(),
        }
    )


def build_results(
    counts: pd.DataFrame,
    *,
    level: str,
    services: pd.DataFrame,
    expected: pd.DataFrame,
    catalogue: Catalogue,
    measures: tuple[Measure, ...],
    period: Period,
    interval: Grain | None,
    only_services: list[str] | None = None,
) -> pd.DataFrame:
    """KPI rows for every unit of the level and every sub-period, in catalogue order."""
    grain = interval or period.grain
    scope = (
        services
        if only_services is None
        else services[services["service_code"].isin(only_services)]
    )
    periods = [p.label for p in period.split(interval)]
    fractions = {p.label: p.year_fraction for p in period.split(interval)}
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
    counts = _with_units(counts, level, scope)
    value_columns = [
        c
        for c in counts.columns
        if c not in {"service_code", "year", "month", "group", "unit", "period"}
        and not c.endswith(("__expected", "__known"))
    ]
    summed = counts.groupby(["unit", "period"])[value_columns].sum()
    grid = pd.MultiIndex.from_product(
        [level_units(level, scope), periods], names=["unit", "period"]
    )
    table = summed.reindex(grid, fill_value=0).reset_index()
    frames = []
    for measure in measures:
        if measure.kind == "caseload":
            if level in BREAKDOWNS:
                continue
            frames += _caseload_rows(table, measure, catalogue, scope, expected, level, fractions)
        elif measure.kind == "completeness":
            frames.append(_completeness_rows(table, measure, catalogue))
        else:
            not_due = table[f"{measure.id}__nd"] if measure.due else None
            frames.append(
                _rows_for(
                    measure.id,
                    measure,
                    catalogue,
                    table,
                    table[f"{measure.id}__num"],
                    table[f"{measure.id}__den"],
                    not_due,
                )
            )
    result = pd.concat(frames, ignore_index=True)
    result.insert(0, "level", level)
    order = {kpi: i for i, kpi in enumerate(catalogue.kpi_ids)}
    unit_order = {u: i for i, u in enumerate(level_units(level, scope))}
    result = result.sort_values(
        ["unit", "period", "kpi"],
        key=lambda s: (
            s.map(unit_order) if s.name == "unit" else (s.map(order) if s.name == "kpi" else s)
        ),
        kind="stable",
    )
    result = result.reset_index(drop=True)[list(RESULT_COLUMNS)]
    # Missing values are None (not NaN) so that every consumer sees "no value" the same way.
    return result.astype(object).where(result.notna(), None)


def _completeness_rows(table: pd.DataFrame, measure: Measure, catalogue: Catalogue) -> pd.DataFrame:
    over = np.zeros(len(table))
    for key in measure.key_fields:
        applies = f"{measure.id}__app__{key.column}"
        applicable = table[applies if key.applicable else "records"].to_numpy(dtype=float)
        missing = table[f"{measure.id}__miss__{key.column}"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(applicable > 0, missing / applicable * 100, 0.0)
        over += share > measure.missing_threshold
    # With no records in the period there is nothing to be complete: report no value.
    over = np.where(table["records"].to_numpy() > 0, over, np.nan)
    fields = pd.Series(np.full(len(table), float(len(measure.key_fields))))
    return _rows_for(measure.id, measure, catalogue, table, pd.Series(over), fields, None)


def _caseload_rows(
    table: pd.DataFrame,
    measure: Measure,
    catalogue: Catalogue,
    services: pd.DataFrame,
    expected: pd.DataFrame,
    level: str,
    fractions: dict[str, float],
) -> list[pd.DataFrame]:
    yearly_by_unit = _expected_by_unit(services, expected, measure, level)
    frames = []
    for part_id in measure.parts:
        yearly = table["unit"].map(yearly_by_unit[part_id]).astype("float64")
        denominator = pd.Series(
            round_half_up((yearly * table["period"].map(fractions)).to_numpy(dtype=float)),
            index=table.index,
        )
        frames.append(
            _rows_for(
                part_id, measure, catalogue, table, table[f"{part_id}__num"], denominator, None
            )
        )
    return frames


def _expected_by_unit(
    services: pd.DataFrame, expected: pd.DataFrame, measure: Measure, level: str
) -> dict[str, pd.Series]:
    """Yearly expected caseload per unit, summed over services whose caseload is known."""
    merged = services[["service_code", "region_code", "nation"]].merge(expected, on="service_code")
    unit = {"service": "service_code", "region": "region_code", "nation": "nation"}[level]
    out = {}
    for part_id, part in measure.parts.items():
        columns = (
            ["expected_spine", "expected_non_spine"]
            if part.expected == "all"
            else [f"expected_{part.expected}"]
        )
        merged["_yearly"] = merged[columns].astype("float64").sum(axis=1, min_count=len(columns))
        by_unit = merged.groupby(unit)["_yearly"].sum(min_count=1)
        if level == "nation":
            by_unit[ALL_NATIONS] = merged["_yearly"].sum(min_count=1)
        out[part_id] = by_unit
    return out
