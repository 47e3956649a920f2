"""The audit's blocks (hidden cells tied by relations, each with its constraints) and who attacks
each: one warm programme per block (`flsdb.disclosure.lp`) serving the outsider and every FLS
that owns a hidden cell of the block or knows its own part of one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from flsdb.disclosure.lp import Programme
from flsdb.disclosure.publication import OUTSIDER, Publication


class _Components:
    """Union-find over the hidden cells tied by relations."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))  # a list: read cell by cell, faster than an array

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

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
    hidden: list[bool] = np.asarray(pub.hidden, dtype=bool).tolist()  # read cell by cell
    values: list[float] = np.asarray(pub.values, dtype=float).tolist()
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
    for cell in np.flatnonzero(pub.hidden).tolist():
        block = blocks.setdefault(components.find(cell), _Block([], [], [], []))
        local[cell] = len(block.cells)
        block.cells.append(cell)

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
                rhs -= coef * values[cell]
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
    # Only the cells `parts` covers (`Publication.parted`) have parts: asked of each FLS.
    parted = [(c, float(pub.lower[c])) for c in block.cells if c in pub.parted]
    pairs = [
        (k, inner, outer)
        for k, (inner, outer) in enumerate(block.ub_pairs)
        if inner in pub.parted  # else its part of the inner count unknown to the model: not 0
    ]
    out: dict[str, tuple[dict[int, float], dict[int, float]]] = {}
    if not parted and not pairs:
        return out
    for attacker, parts in pub.parts.items():
        # A part no more than the marker's own lower bound (1 of a `<5`) tells nothing.
        known = {c: float(parts[c]) for c, low in parted if parts.get(c, 0.0) > low}
        rows = {}
        for k, inner, outer in pairs:
            own = parts.get(outer, 0.0) - parts.get(inner, 0.0)
            if own > 0:
                rows[k] = float(own)
        if known or rows:
            out[attacker] = (known, rows)
    return out


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
