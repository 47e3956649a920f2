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
still unproven and solves one quantity at a time only for those left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix

from flsdb.disclosure.engine import Relation
from flsdb.disclosure.lp import Programme

OUTSIDER = "outsider"
_EPS = 1e-6


class Limits(Protocol):
    """What the markers alone allow (`flsdb.disclosure.structural.Structural`)."""

    def bound(self, target: int, attacker: str, sign: float) -> float: ...


@dataclass(frozen=True)
class Target:
    """A protected quantity: sum(coefficient * cell) (+ nothing else), with its true value."""

    terms: tuple[tuple[int, float], ...]
    value: float
    owner: str | None = None  # the FLS whose count it is (it is not attacked by itself)


@dataclass(frozen=True)
class Breach:
    target: Target
    attacker: str  # OUTSIDER, or the code of the FLS that knows its own counts
    low: float
    high: float


@dataclass(frozen=True)
class Publication:
    """Everything the audit needs: cells (true values), which are hidden and their marker
    bounds, the relations, who owns each cell, and the quantities to protect."""

    values: NDArray[np.float64]
    hidden: NDArray[np.bool_]
    lower: NDArray[np.float64]  # marker bounds of hidden cells
    upper: NDArray[np.float64]  # (np.inf: no upper bound)
    equalities: Sequence[Relation]
    nested: Sequence[tuple[int, int]]  # (inner, outer): inner <= outer
    owners: Sequence[str | None]
    targets: Sequence[Target]
    need_low: float = 1.0
    need_high: float = 4.0
    # Narrower needs known at once (an insider's own part of an aggregate), by (target,
    # attacker); those the markers themselves impose (`Limits`) are asked for only where
    # the audit finds a quantity narrowed.
    needs: dict[tuple[int, str], tuple[float, float]] = field(default_factory=dict)
    structural: Limits | None = field(default=None, compare=False, repr=False)
    # Per FLS, its own part of counts of several FLSs that no relation ties to its own cells
    # (the breakdown groups): cell -> the FLS's own count in it.
    parts: dict[str, dict[int, float]] = field(default_factory=dict)
    parted: frozenset[int] = frozenset()  # the cells `parts` covers (no part named: none)

    def need(self, target: int, attacker: str) -> tuple[float, float]:
        default = self.needs.get((target, OUTSIDER), (self.need_low, self.need_high))
        return self.needs.get((target, attacker), default)

    def exact_need(self, target: int, attacker: str, side: str) -> float:
        """The need's `side` ("low" or "high") with what the markers alone allow
        (`Structural`) taken into account."""
        low, high = self.need(target, attacker)
        if self.structural is None:
            return low if side == "low" else high
        if side == "high":
            return min(high, self.structural.bound(target, attacker, -1.0))
        ceiling = self.structural.bound(target, attacker, -1.0)
        return max(self.structural.bound(target, attacker, 1.0), min(low, ceiling))

    def shared_need(self, target: int, attacker: str, side: str) -> float:
        """A need at least as strict as `exact_need`'s, from what the markers allow an
        outsider (computed once for every attacker): an FLS's own counts only narrow those
        limits, so a value that meets this meets the exact need too."""
        low, high = self.need(target, attacker)
        if self.structural is None:
            return low if side == "low" else high
        if side == "high":
            return min(high, self.structural.bound(target, OUTSIDER, -1.0))
        return self.structural.bound(target, OUTSIDER, 1.0)


class _Components:
    """Union-find over the hidden cells tied by relations."""

    def __init__(self, size: int) -> None:
        self.parent = np.arange(size)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return int(root)

    def join(self, cells: Sequence[int]) -> None:
        if len(cells) < 2:
            return
        first = self.find(cells[0])
        for cell in cells[1:]:
            self.parent[self.find(cell)] = first


@dataclass
class _Block:
    """One connected set of hidden cells with its constraints (in local variable numbers)."""

    cells: list[int]
    eq_rows: list[tuple[list[int], list[float], float]]
    ub_rows: list[tuple[list[int], list[float], float]]
    targets: list[int]
    ub_pairs: list[tuple[int, int]] = field(default_factory=list)  # each ub row's nested pair


