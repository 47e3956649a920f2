"""Every published count as a cell, and the relations anyone can know between cells: sums over
units and groups, equal counts (the same patients under two KPIs) and nested counts (one
count's patients inside another's, by their definitions in the catalogue)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from flsdb.disclosure.engine import Relation, relation
from flsdb.kpi.catalogue import Catalogue, Condition, Measure
from flsdb.kpi.results import BREAKDOWNS

WITHHELD = "c"
COUNTS = ("numerator", "denominator", "not_due")
DERIVED = ("percent", "ci_low", "ci_high", "rag")


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


class Cells:
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


@dataclass(frozen=True)
class Parts:
    """What each FLS knows of the breakdown groups' counts: its own part of each (`own`: FLS
    -> cell -> its own count, zeros left out), over the cells `cells` (an FLS not named for
    one has none of its patients)."""

    own: dict[str, dict[int, float]]
    cells: frozenset[int]


def own_parts(cells: Cells, per_fls: pd.DataFrame | None) -> Parts | None:
    """The breakdown groups' counts split by FLS (`per_fls`: a row per FLS, breakdown level,
    group, period and KPI, with service_code and the counts), as cells of `cells`; None
    without them."""
    if per_fls is None:
        return None
    frame = cells.frame
    rows = np.flatnonzero(frame["level"].isin(BREAKDOWNS).to_numpy())
    covered = [int(r) * 3 + c for r in rows for c in range(3) if cells.counted[r * 3 + c]]
    own: dict[str, dict[int, float]] = defaultdict(dict)
    keys = zip(per_fls["level"], per_fls["unit"], per_fls["period"], per_fls["kpi"], strict=True)
    row_of = np.array([cells.row.get(key, -1) for key in keys], dtype=np.int64)
    codes = per_fls["service_code"].astype(str).to_numpy()
    for c, column in enumerate(COUNTS):
        values = np.nan_to_num(pd.to_numeric(per_fls[column], errors="coerce").to_numpy(float))
        index = row_of * 3 + c
        keep = (row_of >= 0) & (values > 0)
        keep[keep] &= cells.counted[index[keep]]
        for code, cell, value in zip(codes[keep], index[keep], values[keep], strict=True):
            own[str(code)][int(cell)] = float(value)
    # Parts that do not add up to their cell (counts of another source or extract) are not
    # what the FLSs know of it: such a cell is left to the approximation (`model._insiders_own`).
    totals: dict[int, float] = defaultdict(float)
    for mine in own.values():
        for cell, value in mine.items():
            totals[cell] += value
    wrong = {c for c in covered if abs(totals.get(c, 0.0) - cells.values[c]) > 1e-9}
    if wrong:
        own = defaultdict(
            dict, {w: {c: v for c, v in m.items() if c not in wrong} for w, m in own.items()}
        )
    return Parts(dict(own), frozenset(c for c in covered if c not in wrong))


def _hierarchy(cells: Cells, services: pd.DataFrame, levels: set[str]) -> list[Relation]:
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


def _within_units(cells: Cells, catalogue: Catalogue) -> list[Relation]:
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


def combined(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    names = list(tables)
    frame = pd.concat([tables[n] for n in names], keys=names, names=["_table", "_row"])
    return frame.reset_index()


def relations_of(cells: Cells, services: pd.DataFrame, catalogue: Catalogue) -> list[Relation]:
    levels = set(cells.frame["level"].unique())
    return _hierarchy(cells, services, levels) + _within_units(cells, catalogue)


def count_sets(catalogue: Catalogue) -> dict[tuple[str, str], frozenset[str]]:
    """Each count of a proportion KPI as the conditions its patients meet (more conditions,
    fewer patients): (kpi, column) -> conditions."""
    sets: dict[tuple[str, str], frozenset[str]] = {}
    for measure in catalogue.measures:
        if measure.kind != "proportion":
            continue
        base = _conjuncts(measure.denominator, catalogue)
        denominator = base | ({f"due:{measure.due}"} if measure.due else set())
        sets[(measure.id, "denominator")] = frozenset(denominator)
        if measure.due:
            sets[(measure.id, "not_due")] = base | {f"not_due:{measure.due}"}
        sets[(measure.id, "numerator")] = denominator | _conjuncts(measure.numerator, catalogue)
    return sets


def nested_counts(
    catalogue: Catalogue,
) -> list[tuple[list[tuple[str, str]], list[tuple[str, str]]]]:
    """Pairs (inner, outer) of counts whose inner patients are all among the outer ones: each
    side the counts that count the same patients (any one present will do). The pairs are the
    nearest ones (a count inside another inside a third gives two pairs), and every numerator
    within its own denominator."""
    sets = count_sets(catalogue)
    members: dict[frozenset[str], list[tuple[str, str]]] = defaultdict(list)
    for key, conditions in sets.items():
        members[conditions].append(key)
    distinct = list(members)
    pairs: list[tuple[frozenset[str], frozenset[str]]] = []
    for inner in distinct:
        for outer in distinct:
            if not outer < inner:
                continue
            between = any(outer < other < inner for other in distinct)
            if not between:
                pairs.append((inner, outer))
    for measure in catalogue.measures:
        key = (measure.id, "numerator")
        if key in sets:
            pair = (sets[key], sets[(measure.id, "denominator")])
            if pair[0] != pair[1] and pair not in pairs:
                pairs.append(pair)
    return [(members[inner], members[outer]) for inner, outer in pairs]


def nested_cells(cells: Cells, catalogue: Catalogue) -> list[tuple[int, int]]:
    """Per unit and period, (inner, outer) cells of nested counts (see `nested_counts`)."""
    pairs = nested_counts(catalogue)
    out = []
    units = cells.frame[["level", "unit", "period"]].drop_duplicates().itertuples(index=False)
    for level, unit, period in units:

        def first(keys: list[tuple[str, str]]) -> int | None:
            for kpi, column in keys:
                found = cells.cell(level, unit, period, kpi, column)  # noqa: B023
                if found is not None:
                    return found
            return None

        for inner_keys, outer_keys in pairs:
            inner, outer = first(inner_keys), first(outer_keys)
            if inner is not None and outer is not None:
                out.append((inner, outer))
    return out
