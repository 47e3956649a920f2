"""Which hidden counts a pass of the protection levels must check again.

A pass of `flsdb.disclosure.levels.protect_levels` gives each hidden count its protection
levels, then checks, for each, the relations it is in: whether their other hidden counts can
absorb its moves (how far each can move reads whether the counts nested in or around it are
hidden; a difference cell's, its two counts' and theirs), and which shown count to hide if not.
What the check of a count finds is then fixed by its levels and by which of those cells are
hidden. A pass that left a count's levels as they were and hid nothing that its check reads
finds for it exactly what the pass before found, all of which is hidden since: the count need
not be checked again. `Reach.near` says which counts a change of hidden flags reaches.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


class Reach:
    """The ties between the counts (and difference cells) of one set of tables: `relations`
    by their cells, `by_cell` the relations of each cell, `nests` the counts nested in or
    around each count, `pairs` the two counts of each difference cell (numbered from
    `start`)."""

    def __init__(
        self,
        relations: Sequence[tuple[int, ...]],
        by_cell: dict[int, list[int]],
        nests: Sequence[dict[int, list[int]]],
        pairs: Sequence[tuple[int, int]],
        start: int,
    ) -> None:
        self.relations = relations
        self.by_cell = by_cell
        self.nests = nests
        # Per count, the difference cells whose room to move reads whether it is hidden.
        self.differences: dict[int, list[int]] = {}
        for number, (inner, outer) in enumerate(pairs):
            for count in (inner, outer):
                for read in (count, *self._nested(count)):
                    self.differences.setdefault(read, []).append(start + number)

    def _nested(self, cell: int) -> list[int]:
        return [o for nests in self.nests for o in nests.get(cell, ())]

    def reached(self, changed: NDArray[np.int64]) -> tuple[set[int], set[int]]:
        """The cells whose check reads a cell in `changed` (those whose hidden flag changed):
        the cells whose room reads it, and every cell in a relation with one of those; and
        those relations (the ones with a cell whose room or hidden flag reads a cell in
        `changed`). A relation not among them reads, in a count's check, the same flags and
        rooms as at the pass before."""
        moved: set[int] = set()
        for cell in changed.tolist():
            moved.add(cell)
            moved.update(self._nested(cell))
            moved.update(self.differences.get(cell, ()))
        found = set(moved)
        touched: set[int] = set()
        for cell in moved:
            touched.update(self.by_cell.get(cell, ()))
        for index in touched:
            found.update(self.relations[index])
        return found, touched