def _blocks(pub: Publication) -> tuple[list[_Block], list[int]]:
    """The blocks of hidden cells, and the targets with no hidden cell (shown outright)."""
    hidden = pub.hidden
    components = _Components(len(hidden))
    for rel in pub.equalities:
        components.join([c for c in rel.cells if hidden[c]])
    for inner, outer in pub.nested:
        if hidden[inner] and hidden[outer]:
            components.join([inner, outer])
    for target in pub.targets:
        components.join([c for c, _ in target.terms if hidden[c]])
    blocks: dict[int, _Block] = {}
    local: dict[int, int] = {}
    for cell in np.flatnonzero(hidden):
        block = blocks.setdefault(components.find(int(cell)), _Block([], [], [], []))
        local[int(cell)] = len(block.cells)
        block.cells.append(int(cell))

    def row(
        terms: Sequence[tuple[int, float]], constant: float
    ) -> tuple[int, list[int], list[float], float]:
        """Hidden terms (local), and the right-hand side once the shown ones are moved."""
        columns, coefs = [], []
        rhs = -constant
        root = -1
        for cell, coef in terms:
            if hidden[cell]:
                root = components.find(cell)
                columns.append(local[cell])
                coefs.append(coef)
            else:
                rhs -= coef * pub.values[cell]
        return root, columns, coefs, rhs

    for rel in pub.equalities:
        terms = [(c, 1.0) for c in rel.left] + [(c, -1.0) for c in rel.right]
        root, columns, coefs, rhs = row(terms, 0.0)
        if root >= 0:
            blocks[root].eq_rows.append((columns, coefs, rhs))
    for inner, outer in pub.nested:
        root, columns, coefs, rhs = row([(inner, 1.0), (outer, -1.0)], 0.0)
        if root >= 0:
            blocks[root].ub_rows.append((columns, coefs, rhs))
            blocks[root].ub_pairs.append((inner, outer))
    shown_outright = []
    for index, target in enumerate(pub.targets):
        cells = [c for c, _ in target.terms if hidden[c]]
        if cells:
            blocks[components.find(cells[0])].targets.append(index)
        else:
            shown_outright.append(index)
    return [b for b in blocks.values() if b.targets], shown_outright


def _programme(pub: Publication, block: _Block) -> Programme:
    """The block's programme for an outsider: each hidden cell within its marker."""
    cells = np.asarray(block.cells, dtype=np.int64)
    return Programme(len(cells), block.eq_rows, block.ub_rows, pub.lower[cells], pub.upper[cells])


class Attacks:
    """A block's programme and who attacks it: an outsider, and each FLS owning a hidden cell
    of the block (with its own cells fixed at their true values) or knowing its own part of
    one (`Publication.parts`: the cell at least that part, and nested cells apart by at least
    its parts' difference). One programme serves them all: switching attacker changes only
    the bounds of the two FLSs' cells and rows."""

    def __init__(self, pub: Publication, block: _Block) -> None:
        self.pub = pub
        self.programme = _programme(pub, block)
        self.local = {cell: i for i, cell in enumerate(block.cells)}
        self.owned = _attackers(pub, block)
        self.partial = _partial(pub, block, self.local)
        for attacker in self.partial:
            self.owned.setdefault(attacker, [])
        self.base_rows = np.asarray([rhs for _, _, rhs in block.ub_rows], dtype=float)
        self.first_ub = len(block.eq_rows)
        self.current = OUTSIDER

    def who(self, attacker: str) -> str:
        """Whom `attacker` attacks this block as: itself, or (an FLS with no cell here) as an
        outsider."""
        return attacker if attacker in self.owned else OUTSIDER

    def use(self, attacker: str) -> Programme:
        """The programme as `attacker` sees it."""
        who = self.who(attacker)
        if who != self.current:
            self._fix(self.current, release=True)
            self._fix(who, release=False)
            self.current = who
        return self.programme

    def _fix(self, attacker: str, release: bool) -> None:
        fixed = self.owned.get(attacker, [])
        if fixed:
            cells = np.asarray(fixed, dtype=np.int64)
            columns = [self.local[cell] for cell in fixed]
            if release:
                self.programme.set_bounds(columns, self.pub.lower[cells], self.pub.upper[cells])
            else:
                values = self.pub.values[cells]
                self.programme.set_bounds(columns, values, values)
        if attacker not in self.partial:
            return
        cells_known, rows = self.partial[attacker]
        if cells_known:
            cells = np.asarray(list(cells_known), dtype=np.int64)
            columns = [self.local[cell] for cell in cells_known]
            lower = self.pub.lower[cells]
            if not release:
                lower = np.maximum(lower, np.asarray(list(cells_known.values())))
            self.programme.set_bounds(columns, lower, self.pub.upper[cells])
        if rows:
            index = np.asarray(list(rows), dtype=np.int64)
            upper = self.base_rows[index]
            if not release:
                upper = upper - np.asarray(list(rows.values()))
            self.programme.set_row_upper((index + self.first_ub).tolist(), upper)


def _partial(
    pub: Publication, block: _Block, local: dict[int, int]
) -> dict[str, tuple[dict[int, float], dict[int, float]]]:
    """Per FLS knowing its own part of a hidden cell of the block: those cells with their
    parts (lower bounds), and the block's nested rows (by number) with the FLS's own
    difference (the rows' right-hand sides lowered by it)."""
    out: dict[str, tuple[dict[int, float], dict[int, float]]] = {}
    for attacker, parts in pub.parts.items():
        known = {c: float(parts[c]) for c in block.cells if parts.get(c, 0.0) > 0}
        rows = {}
        for k, (inner, outer) in enumerate(block.ub_pairs):
            own = parts.get(outer, 0.0) - parts.get(inner, 0.0)
            if own > 0:
                rows[k] = float(own)
        if known or rows:
            out[attacker] = (known, rows)
    return out


