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

import numpy as np
import pandas as pd

from flsdb.config import Suppression
from flsdb.disclosure.cells import (
    COUNTS,
    DERIVED,
    WITHHELD,
    Cells,
    combined,
    is_hidden,
    nested_cells,
    own_parts,
    relations_of,
)
from flsdb.disclosure.costs import costs
from flsdb.disclosure.engine import complete, relation, revealed
from flsdb.disclosure.levels import protect_levels
from flsdb.disclosure.model import model, owners
from flsdb.disclosure.protect import secure
from flsdb.disclosure.relax import relax
from flsdb.kpi.catalogue import Catalogue, load_catalogue

__all__ = [
    "WITHHELD",
    "find_disclosures",
    "is_hidden",
    "protect_mix",
    "protect_tables",
    "relax_tables",
]


def _primary(
    cells: Cells, policy: Suppression, nested: list[tuple[int, int]] | None = None
) -> np.ndarray:
    """Counts of 1 to 4; numerators of small denominators; with `complement`, the inner count
    of two nested ones that differ by 1 to 4 (a numerator, or hr02's within kpi07's)."""
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
    if policy.complement:
        for inner, outer in nested or []:
            if policy.small(values[outer] - values[inner]) and not hidden[outer]:
                hidden[inner] = True
    return hidden


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
    frame = combined(tables)
    cells = Cells(frame, catalogue)
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
    for rel in relations_of(cells, services, catalogue):
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
    *,
    audited: bool = False,
    per_fls: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """The tables of one publication with small counts hidden and every hidden count of 1 to 4
    protected (sums, equal and nested counts, for an outsider and for each FLS knowing its own
    counts) by protection levels (`flsdb.disclosure.levels`, fast: every dashboard refresh).
    `audited`: then run the intruder's audit (`flsdb.disclosure.audit`) and, where it still
    narrows a count, hide more until it passes (`protect.secure`, bounded); `flsdb report`
    does this before it writes anything. `per_fls`: the breakdown groups' counts of each FLS
    (each FLS knows its own part of every group), for the audit."""
    catalogue = catalogue or load_catalogue()
    frame = combined(tables)
    cells = Cells(frame, catalogue)
    constraints = relations_of(cells, services, catalogue)
    nested = nested_cells(cells, catalogue)
    primary = _primary(cells, policy, nested)
    preference = costs(cells.frame, cells.values)
    cell_owners = owners(cells, services)
    hidden = protect_levels(
        cells.values,
        cells.counted,
        primary,
        constraints,
        nested,
        cell_owners,
        preference,
        policy.below,
        policy.complement,
    )
    if audited:
        parts = own_parts(cells, per_fls)
        hidden = secure(cells, hidden, constraints, nested, preference, policy, services, parts)
    return _marked(frame, cells, hidden, policy)


def relax_tables(
    shown: dict[str, pd.DataFrame],
    tables: dict[str, pd.DataFrame],
    services: pd.DataFrame,
    policy: Suppression,
    catalogue: Catalogue | None = None,
    per_fls: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Published tables (`shown`, of `tables`) with the nations' and regions' complements
    shown again wherever the intruder's audit still passes (`flsdb.disclosure.relax`); `shown`
    itself when none can be. `per_fls` as for `protect_tables`."""
    catalogue = catalogue or load_catalogue()
    cells, pub = model(shown, tables, services, policy, catalogue, per_fls)
    keep = _primary(cells, policy, list(pub.nested))
    hidden = relax(cells, pub, keep)
    if np.array_equal(hidden, pub.hidden):
        return shown
    return _marked(cells.frame, cells, hidden, policy)


def _marked(
    frame: pd.DataFrame, cells: Cells, hidden: np.ndarray, policy: Suppression
) -> dict[str, pd.DataFrame]:
    out = frame.astype(object)
    for c, column in enumerate(COUNTS):
        mask = hidden[c::3]
        values = cells.values[c::3]
        # `<5` says 1 to 4; any other withheld count (0, or 5 and over) is `c`.
        marks = np.where((values >= 1) & (values < policy.below), policy.label, WITHHELD)
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


def protect_completeness(
    applicable: int, missing: int, policy: Suppression, withhold: bool = False
) -> tuple[object, object, bool]:
    """One completeness count as published (Appendix B: records a key field applies to, and
    how many of them miss it): (applicable, missing, whether its percentage may be shown). A
    count of 1 to 4, or a complete count of 1 to 4 (applicable - missing), is withheld with
    the percentage (`<5`, or `c` for the count it would give away); `withhold`: the records
    it applies to are withheld elsewhere (the whole row is, so that nothing hidden there can be
    worked out here)."""

    def mark(value: int) -> object:
        return policy.label if policy.small(value) else WITHHELD

    if withhold:
        return mark(applicable), mark(missing), False
    if policy.small(applicable):
        return policy.label, mark(missing), False
    if policy.small(missing):
        return applicable, policy.label, False
    if policy.small(applicable - missing):
        return applicable, WITHHELD, False
    return applicable, missing, True
