"""The audit an intruder would run: linear programming over every published count.

A publication is a set of cells (counts), some shown and some hidden behind a marker, tied by
relations anyone can know: sums (a region is its FLSs, England and Wales are the whole, the
groups of a breakdown are the whole, kpi02 is spine plus non-spine), equal counts (the same
patients under two KPIs) and nested counts (one KPI's patients inside another's: a numerator
within its denominator, hr02's within kpi07's, hr04's denominator within kpi03's numerator).

For every protected quantity (a hidden count of 1 to 4, or a difference of two nested counts of
1 to 4) the audit computes the lowest and highest value it can take in the linear relaxation
of everything published, as tau-ARGUS and sdcTable audit a suppression pattern: the hidden
cells are variables, bounded by their marker (`<5`: 1 to 4; `c`: 0 or more), the shown cells
are constants. Protection holds when the interval still covers the marker's whole range
(lowest at most 1, highest at least 4: the upper and lower protection levels of a count the
marker says is 1 to 4). An insider, an FLS that knows its own counts exactly, is modelled by
fixing its hidden cells at their true values; its own quantities are not attacked. Of a count
that several FLSs share without a published relation saying how (a breakdown group: the
patients aged 70 to 79 of every FLS), the insider knows its own part exactly: the count is at
least that part, and its nested counts differ by at least its own parts' difference (the other
FLSs' patients inside a count are among them too), as `parts` gives them.

Most of the work is skipped with witnesses: any feasible solution in which a quantity reaches 1
(or 4) proves that bound, so the audit first minimises and maximises the sum of all quantities
still unproven and solves one quantity at a time only for those left. A caller that audits
publications one after another that differ in a few withheld counts (a search that withholds
more while the audit narrows a count, a clean-up that shows counts again) hands each attacker
its own solutions of the last audit (`Seeds`): a solution stays one when more is withheld, and
often when a few counts are shown, so they are witnesses before anything is solved. Each is
checked against the new programme first (never taken on trust), and a witness only proves a
bound reached: what is narrowed is always found by solving, so the verdict is the same.

A quantity no witness proves is then asked only what the markers alone allow (`Structural`:
an exact need no stricter than the first, and a shared one that meets it). Where an earlier
audit of the same tables already worked those limits out (`Structural.asked`), they are asked
from the start, and the pushes no longer chase ends no pattern could reach: only a need laxer
than the first is taken so, and any need between the first and the exact one gives the same
verdict (a quantity is narrowed exactly when its own solved end misses its exact need).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix

from flsdb.disclosure.attacks import Attacks, _Block, _blocks
from flsdb.disclosure.lp import Programme
from flsdb.disclosure.publication import OUTSIDER, Breach, Limits, Publication, Target

__all__ = [
    "OUTSIDER",
    "Attacks",
    "Breach",
    "Cache",
    "Limits",
    "Publication",
    "Seeds",
    "Target",
    "_blocks",
    "audit",
]

_EPS = 1e-6
POOLED = 24  # solutions kept per block for the next attackers (`_audit_block`'s pool)
SEEDED = 32  # solutions kept per attacker for the next audit (`Seeds`)

# Per attacker, solutions of an earlier audit: the cells they are of, and their values.
Seeds = dict[str, list[tuple[NDArray[np.int64], NDArray[np.float64]]]]


class _Expressions:
    """Every protected quantity of a block as an expression of its programme's columns
    (value = matrix @ x + constant), built once for all the block's attackers."""

    def __init__(self, pub: Publication, block: _Block, width: int) -> None:
        local = {cell: i for i, cell in enumerate(block.cells)}
        rows, columns, coefs = [], [], []
        self.constants = np.zeros(len(block.targets))
        for k, t in enumerate(block.targets):
            for cell, coef in pub.targets[t].terms:
                if cell in local:
                    rows.append(k)
                    columns.append(local[cell])
                    coefs.append(coef)
                else:
                    self.constants[k] += coef * pub.values[cell]
        shape = (len(block.targets), width)
        self.matrix = coo_matrix((coefs, (rows, columns)), shape=shape).tocsr()
        self.targets = block.targets
        self.owners = [pub.targets[t].owner for t in block.targets]

    def of(self, attacker: str) -> tuple[list[int], Any, NDArray[np.float64]]:
        """The targets `attacker` attacks (not its own), their expressions and constants."""
        if attacker == OUTSIDER or attacker not in self.owners:
            return self.targets, self.matrix, self.constants
        keep = [k for k, owner in enumerate(self.owners) if owner != attacker]
        return [self.targets[k] for k in keep], self.matrix[keep], self.constants[keep]