def _audit_block(
    pub: Publication, block: _Block, attacker: str, solver: Programme, first_only: bool
) -> list[Breach]:
    """The block's breaches to one attacker (`solver`: the block's programme with that
    attacker's own cells fixed)."""
    targets = [t for t in block.targets if attacker == OUTSIDER or pub.targets[t].owner != attacker]
    if not targets:
        return []
    local = {cell: i for i, cell in enumerate(block.cells)}
    rows, columns, coefs = [], [], []
    constants = np.zeros(len(targets))
    for k, t in enumerate(targets):
        for cell, coef in pub.targets[t].terms:
            if cell in local:
                rows.append(k)
                columns.append(local[cell])
                coefs.append(coef)
            else:
                constants[k] += coef * pub.values[cell]
    # Every target's expression at once: value = matrix @ x + constant.
    matrix = coo_matrix((coefs, (rows, columns)), shape=(len(targets), solver.width)).tocsr()
    low = np.full(len(targets), np.inf)
    high = np.full(len(targets), -np.inf)
    needs = np.array([pub.need(t, attacker) for t in targets], dtype=float).reshape(-1, 2)

    def witness(x: NDArray[np.float64]) -> None:
        values = matrix @ x + constants
        np.minimum(low, values, out=low)
        np.maximum(high, values, out=high)

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
                status, x = solver.solve(sign * matrix[k].toarray().ravel())
                if status == "unbounded" and side == "high":
                    high[k] = np.inf
                elif x is not None:
                    witness(x)
        found_low = low[k] if np.isfinite(low[k]) else np.nan
        found_high = high[k] if high[k] > -np.inf else np.nan
        return Breach(pub.targets[targets[k]], attacker, float(found_low), float(found_high))

    def push(side: str, sign: float) -> None:
        """Solutions that push every open target at once prove most of them (witnesses)."""
        open_targets = pending(side)
        while len(open_targets) > 1:
            combined = np.asarray(matrix[open_targets].sum(axis=0)).ravel()
            _status, x = solver.solve(sign * combined)
            if x is None:
                break
            witness(x)
            still = pending(side)
            if len(still) >= len(open_targets):
                break
            open_targets = still

    for side, sign in (("low", 1.0), ("high", -1.0)):
        push(side, sign)
        if pub.structural is not None and len(pending(side)):
            # Short of the marker's range: ask only what the markers alone allow (an LP bound
            # can never pass it), and push again towards those needs.
            column = 0 if side == "low" else 1
            if attacker != OUTSIDER:  # the outsider's limits first: shared by every FLS
                for k in pending(side):
                    needs[k, column] = pub.shared_need(targets[k], attacker, side)
                push(side, sign)
            for k in pending(side):
                needs[k, column] = pub.exact_need(targets[k], attacker, side)
            push(side, sign)
        while len(open_targets := pending(side)):
            k = int(open_targets[0])
            status, x = solver.solve(sign * matrix[k].toarray().ravel())
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


def audit(
    pub: Publication,
    insiders: bool = True,
    first_only: bool = False,
    cache: Cache | None = None,
    only: frozenset[int] | None = None,
) -> list[Breach]:
    """Every protected quantity an outsider, or an FLS from its own counts, can narrow below
    its marker's range (an empty list: the publication passes).

    `first_only`: at most one breach per block and attacker (enough to choose the next cell to
    hide). `cache`: results by block (a block's hidden cells fix its whole programme), so that
    a search that hides a few cells at a time solves only the blocks that changed. `only`: the
    blocks with any of these cells alone (the rest known to pass: counts published beside
    tables that passed, `flsdb.disclosure.linked`)."""
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
    for block in blocks:
        key = (tuple(block.cells), insiders, first_only)
        if cache is not None and key in cache:
            breaches += cache[key]
            continue
        found = []
        attacks = Attacks(pub, block)
        for attacker in attacks.owned:
            if attacker != OUTSIDER and not insiders:
                continue
            found += _audit_block(pub, block, attacker, attacks.use(attacker), first_only)
        if cache is not None:
            cache[key] = found
        breaches += found
    return breaches


def _attackers(pub: Publication, block: _Block) -> dict[str, list[int]]:
    """The outsider (nothing fixed), then each FLS owning a hidden cell of the block, with
    those cells (fixed at their true values when it attacks)."""
    owned: dict[str, list[int]] = {OUTSIDER: []}
    owners = pub.owners
    for cell in block.cells:
        owner = owners[cell]
        if owner is not None:
            owned.setdefault(owner, []).append(cell)
    return owned
