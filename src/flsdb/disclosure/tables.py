"""Disclosure control of published KPI tables and treatment-mix counts.

Primary: a count of patients from 1 to 4 (below the configured threshold) is hidden; in a KPI
cell with a small denominator, or (by default) few patients without the outcome, the numerator
is hidden too, so that `0 / <5` or `56 / 58` cannot tell the outcome of the patients in it.
Secondary: no hidden count may be worked out from a total shown in the same publication (see
`flsdb.disclosure.engine`). The relations checked: a region is the sum of its FLSs, a nation of
its regions (or FLSs), England and Wales add up to the whole, every breakdown's groups add up to
the whole, kpi02 is kpi02_spine plus kpi02_non_spine, and two counts of the same patients (the
records of kpi03 and kpi04; kpi07's numerator and kpi09's denominator plus its not-due count)
are equal.

A hidden count shows as `<5` when it is below the threshold and `c` (withheld) when it is not;
its percentage, interval and RAG rating are removed with it.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from flsdb.config import Suppression
from flsdb.disclosure.engine import Relation, complete, relation, revealed
from flsdb.kpi.catalogue import Catalogue, Condition, Measure, load_catalogue

WITHHELD = "c"
COUNTS = ("numerator", "denominator", "not_due")
DERIVED = ("percent", "ci_low", "ci_high", "rag")
LEVEL_RANK = {"service": 0, "age_band": 0, "sex": 0, "care_home": 0, "region": 1, "nation": 2}
BREAKDOWNS = ("age_band", "sex", "care_home")


def is_hidden(value: object) -> bool:
    """Whether a published count was suppressed (`<5` or `c`)."""
    return isinstance(value, str)


def _conjuncts(condition: Condition | None, catalogue: Catalogue) -> frozenset[str]:
    if condition is None:
        return frozenset()
    if condition.all_of is not None:
        return frozenset().union(*(_conjuncts(c, catalogue) for c in condition.all_of))
    if condition.ref is not None:
        return frozenset({f"ref:{condition.ref}"})
    return frozenset({condition.model_dump_json(by_alias=True, exclude_none=True)})


def same_patients(catalogue: Catalogue) -> list[list[list[tuple[str, str]]]]:
    """Groups of sums of counts that count the same patients (by their definitions)."""
    found: dict[frozenset[str], list[list[tuple[str, str]]]] = defaultdict(list)
    for measure in catalogue.measures:
        if measure.kind != "proportion":
            continue
        base = _conjuncts(measure.denominator, catalogue)
        due = frozenset({f"due:{measure.due}"}) if measure.due else frozenset()
        denominator = [(measure.id, "denominator")]
        if measure.due:
            denominator.append((measure.id, "not_due"))
        found[base].append(denominator)
        numerator = base | due | _conjuncts(measure.numerator, catalogue)
        found[numerator].append([(measure.id, "numerator")])
    return [sums for sums in found.values() if len(sums) > 1]


def _counted(measure: Measure, column: str) -> bool:
    if measure.kind == "completeness":
        return False
    if column == "denominator":
        return measure.kind == "proportion"
    if column == "not_due":
        return measure.due is not None
    return True


class _Cells:
    """Every published count as a cell: (row, column) -> index into flat arrays."""

    def __init__(self, frame: pd.DataFrame, catalogue: Catalogue) -> None:
        self.frame = frame
        n = len(frame)
        self.values = np.zeros(n * 3)
        self.counted = np.zeros(n * 3, dtype=bool)
        measures = {kpi: catalogue.measure(kpi) for kpi in frame["kpi"].unique()}
        self.hidden = np.zeros(n * 3, dtype=bool)
        for c, column in enumerate(COUNTS):
            hidden = frame[column].map(is_hidden).to_numpy(dtype=bool)
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
            counted = np.array([_counted(measures[k], column) for k in frame["kpi"]], dtype=bool)
            self.values[c::3] = np.where(hidden, 1.0, np.nan_to_num(values))
            self.counted[c::3] = counted & (np.isfinite(values) | hidden)
            self.hidden[c::3] = hidden
        self.row = {
            key: i
            for i, key in enumerate(
                zip(frame["level"], frame["unit"], frame["period"], frame["kpi"], strict=True)
            )
        }

    def cell(self, level: str, unit: str, period: str, kpi: str, column: str) -> int | None:
        row = self.row.get((level, unit, period, kpi))
        if row is None:
            return None
        index = row * 3 + COUNTS.index(column)
        return index if self.counted[index] else None


def _primary(cells: _Cells, policy: Suppression) -> np.ndarray:
    values, counted = cells.values, cells.counted
    small = counted & (values >= 1) & (values < policy.below)
    hidden = small.copy()
    numerator, denominator = values[0::3], values[1::3]
    num_counted, den_counted = counted[0::3], counted[1::3]
    hide_numerator = den_counted & small[1::3]
    if policy.complement:
        rest = denominator - numerator
        hide_numerator |= den_counted & (rest >= 1) & (rest < policy.below)
    hidden[0::3] |= num_counted & hide_numerator
    return hidden


def _hierarchy(cells: _Cells, services: pd.DataFrame, levels: set[str]) -> list[Relation]:
    """Parent and children cells for every KPI, period and count column."""
    groups: list[tuple[tuple[str, str], list[tuple[str, str]]]] = []
    region_nation: dict[str, str] = {}
    for _, row in services.drop_duplicates("region_code").iterrows():
        region_nation[str(row["region_code"])] = str(row["nation"])
    if {"service", "region"} <= levels:
        for region, members in services.groupby("region_code"):
            groups.append(
                (("region", str(region)), [("service", str(s)) for s in members["service_code"]])
            )
    if "nation" in levels:
        for nation in ("england", "wales"):
            if "region" in levels:
                children = [("region", r) for r, n in region_nation.items() if n == nation]
            elif "service" in levels:
                codes = services.loc[services["nation"] == nation, "service_code"]
                children = [("service", str(s)) for s in codes]
            else:
                continue
            groups.append((("nation", nation), children))
        groups.append((("nation", "all"), [("nation", "england"), ("nation", "wales")]))
        for level in BREAKDOWNS:
            if level in levels:
                units = cells.frame.loc[cells.frame["level"] == level, "unit"].unique()
                groups.append((("nation", "all"), [(level, str(u)) for u in units]))
    constraints: list[Relation] = []
    keys = cells.frame[["period", "kpi"]].drop_duplicates().itertuples(index=False)
    for period, kpi in keys:
        for column in COUNTS:
            for (level, unit), children in groups:
                parent = cells.cell(level, unit, period, kpi, column)
                parts = [cells.cell(lv, u, period, kpi, column) for lv, u in children]
                if parent is None or any(m is None for m in parts):
                    continue
                constraints.append(relation([parent], parts))  # type: ignore[arg-type]
    return constraints


def _within_units(cells: _Cells, catalogue: Catalogue) -> list[Relation]:
    """Counts of one unit tied together: kpi02's parts, and counts of the same patients."""
    identities = same_patients(catalogue)
    constraints = []
    units = cells.frame[["level", "unit", "period"]].drop_duplicates().itertuples(index=False)
    for level, unit, period in units:

        def find(kpi: str, column: str) -> int | None:
            return cells.cell(level, unit, period, kpi, column)  # noqa: B023

        parts = [find(k, "numerator") for k in ("kpi02", "kpi02_spine", "kpi02_non_spine")]
        if all(p is not None for p in parts):
            constraints.append(relation(parts[:1], parts[1:]))  # type: ignore[arg-type]
        for sums in identities:
            resolved = [[find(k, c) for k, c in terms] for terms in sums]
            complete_sums = [r for r in resolved if all(i is not None for i in r)]
            for other in complete_sums[1:]:
                constraints.append(relation(complete_sums[0], other))  # type: ignore[arg-type]
        # kpi02 counts the records of FLSs whose caseload is known: where every FLS of the unit
        # has one, its counts are kpi03's (records, spine records), so they are tied too.
        for kpi02, kpi03 in (
            (find("kpi02", "numerator"), find("kpi03", "denominator")),
            (find("kpi02_spine", "numerator"), find("kpi03", "numerator")),
        ):
            tied = kpi02 is not None and kpi03 is not None
            if tied and cells.values[kpi02] == cells.values[kpi03]:
                constraints.append(relation([kpi02], [kpi03]))  # type: ignore[list-item]
    return constraints