def _audit_block(
    pub: Publication,
    block: _Block,
    attacker: str,
    solver: Programme,
    first_only: bool,
    pool: list[NDArray[np.float64]] | None = None,
    expressions: _Expressions | None = None,
    seeds: list[NDArray[np.float64]] | None = None,
) -> list[Breach]:
    """The block's breaches to one attacker (`solver`: the block's programme with that
    attacker's own cells fixed). `pool`: solutions found for earlier attackers of the block;
    those that this attacker's bounds allow are witnesses for it too (and its own solutions
    are added). `expressions`: the block's, when several attackers share them. `seeds`: this
    attacker's solutions of an earlier audit, as values of the block's cells (those the
    programme allows are witnesses); its solutions found here are added to it."""
    expressions = expressions or _Expressions(pub, block, solver.width)
    targets, matrix, constants = expressions.of(attacker)
    if not targets:
        return []
    # `by_column` gives a weighted sum of targets (an objective) in one product.
    by_column = matrix.T.tocsr()
    low = np.full(len(targets), np.inf)
    high = np.full(len(targets), -np.inf)
    needs = pub.needs_for(targets, attacker)

    def objective(chosen: NDArray[np.intp] | int) -> NDArray[np.float64]:
        """The sum of the chosen targets' expressions (one target: its own)."""
        weights = np.zeros(len(targets))
        weights[chosen] = 1.0
        return np.asarray(by_column @ weights)

    def witness(x: NDArray[np.float64], keep: bool = True) -> None:
        values = matrix @ x + constants
        np.minimum(low, values, out=low)
        np.maximum(high, values, out=high)
        if keep and pool is not None:
            pool.append(x)
            del pool[:-POOLED]
        if keep and seeds is not None:
            seeds.append(x)

    if pool:
        for earlier in solver.feasible_among(pool):
            witness(earlier, keep=False)
    if seeds:
        seeds[:] = solver.feasible_among(seeds)[-SEEDED:]
        for earlier in seeds:
            witness(earlier, keep=False)

    # Targets solved on their own: their bound on that side is exact.
    settled = {
        "low": np.zeros(len(targets), dtype=bool),
        "high": np.zeros(len(targets), dtype=bool),
    }

    def short(side: str) -> NDArray[np.bool_]:
        if side == "low":
            return low > needs[:, 0] + _EPS
        return high < needs[:, 1] - _EPS

    def pending(side: str) -> NDArray[np.intp]:
        return np.flatnonzero(short(side) & ~settled[side])

    def breach(k: int) -> Breach:
        for side, sign in (("low", 1.0), ("high", -1.0)):
            if not settled[side][k]:  # a witness's value: the exact end for the sentence
                settled[side][k] = True
                status, x = solver.solve(sign * objective(k))
                if status == "unbounded" and side == "high":
                    high[k] = np.inf
                elif x is not None:
                    witness(x)
        found_low = low[k] if np.isfinite(low[k]) else np.nan
        found_high = high[k] if high[k] > -np.inf else np.nan
        return Breach(pub.targets[targets[k]], attacker, float(found_low), float(found_high))

    # Per side, the targets whose need is already the one the markers alone allow.
    exact = {side: np.zeros(len(targets), dtype=bool) for side in ("low", "high")}

    def ask(side: str, stage: str) -> bool:
        """New needs of the side's targets still short: at `stage` "known", what the markers
        alone allow where an earlier audit worked it out (`Publication.known_needs`), "shared"
        or "exact" (`shared_need`, `exact_need`); all but the exact need taken only where
        laxer than the need asked (see the module's note). Whether any changed."""
        column = 0 if side == "low" else 1
        laxer = 1.0 if side == "low" else -1.0  # a need's direction of less to prove
        short = [int(k) for k in pending(side) if not exact[side][k]]
        if stage == "known":
            found = pub.known_needs([targets[k] for k in short], attacker, side)
            asked = [(short[number], value, final) for number, value, final in found]
        elif stage == "shared":
            asked = [(k, pub.shared_need(targets[k], attacker, side), False) for k in short]
        else:
            asked = [(k, pub.exact_need(targets[k], attacker, side), True) for k in short]
        changed = False
        for k, value, final in asked:
            if stage != "exact" and (value - needs[k, column]) * laxer < 0:
                continue
            exact[side][k] = final
            if value != needs[k, column]:
                needs[k, column] = value
                changed = True
        return changed

    def push(side: str, sign: float) -> None:
        """Solutions that push every open target at once prove most of them (witnesses)."""
        open_targets = pending(side)
        while len(open_targets) > 1:
            _status, x = solver.solve(sign * objective(open_targets))
            if x is None:
                break
            witness(x)
            still = pending(side)
            if len(still) >= len(open_targets):
                break
            open_targets = still

    for side, sign in (("low", 1.0), ("high", -1.0)):
        if pub.structural is not None:
            ask(side, "known")
        push(side, sign)
        if pub.structural is not None and len(pending(side)):
            # Short of the marker's range: ask only what the markers alone allow (an LP bound
            # can never pass it), and push again towards those needs. The outsider's limits
            # first: shared by every FLS.
            if attacker != OUTSIDER and ask(side, "shared"):
                push(side, sign)
            if ask(side, "exact"):
                push(side, sign)
        while len(open_targets := pending(side)):
            k = int(open_targets[0])
            status, x = solver.solve(sign * objective(k))
            if status == "unbounded" and side == "high":
                high[k] = np.inf
            elif x is not None:
                witness(x)
            settled[side][k] = True
            if first_only and short(side)[k]:
                return [breach(k)]
    failed = np.flatnonzero(short("low") | short("high"))
    return [breach(int(k)) for k in failed]


