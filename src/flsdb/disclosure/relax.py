"""Complements shown again where the intruder's audit allows it: fewer nation and region counts
withheld.

The protection levels (`flsdb.disclosure.levels`) and the audit's search (`protect.secure`)
choose complements one relation at a time. Each choice protects, but together they often
withhold more than the tables need: a region's or nation's count hidden to absorb a move that,
in the system of tables as a whole, other withheld counts absorb already (an FLS's withheld
count moves with its region's and its nation's totals, but also with the FLSs beside it). Both
tau-ARGUS and sdcTable judge a pattern by the whole table's linear programme, not by each
relation alone (a secondary suppression is needed only if, without it, some sensitive cell's
feasible interval falls short of its protection levels), and their heuristics end with a
clean-up of the complements that no sensitive cell needs.

That clean-up here: every withheld count that the primary rule did not withhold (a count of 1
to 4, a numerator beside a small denominator, an inner count a small difference from its outer
one stay withheld), of a nation (the whole first, then England and Wales) and then of a
region, of at least `FROM` patients, is tried shown, with every withheld count that showing
them gives away by subtraction (`engine.revealed`: England's beside the whole's gives Wales's;
a nation's patients not yet due, 0, its regions' zeros), unless that is one the primary rule
withholds. They stay shown when the audit (an outsider,
and each FLS knowing its own counts, with each FLS's part of every breakdown group) narrows no
protected count. A level's counts are tried together first, and where that fails, each half
(largest counts first), and so on down to one count: most can be shown, so a few audits find
them (group testing). Each try solves again only the blocks of withheld counts it changed: the
audit keeps every other block's outcome, and each attacker is handed its solutions of the last
try (`audit.Seeds`: most stay solutions when a few counts are shown, so they prove bounds before
anything is solved).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from flsdb.disclosure.audit import Cache, Publication, Seeds, audit
from flsdb.disclosure.cells import Cells
from flsdb.disclosure.costs import REGION_LEVEL, levels
from flsdb.disclosure.engine import revealed

FROM = 50  # patients: smaller totals cost a reader little, and every try costs an audit
MAX_TRIES = 60  # bounded, so it ends (a try audits the blocks it changed; see the README)


def candidates(
    cells: Cells, hidden: NDArray[np.bool_], keep: NDArray[np.bool_], minimum: float = FROM
) -> list[int]:
    """The withheld counts to try showing again, in order: the highest level first (the whole,
    then a nation, then a region), the largest count first within it."""
    cell_levels = np.repeat(levels(cells.frame), 3)
    values = cells.values
    chosen = np.flatnonzero(
        hidden & ~keep & cells.counted & (cell_levels >= REGION_LEVEL) & (values >= minimum)
    )
    order = np.lexsort((-values[chosen], -cell_levels[chosen]))
    return [int(c) for c in chosen[order]]


def relax(
    cells: Cells, pub: Publication, keep: NDArray[np.bool_], minimum: float = FROM
) -> NDArray[np.bool_]:
    """Hidden flags of `pub` (the audit's model of published tables that pass the audit,
    `model.model`) with the complements of `candidates` shown again wherever the audit still
    passes. `keep`: the counts withheld by the primary rule."""
    hidden = np.asarray(pub.hidden, dtype=bool)
    order = candidates(cells, hidden, keep, minimum)
    if not order:
        return hidden
    values = pub.values
    by_cell: dict[int, list[int]] = {}
    for index, rel in enumerate(pub.equalities):
        for cell in rel.cells:
            by_cell.setdefault(cell, []).append(index)
    cache: Cache = {}
    seeds: Seeds = {}
    blamed: list[str] = []  # the attackers that narrowed a count, the latest first
    current = hidden
    tries = 0
    nested_by_cell: dict[int, list[int]] = {}
    for index, pair in enumerate(pub.nested):
        for cell in pair:
            nested_by_cell.setdefault(cell, []).append(index)
    target_by_cell: dict[int, list[int]] = {}
    for index, target in enumerate(pub.targets):
        for cell, _ in target.terms:
            target_by_cell.setdefault(cell, []).append(index)

    def block_of(group: list[int]) -> set[int]:
        """The withheld counts of `current` tied to the group's (as the audit's blocks tie
        them: by a relation, a nested pair or a protected difference), the group's own too."""
        found = set(group)
        queue = list(group)
        while queue:
            cell = queue.pop()
            tied = [c for i in by_cell.get(cell, ()) for c in pub.equalities[i].cells]
            tied += [c for i in nested_by_cell.get(cell, ()) for c in pub.nested[i]]
            tied += [c for i in target_by_cell.get(cell, ()) for c, _ in pub.targets[i].terms]
            for other in tied:
                if current[other] and other not in found:
                    found.add(other)
                    queue.append(other)
        return found

    def passes(trial: NDArray[np.bool_], group: list[int]) -> bool:
        """Whether `trial` (`current` with `group` shown) passes: only the block the group's
        counts were in can have changed (the rest passed as they are), so only its relations
        are given to the audit."""
        changed = block_of(group)
        rows = sorted({i for cell in changed for i in by_cell.get(cell, ())})
        pairs = sorted({i for cell in changed for i in nested_by_cell.get(cell, ())})
        local = replace(
            pub,
            hidden=trial,
            equalities=[pub.equalities[i] for i in rows],
            nested=[pub.nested[i] for i in pairs],
        )
        only = frozenset(c for c in changed if trial[c])
        found = audit(
            local,
            insiders=True,
            first_only=True,
            cache=cache,
            only=only,
            any_one=True,
            prefer=blamed,
            seeds=seeds,
        )
        if found:  # asked first next time: a try that fails mostly fails to the same FLS
            attacker = found[0].attacker
            blamed[:] = [attacker, *(a for a in blamed if a != attacker)]
        return not found

    def closed(trial: NDArray[np.bool_], group: list[int]) -> list[int] | None:
        """The group with the withheld counts that showing it gives away by subtraction
        (`trial` changed to show them too: a count worked out is a count published, for the
        audit to judge; England's total beside the whole's gives Wales's); None when it gives
        away a count the primary rule withholds."""
        found = list(group)
        queue = [i for cell in group for i in by_cell.get(cell, ())]
        while queue:
            rel = pub.equalities[queue.pop()]
            if not revealed(rel, trial, values):
                continue
            given = [c for c in rel.cells if trial[c]]  # every one of them is worked out
            if any(keep[c] for c in given):
                return None
            trial[given] = False
            found += given
            queue += [i for cell in given for i in by_cell.get(cell, ())]
        return found

    def show(group: list[int]) -> None:
        """Show the group's counts if the audit then passes; else each half, and so on."""
        nonlocal current, tries
        if not group or tries >= MAX_TRIES:
            return
        trial = current.copy()
        trial[group] = False
        tries += 1
        every = closed(trial, group)
        if every is not None and passes(trial, every):
            current = trial
            return
        if len(group) > 1:
            half = len(group) // 2
            show(group[:half])
            show(group[half:])

    cell_levels = np.repeat(levels(cells.frame), 3)
    for level in sorted({int(cell_levels[c]) for c in order}, reverse=True):
        show([c for c in order if cell_levels[c] == level])
    return current
