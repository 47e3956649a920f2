"""The intruder's audit asked again and again of one publication that passes it, each time with a
few more of its withheld counts shown (`relax`'s tries): the same verdict as auditing the
publication afresh, for a fraction of the solves.

A count shown is, to the linear programme, a variable held at its true value. So each block of
the passing publication (`attacks._blocks`) keeps one programme (`attacks.Attacks`) for all
its tries, the counts shown so far (and in the try) held at their values by their bounds: its
constraints never change, and HiGHS starts each question from its last basis. A block that
showing splits in two is still solved as one programme: held counts are constants, so each
part's lowest and highest values are those of the part alone, and an FLS with no counts left in
a part sees it as the outsider does (its needs are never stricter than the outsider's).

Only the blocks holding a count the try shows are audited again (the others have not changed
since they passed), and every solution an attacker's audit found is kept for that attacker's
next one: if it still meets the new bounds (the counts shown since then at their values in it),
it proves again what it proved, and needs no solve. The attackers that narrowed a count in an
earlier try are asked first, so a try that fails usually fails at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from flsdb.disclosure.attacks import Attacks, _blocks
from flsdb.disclosure.audit import _audit_block
from flsdb.disclosure.publication import OUTSIDER, Publication


class Reaudit:
    """`passes(cells)`: whether `pub` (which passes the audit, outsider and every FLS) with
    `cells` shown too still passes; `show(cells)` makes them shown for every later try."""

    def __init__(self, pub: Publication, hold: Iterable[int] = ()) -> None:
        self.pub = pub
        self.hold = np.asarray(sorted(set(hold)), dtype=np.int64)
        self.proven: dict[tuple[int, str], list[NDArray[np.float64]]] = {}
        self.blocks, _ = _blocks(pub)
        self.block_of = {cell: b for b, block in enumerate(self.blocks) for cell in block.cells}
        self.lower = np.asarray(pub.lower, dtype=float).copy()
        self.upper = np.asarray(pub.upper, dtype=float).copy()
        self.attacks: dict[int, Attacks] = {}
        self.pools: dict[tuple[int, str], list[NDArray[np.float64]]] = {}
        self.blamed: dict[str, int] = {}  # attacker -> the try it last narrowed a count in
        self.tries = 0

    def _held(self, cells: Iterable[int]) -> Publication:
        """The publication with `cells` held at their values (besides those shown already)."""
        lower, upper = self.lower.copy(), self.upper.copy()
        index = np.asarray(list(cells), dtype=np.int64)
        lower[index] = upper[index] = self.pub.values[index]
        return replace(self.pub, lower=lower, upper=upper)

    def show(self, cells: Iterable[int]) -> None:
        index = np.asarray(list(cells), dtype=np.int64)
        self.lower[index] = self.upper[index] = self.pub.values[index]

    def _order(self, attacks: Attacks) -> list[str]:
        """The block's attackers, those that narrowed a count last first."""
        names = list(attacks.owned)
        rank = {name: i for i, name in enumerate(names)}
        return sorted(names, key=lambda n: (-self.blamed.get(n, -1), rank[n]))

    def passes(self, cells: Iterable[int]) -> bool:
        """Whether the publication with `cells` shown (held at their values) passes."""
        cells = list(cells)
        self.tries += 1
        changed = sorted({self.block_of[c] for c in cells if c in self.block_of})
        if not changed:
            return True  # no protected quantity is tied to them
        trial = self._held(cells)
        for number in changed:
            block = self.blocks[number]
            attacks = self.attacks.get(number)
            if attacks is None:
                # Built on the markers' bounds: what each FLS knows of a count it has a part
                # of holds whichever counts a try shows.
                attacks = self.attacks[number] = Attacks(self.pub, block, centred=True)
            if (number, OUTSIDER) not in self.proven:
                self._gather(number, attacks)
            self._bound(attacks, trial)
            for attacker in self._order(attacks):
                solver = attacks.use(attacker)
                pool = self.pools.setdefault((number, attacker), [])
                proven = self.proven[(number, attacker)]
                if _audit_block(trial, block, attacker, solver, True, pool, proven):
                    self.blamed[attacker] = self.tries
                    return False
        return True

    @staticmethod
    def _bound(attacks: Attacks, pub: Publication) -> None:
        """The block's programme with `pub`'s bounds (the last attacker's own released)."""
        attacks.use(OUTSIDER)
        attacks.pub = pub
        columns = np.asarray(list(attacks.local), dtype=np.int64)
        attacks.programme.set_bounds(
            list(range(len(columns))), pub.lower[columns], pub.upper[columns]
        )

    def _gather(self, number: int, attacks: Attacks) -> None:
        """Solutions for each attacker of a block with every count that a try may show held
        at its value (`hold`): each proves what it proves in every try."""
        held = self._held(self.hold)
        self._bound(attacks, held)
        for attacker in attacks.owned:
            found: list[NDArray[np.float64]] = []
            solver = attacks.use(attacker)
            _audit_block(held, self.blocks[number], attacker, solver, True, found, pushes_only=True)
            self.proven[(number, attacker)] = found
