"""The subtraction rule (`engine.complete`) for the protection levels' passes, over one shape of
tables: the same hidden flags, chosen in the same order, read from plain lists.

`engine.complete` asks of each relation, with numpy on a few cells at a time, whether the cells
shown let a hidden count be worked out; a pass of the protection levels (`flsdb.disclosure.
levels`) asks it of a few thousand relations, and then again after every count it hides. Here
the relations' cells are laid out once per shape (`Subtraction`), the first question is asked
of every relation at once (sums by relation over the flat cells), and the rest read Python
lists. Counts of patients are whole numbers: then every sum is exact in any order and "sums to
0" is the same test as `engine.revealed`'s; the caller uses `engine.complete` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from flsdb.disclosure.engine import Relation

ZERO = 1e-8  # `np.isclose(x, 0.0)`: |x| <= atol (rtol times 0 adds nothing)


class Subtraction:
    """The relations of one shape of tables, laid out for `complete`."""

    def __init__(self, relations: Sequence[Relation]) -> None:
        self.relations = relations
        self.lefts = [rel.left for rel in relations]
        self.rights = [rel.right for rel in relations]
        rel_of, cell_of, sign = [], [], []
        for index, rel in enumerate(relations):
            rel_of += [index] * (len(rel.left) + len(rel.right))
            cell_of += [*rel.left, *rel.right]
            sign += [-1.0] * len(rel.left) + [1.0] * len(rel.right)
        self.rel_of = np.asarray(rel_of, dtype=np.int64)
        self.cell_of = np.asarray(cell_of, dtype=np.int64)
        self.sign = np.asarray(sign, dtype=np.float64)
        self.on_left = self.sign < 0
        self.size = len(relations)

    def revealed(self, hidden: NDArray[np.bool_], values: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Per relation, `engine.revealed` (whole values), all at once."""
        flags = hidden[self.cell_of]
        size = self.size
        left = np.bincount(self.rel_of, weights=flags & self.on_left, minlength=size)
        right = np.bincount(self.rel_of, weights=flags & ~self.on_left, minlength=size)
        signed = np.where(flags, 0.0, values[self.cell_of] * self.sign)
        shown = np.bincount(self.rel_of, weights=signed, minlength=size)
        count = left + right
        one_side = (left == 0) | (right == 0)
        return (count == 1) | ((count > 1) & one_side & (np.abs(shown) <= ZERO))

    def _revealed(self, index: int, hidden: list[bool], values: list[float]) -> bool:
        left = [c for c in self.lefts[index] if hidden[c]]
        right = [c for c in self.rights[index] if hidden[c]]
        count = len(left) + len(right)
        if count == 0:
            return False
        if count == 1:
            return True
        if left and right:
            return False
        shown = sum(values[c] for c in self.rights[index] if not hidden[c]) - sum(
            values[c] for c in self.lefts[index] if not hidden[c]
        )
        return abs(shown) <= ZERO

    def _candidates(self, index: int, hidden: list[bool], values: list[float]) -> list[int]:
        """`engine._candidates`, on lists."""
        lefts, rights = self.lefts[index], self.rights[index]
        left_hidden = any(hidden[c] for c in lefts)
        right_hidden = any(hidden[c] for c in rights)
        if left_hidden != right_hidden:
            hidden_sum = sum(values[c] for c in (*lefts, *rights) if hidden[c])
            if abs(hidden_sum) <= ZERO:
                same, other = (lefts, rights) if left_hidden else (rights, lefts)
                beside = [c for c in same if not hidden[c] and values[c] > 0]
                shown = [c for c in other if not hidden[c]]
                positive = [c for c in shown if values[c] > 0]
                return beside + (positive or shown)
        return [c for c in (*lefts, *rights) if not hidden[c] and values[c] > 0]

    def complete(
        self,
        values: NDArray[np.float64],
        hidden: NDArray[np.bool_],
        preference: Sequence[float],
        start: Sequence[int] | None,
        by_cell: dict[int, list[int]],
    ) -> NDArray[np.bool_]:
        """`engine.complete(values, hidden, relations, preference, start, by_cell)` for whole
        `values` (the input is not changed): `by_cell` gives each cell's relations (the ties'
        `real_by_cell`)."""
        found = self.revealed(hidden, values)
        if start is None:
            queue: list[int] = np.flatnonzero(found).tolist()
        else:
            queue = [i for i in start if found[i]]
        if not queue:
            return hidden.copy()
        flags: list[bool] = hidden.tolist()
        numbers: list[float] = values.tolist()
        chosen_cells = []
        while queue:
            index = queue.pop()
            if not self._revealed(index, flags, numbers):
                continue
            candidates = self._candidates(index, flags, numbers)
            if not candidates:
                continue
            chosen = min(candidates, key=preference.__getitem__)
            flags[chosen] = True
            chosen_cells.append(chosen)
            queue.append(index)
            queue.extend(by_cell.get(chosen, []))
        out = hidden.copy()
        out[chosen_cells] = True
        return out