Cache = dict[tuple[tuple[int, ...], bool, bool], list[Breach]]


def _seeded(
    pub: Publication,
    cells: NDArray[np.int64],
    inside: NDArray[np.bool_],
    kept: list[tuple[NDArray[np.int64], NDArray[np.float64]]],
) -> list[NDArray[np.float64]]:
    """An attacker's kept solutions of the block's `cells` (`inside`: `_inside`), as values of
    them: a cell a solution does not give (hidden since) at its true value."""
    out = []
    for their_cells, values in kept:
        if not inside[their_cells].any():
            continue  # of another block
        full = pub.values.copy()
        full[their_cells] = values
        out.append(full[cells])
    return out


def _inside(pub: Publication, block: _Block) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """The block's cells, and whether each cell of the publication is one of them."""
    cells = np.asarray(block.cells, dtype=np.int64)
    inside = np.zeros(len(pub.values), dtype=bool)
    inside[cells] = True
    return cells, inside


def _ordered(attackers: Iterable[str], prefer: Sequence[str]) -> list[str]:
    """`attackers` with those in `prefer` first (in its order), the rest as they come."""
    every = list(attackers)
    if not prefer:
        return every
    present = set(every)
    first = [a for a in dict.fromkeys(prefer) if a in present]
    chosen = set(first)
    return first + [a for a in every if a not in chosen]


def audit(
    pub: Publication,
    insiders: bool = True,
    first_only: bool = False,
    cache: Cache | None = None,
    only: frozenset[int] | None = None,
    any_one: bool = False,
    prefer: Sequence[str] = (),
    seeds: Seeds | None = None,
) -> list[Breach]:
    """Every protected quantity an outsider, or an FLS from its own counts, can narrow below
    its marker's range (an empty list: the publication passes).

    `first_only`: at most one breach per block and attacker (enough to choose the next cell to
    hide). `cache`: results by block (a block's hidden cells fix its whole programme), so that
    a search that hides a few cells at a time solves only the blocks that changed. `only`: the
    blocks with any of these cells alone (the rest known to pass: counts published beside
    tables that passed, `flsdb.disclosure.linked`). `any_one`: stop at the first breach
    (whether the publication passes is all the caller asks; nothing of it is cached).
    `prefer`: attackers asked first (those that narrowed a count before: with `any_one`, a
    publication that fails then fails at once; the verdict is the same in any order).
    `seeds`: each attacker's solutions of the caller's last audit (see the module's note), and
    of this one once it returns."""
    blocks, shown_outright = _blocks(pub)
    if only is not None:
        blocks = [b for b in blocks if not only.isdisjoint(b.cells)]
        shown_outright = [
            t for t in shown_outright if any(c in only for c, _ in pub.targets[t].terms)
        ]
    breaches = [
        Breach(pub.targets[t], OUTSIDER, pub.targets[t].value, pub.targets[t].value)
        for t in shown_outright
    ]
    if any_one and breaches:
        return breaches[:1]
    for block in blocks:
        key = (tuple(block.cells), insiders, first_only)
        if cache is not None and key in cache:
            breaches += cache[key]
            continue
        found = []
        attacks = Attacks(pub, block)
        expressions = _Expressions(pub, block, attacks.programme.width)
        pool: list[NDArray[np.float64]] = []
        inside = None if seeds is None else _inside(pub, block)  # once for every attacker
        for attacker in _ordered(attacks.owned, prefer):
            if attacker != OUTSIDER and not insiders:
                continue
            solver = attacks.use(attacker)
            kept = [] if seeds is None else seeds.get(attacker, [])
            own = None if inside is None else _seeded(pub, *inside, kept)
            found += _audit_block(pub, block, attacker, solver, first_only, pool, expressions, own)
            if seeds is not None and inside is not None and own is not None:
                cells, mask = inside
                others = [e for e in kept if not mask[e[0]].any()]
                seeds[attacker] = others + [(cells, x) for x in own[-SEEDED:]]
            if any_one and found:
                return found[:1]  # the block's outcome is incomplete: not cached
        if cache is not None:
            cache[key] = found
        breaches += found
    return breaches