def _preference(cells: _Cells) -> np.ndarray:
    """Lower first: FLSs before regions before nations; small units first; small counts first."""
    frame = cells.frame
    sizes = (
        pd.Series(cells.values[1::3])
        .groupby([frame["level"].to_numpy(), frame["unit"].to_numpy(), frame["period"].to_numpy()])
        .transform("max")
    )
    rank = frame["level"].map(LEVEL_RANK).fillna(3).to_numpy(dtype=float)
    rank = np.where(frame["unit"].to_numpy() == "all", 3.0, rank)
    row_preference = rank * 1e15 + sizes.to_numpy(dtype=float) * 1e6
    return np.repeat(row_preference, 3) + cells.values


def _combined(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    names = list(tables)
    frame = pd.concat([tables[n] for n in names], keys=names, names=["_table", "_row"])
    return frame.reset_index()


def _constraints(cells: _Cells, services: pd.DataFrame, catalogue: Catalogue) -> list[Relation]:
    levels = set(cells.frame["level"].unique())
    return _hierarchy(cells, services, levels) + _within_units(cells, catalogue)


def find_disclosures(
    tables: dict[str, pd.DataFrame],
    services: pd.DataFrame,
    policy: Suppression,
    catalogue: Catalogue | None = None,
) -> list[str]:
    """What a publication's tables would give away: a small count shown, a percentage shown
    beside a hidden count, or a relation with exactly one hidden count (the others and the
    total shown). An empty list: nothing. A check on the output, independent of how the
    cells were chosen."""
    catalogue = catalogue or load_catalogue()
    frame = _combined(tables)
    cells = _Cells(frame, catalogue)
    problems = []
    shown_small = (
        cells.counted & ~cells.hidden & (cells.values >= 1) & (cells.values < policy.below)
    )
    for index in np.flatnonzero(shown_small):
        row = frame.iloc[index // 3]
        problems.append(
            f"{row['level']} {row['unit']} {row['kpi']}: {COUNTS[index % 3]} "
            f"{cells.values[index]:g} is shown"
        )
    withheld = cells.hidden[0::3] | cells.hidden[1::3]
    for row_index in np.flatnonzero(withheld & frame["percent"].notna().to_numpy()):
        row = frame.iloc[row_index]
        problems.append(f"{row['level']} {row['unit']} {row['kpi']}: percent beside a hidden count")
    for rel in _constraints(cells, services, catalogue):
        if revealed(rel, cells.hidden, cells.values):
            cell = int(next(i for i in rel.cells if cells.hidden[i]))
            row = frame.iloc[cell // 3]
            problems.append(
                f"{row['level']} {row['unit']} {row['kpi']}: the hidden {COUNTS[cell % 3]} "
                "follows from the counts shown beside it"
            )
    return problems


def protect_tables(
    tables: dict[str, pd.DataFrame],
    services: pd.DataFrame,
    policy: Suppression,
    catalogue: Catalogue | None = None,
) -> dict[str, pd.DataFrame]:
    """The tables of one publication with small counts hidden and every total protected."""
    catalogue = catalogue or load_catalogue()
    frame = _combined(tables)
    cells = _Cells(frame, catalogue)
    constraints = _constraints(cells, services, catalogue)
    hidden = complete(cells.values, _primary(cells, policy), constraints, _preference(cells))
    out = frame.astype(object)
    for c, column in enumerate(COUNTS):
        mask = hidden[c::3]
        marks = np.where(cells.values[c::3] < policy.below, policy.label, WITHHELD)
        out.loc[mask, column] = marks[mask]
    withheld = hidden[0::3] | hidden[1::3]
    out.loc[withheld, list(DERIVED)] = None
    return {
        str(name): part.drop(columns=["_table", "_row"]).reset_index(drop=True)
        for name, part in out.groupby("_table", sort=False)
    }


def protect_mix(mix: pd.DataFrame, groups: tuple[str, ...], policy: Suppression) -> pd.DataFrame:
    """Treatment-mix counts per FLS with small counts hidden (None). Each FLS's groups add up to
    its records (published beside them); a chart that draws the hidden groups of an FLS
    together shows their sum, so that sum is kept at the threshold or above (or the FLS's row
    is hidden whole). National group counts are published only as shares to one decimal, which
    do not give the counts back."""
    columns = [*groups, "records"]
    grid = mix[columns].to_numpy(dtype=float)
    rows, width = grid.shape
    flat = grid.ravel()
    index = np.arange(rows * width).reshape(rows, width)
    constraints = [relation([int(index[r, -1])], index[r, :-1].tolist()) for r in range(rows)]
    preference = flat.copy()
    hidden = (flat >= 1) & (flat < policy.below)
    while True:
        hidden = complete(flat, hidden, constraints, preference)
        mask = hidden.reshape(rows, width)
        grew = False
        for r in range(rows):
            together = grid[r, :-1][mask[r, :-1]].sum()
            if 0 < together < policy.below:
                visible = [c for c in range(width - 1) if not mask[r, c] and grid[r, c] > 0]
                target = index[r, min(visible, key=lambda c: grid[r, c]) if visible else width - 1]
                grew = grew or not hidden[target]
                hidden[target] = True
        if not grew:
            break
    out = mix.copy().astype(object)
    mask = hidden.reshape(rows, width)
    for c, column in enumerate(columns):
        out.loc[mask[:, c], column] = None
    return out
