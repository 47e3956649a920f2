"""Complementary (secondary) suppression over additive relations.

Published counts are tied together: a region's count is the sum of its FLSs', a nation's the sum
of its regions', the age bands add up to the national figure, a denominator plus the patients not
yet due is the count another KPI shows. Each relation is two sides with equal sums. A hidden count
can be worked out when it is the only hidden cell of a relation, or when every hidden cell is on
one side and the counts shown make their sum 0 (counts are never negative, so each is 0).

The rule here: while a relation lets a hidden count be worked out, hide one more of its cells:
the first in `preference` order among those shown with a count above zero (a zero adds nothing),
on the other side when the hidden cells must sum to zero; then repeat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Relation:
    """sum(left) == sum(right), by cell index."""

    left: tuple[int, ...]
    right: tuple[int, ...]

    @property
    def cells(self) -> tuple[int, ...]:
        return self.left + self.right


def relation(left: Sequence[int], right: Sequence[int]) -> Relation:
    return Relation(tuple(int(i) for i in left), tuple(int(i) for i in right))


def revealed(rel: Relation, hidden: NDArray[np.bool_], values: NDArray[np.float64]) -> bool:
    """Whether the cells shown let someone work out a hidden cell of the relation."""
    left = np.asarray(rel.left, dtype=np.int64)
    right = np.asarray(rel.right, dtype=np.int64)
    hidden_left, hidden_right = hidden[left], hidden[right]
    count = int(hidden_left.sum() + hidden_right.sum())
    if count == 0:
        return False
    if count == 1:
        return True
    one_side = not hidden_left.any() or not hidden_right.any()
    if not one_side:
        return False
    shown = values[right][~hidden_right].sum() - values[left][~hidden_left].sum()
    if not hidden_left.any():
        return bool(np.isclose(shown, 0.0))  # the hidden cells on the left sum to 0
    return bool(np.isclose(-shown, 0.0))


def _candidates(rel: Relation, hidden: NDArray[np.bool_], values: NDArray[np.float64]) -> list[int]:
    """Cells to hide next: any shown non-zero cell, unless the hidden ones sum to zero; then a
    non-zero cell of their side (the hidden ones then share its count: an FLS beside hidden
    zeros, not the region's total) or a cell of the other side (non-zero first)."""
    left_hidden = hidden[list(rel.left)].any()
    right_hidden = hidden[list(rel.right)].any()
    hidden_sum = float(values[[c for c in rel.cells if hidden[c]]].sum())
    if left_hidden != right_hidden and np.isclose(hidden_sum, 0.0):
        same, other = (rel.left, rel.right) if left_hidden else (rel.right, rel.left)
        beside = [c for c in same if not hidden[c] and values[c] > 0]
        shown = [c for c in other if not hidden[c]]
        positive = [c for c in shown if values[c] > 0]
        return beside + (positive or shown)
    return [c for c in rel.cells if not hidden[c] and values[c] > 0]


def complete(
    values: NDArray[np.float64],
    hidden: NDArray[np.bool_],
    relations: Sequence[Relation],
    preference: NDArray[np.float64],
    start: Sequence[int] | None = None,
    by_cell: dict[int, list[int]] | None = None,
) -> NDArray[np.bool_]:
    """Hidden flags after complementary suppression (the input is not changed). `start`:
    the only relations that may let a count be worked out (the others are known not to), with
    `by_cell` (relations by cell) when the caller has it."""
    hidden = hidden.copy()
    if by_cell is None:
        by_cell = {}
        for index, rel in enumerate(relations):
            for cell in rel.cells:
                by_cell.setdefault(cell, []).append(index)
    indices = range(len(relations)) if start is None else start
    queue = [i for i in indices if revealed(relations[i], hidden, values)]
    while queue:
        index = queue.pop()
        rel = relations[index]
        if not revealed(rel, hidden, values):
            continue
        candidates = _candidates(rel, hidden, values)
        if not candidates:
            continue  # nothing shown that could protect it (every count here is 0 or hidden)
        chosen = min(candidates, key=lambda c: preference[c])
        hidden[chosen] = True
        queue.append(index)
        queue.extend(by_cell.get(chosen, []))
    return hidden


def exposed(
    hidden: NDArray[np.bool_], relations: Sequence[Relation], values: NDArray[np.float64]
) -> list[int]:
    """The relations that still let a hidden count be worked out (for tests and checks)."""
    return [i for i, rel in enumerate(relations) if revealed(rel, hidden, values)]
