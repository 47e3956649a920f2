"""Secondary suppression proven by the intruder's audit.

`secure` starts from the protection levels' pattern (`levels.protect_levels`), then runs the
linear-programming audit (`audit.audit`); while a protected count can be narrowed (by an
outsider, or by an FLS from its own counts), it hides the cheapest shown cell tied to it (in the
same sum, equal or nested count; never one the attacking FLS knows itself), applies the
subtraction rule again and audits again, for a bounded number of rounds; what is still narrowed
then has its whole relation groups withheld (a few rounds at most), then its KPIs' every count
at its level, then the zeros shown there. Every step chooses from the bottom up, by the costs of
`flsdb.disclosure.costs`: a complement is an FLS's (or breakdown group's) count before a
region's before a nation's, and the whole groups, KPIs and zeros are withheld a level at a time
(a narrowed FLS count's group first without its region's total, a nation's KPI first in the
breakdown groups, zeros first below the nations), widening only while the audit still narrows a
count. The caller audits the result and refuses to publish one that fails
(`flsdb.figures.audited`); the audit itself is `model.audit_tables`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from flsdb.config import Suppression
from flsdb.disclosure.audit import Breach, Cache, audit
from flsdb.disclosure.cells import Cells, Parts
from flsdb.disclosure.costs import NATION_LEVEL, WHOLE_LEVEL, level_of, levels
from flsdb.disclosure.engine import Relation, complete
from flsdb.disclosure.model import needs_of, owners, publication
from flsdb.kpi.results import BREAKDOWNS

# Rounds of the search (each hides the cheapest count tied to each narrowed one, then audits
# again), then rounds that withhold whole relation groups (a level higher each round, then
# whole): bounded, so the search ends.
MAX_ROUNDS = 12
GROUP_ROUNDS = 3 + WHOLE_LEVEL


def _tied(groups: Sequence[tuple[int, ...]]) -> dict[int, list[tuple[int, ...]]]:
    by_cell: dict[int, list[tuple[int, ...]]] = {}
    for group in groups:
        for cell in group:
            by_cell.setdefault(cell, []).append(group)
    return by_cell


def _complement(
    breach: Breach,
    tied: Sequence[dict[int, list[tuple[int, ...]]]],
    hidden: NDArray[np.bool_],
    counted: NDArray[np.bool_],
    preference: NDArray[np.float64],
    cell_owners: Sequence[str | None],
) -> int | None:
    """The cheapest shown cell in a sum or equal count with the breached quantity; failing
    that, in a nested pair with it; failing that, one step further out. Where the cheapest is
    above the FLSs' level, a cell of a lower level one step further out comes first (a zero
    is hidden only when nothing else will do: its cost says so)."""
    start = {c for c, _ in breach.target.terms}
    for by_cell in (*tied, _merged(tied)):
        reached = set(start)
        found: list[tuple[int, int, float, int]] = []  # (level, step, cost, cell)
        seen: set[int] = set()
        for step in range(4):
            pool = {cell for c in reached for group in by_cell.get(c, []) for cell in group}
            found += [
                (level_of(preference[c]), step, float(preference[c]), c)
                for c in pool - seen
                if not hidden[c] and counted[c] and cell_owners[c] != breach.attacker
            ]
            seen |= pool
            if found and (min(found)[0] == 0 or min(found)[1] < step):
                break
            if pool <= reached:
                break
            reached |= pool
        if found:
            return min(found)[3]
    return None


def _merged(
    tied: Sequence[dict[int, list[tuple[int, ...]]]],
) -> dict[int, list[tuple[int, ...]]]:
    out: dict[int, list[tuple[int, ...]]] = {}
    for by_cell in tied:
        for cell, groups in by_cell.items():
            out.setdefault(cell, []).extend(groups)
    return out


def secure(
    cells: Cells,
    hidden: NDArray[np.bool_],
    relations: Sequence[Relation],
    nested: Sequence[tuple[int, int]],
    preference: NDArray[np.float64],
    policy: Suppression,
    services: pd.DataFrame,
    parts: Parts | None = None,
) -> NDArray[np.bool_]:
    """Hidden flags after secondary suppression that passes the audit: from `hidden` (the
    protection levels' pattern), while the audit narrows a count (an outsider first, then each
    FLS as insider), hide the cheapest shown count tied to it, for at most `MAX_ROUNDS` rounds;
    then, for what is still narrowed, every count of every relation it is in (its whole group:
    FLSs, region, nation). `audit_tables` on the result says whether it passes."""
    cell_owners = owners(cells, services)
    small = (cells.values >= 1) & (cells.values < policy.below)
    tied = (_tied([rel.cells for rel in relations]), _tied(nested))
    hidden = complete(cells.values, hidden, relations, preference)
    outsider: Cache = {}
    insider: Cache = {}
    first = publication(cells, hidden, small, relations, nested, policy, cell_owners, None, parts)
    basis = needs_of(first, relations)

    def breaches_of(pattern: NDArray[np.bool_]) -> list[Breach]:
        pub = publication(
            cells, pattern, small, relations, nested, policy, cell_owners, basis, parts
        )
        found = audit(pub, insiders=False, first_only=True, cache=outsider)
        return found or audit(pub, insiders=True, first_only=True, cache=insider)

    breaches = breaches_of(hidden)
    for _ in range(MAX_ROUNDS):
        if not breaches:
            return hidden
        chosen = set()
        for breach in breaches:
            cell = _complement(breach, tied, hidden, cells.counted, preference, cell_owners)
            if cell is not None:
                chosen.add(cell)
        if not chosen:
            break
        hidden = hidden.copy()
        hidden[list(chosen)] = True
        hidden = complete(cells.values, hidden, relations, preference)
        breaches = breaches_of(hidden)
    cell_levels = np.repeat(levels(cells.frame), 3)
    for widen in range(GROUP_ROUNDS):  # the groups up to a level higher each round
        if not breaches:
            break
        wider = _whole_groups(breaches, tied, hidden, cells.counted, cell_levels, widen)
        if not np.array_equal(wider, hidden):  # (the same flags: the same breaches)
            hidden = complete(cells.values, wider, relations, preference)
            breaches = breaches_of(hidden)
    # Then the KPI's every count at the breached level (zeros included), then every zero shown
    # at those levels, any KPI (a zero pins its sums): each below the nations first. The last
    # is not audited here: the caller audits what it publishes.
    steps = [(step, nations) for step in (_whole_kpis, _zeros) for nations in (False, True)]
    for number, (step, nations) in enumerate(steps):
        if not breaches:
            break
        hidden = complete(
            cells.values, step(breaches, cells, hidden, nations), relations, preference
        )
        if number < len(steps) - 1:
            breaches = breaches_of(hidden)
    return hidden


def _zeros(
    breaches: Sequence[Breach], cells: Cells, hidden: NDArray[np.bool_], nations: bool = True
) -> NDArray[np.bool_]:
    """Every zero shown at the narrowed counts' levels (a nation's with its breakdown groups):
    a zero bounds every sum and nested count it is in, so an insider's own parts can pin the
    others' part against it (sex "male" kpi11's 0 not yet due, through kpi11's records).
    Without `nations`, none of a nation's (or the whole's)."""
    hidden = hidden.copy()
    frame = cells.frame
    wanted = set()
    kpis = set()
    for breach in breaches:
        for cell, _ in breach.target.terms:
            level = frame["level"].iloc[cell // 3]
            kpis.add(frame["kpi"].iloc[cell // 3])
            wanted.add(level)
            if level == "nation" or level in BREAKDOWNS:
                wanted |= {"nation", *BREAKDOWNS}
    rows = np.repeat(frame["level"].isin(wanted).to_numpy(), 3)
    # And the narrowed KPIs' zeros at every level: an FLS with none of a count's patients,
    # shown as 0, tells an FLS with all of them that the others have none.
    rows |= np.repeat(frame["kpi"].isin(kpis).to_numpy(), 3)
    if not nations:
        rows &= np.repeat(levels(frame) < NATION_LEVEL, 3)
    hidden |= rows & cells.counted & (cells.values == 0)
    return hidden


def _whole_kpis(
    breaches: Sequence[Breach], cells: Cells, hidden: NDArray[np.bool_], nations: bool = True
) -> NDArray[np.bool_]:
    """Every count of the narrowed counts' KPIs at their levels (every FLS, region, nation or
    breakdown group), and of a nation's in every breakdown group (the groups are its parts,
    each FLS knowing its own): a count pinned by its shown neighbours, such as a group's
    numerator forced to 0 by its shown denominator of 0, can no longer bound the narrowed
    one. Without `nations`, the breakdown groups' only, not the nations'."""
    hidden = hidden.copy()
    frame = cells.frame
    wanted = set()
    for breach in breaches:
        for cell, _ in breach.target.terms:
            level, kpi = frame["level"].iloc[cell // 3], frame["kpi"].iloc[cell // 3]
            if nations or level != "nation":
                wanted.add((level, kpi))
            if level == "nation" or level in BREAKDOWNS:
                wanted |= {(group, kpi) for group in BREAKDOWNS}
    rows = np.flatnonzero(
        [(lvl, kpi) in wanted for lvl, kpi in zip(frame["level"], frame["kpi"], strict=True)]
    )
    for row in rows:
        for offset in range(3):
            if cells.counted[row * 3 + offset]:
                hidden[row * 3 + offset] = True
    return hidden


def _whole_groups(
    breaches: Sequence[Breach],
    tied: Sequence[dict[int, list[tuple[int, ...]]]],
    hidden: NDArray[np.bool_],
    counted: NDArray[np.bool_],
    cell_levels: NDArray[np.int64],
    widen: int = WHOLE_LEVEL,
) -> NDArray[np.bool_]:
    """Every count of every relation (sum, equal or nested counts) a narrowed count is in, up
    to `widen` levels above the narrowed count's (0: its own level and below, such as an
    FLS's fellow FLSs without their region's total)."""
    hidden = hidden.copy()
    for breach in breaches:
        for cell, _ in breach.target.terms:
            ceiling = cell_levels[cell] + widen
            for by_cell in tied:
                for group in by_cell.get(cell, []):
                    for other in group:
                        if counted[other] and cell_levels[other] <= ceiling:
                            hidden[other] = True
    return hidden
