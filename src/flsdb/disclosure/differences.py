"""Nested counts as cells of their own, for the protection levels.

Where one count's patients are all among another's (hr02's numerator within kpi07's, hr04's
denominator within kpi03's numerator, a numerator within its denominator), their difference is
a count too: the patients in the outer count and not in the inner one. When both counts are
withheld, that difference is still tied to others: a region's kpi07 numerator minus its hr02
numerator is the sum of its FLSs' differences, since both counts add up over the same FLSs.
If the region's two counts are shown and one FLS's two are withheld beside FLSs whose
differences are known (or known to be 0, or known to an FLS as its own), the withheld
difference follows, although neither withheld count does.

So each nested pair becomes a difference cell (its value outer - inner; withheld when either
count is), and every two relations that hold over the outer and the inner counts alike (the
same sum over the same units) give a relation between the difference cells. The protection
levels (`flsdb.disclosure.levels`) then treat a withheld difference of 1 to 4 as a protected
count and check its moves in those relations as in any other; hiding a difference cell hides
one of its two counts (the cheaper).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flsdb.disclosure.engine import Relation, relation


@dataclass(frozen=True)
class Differences:
    """Difference cells numbered from `start` (one per nested pair, in `pairs` order) and the
    relations between them."""

    start: int
    pairs: list[tuple[int, int]] = field(default_factory=list)  # (inner, outer)
    relations: list[Relation] = field(default_factory=list)

    def pair(self, cell: int) -> tuple[int, int] | None:
        """The (inner, outer) counts of a difference cell; None for a count."""
        return self.pairs[cell - self.start] if cell >= self.start else None


def differences(
    size: int, nested: Sequence[tuple[int, int]], relations: Sequence[Relation]
) -> Differences:
    """The difference cells of the nested pairs (numbered from `size`, the number of counts)
    and their relations: for every relation over outer counts, the relation over their inner
    counts in the same order, where there is one."""
    pairs: list[tuple[int, int]] = []
    index: dict[tuple[int, int], int] = {}
    inners: dict[int, list[int]] = {}
    for inner, outer in nested:
        if (inner, outer) in index or inner == outer:
            continue
        index[(inner, outer)] = size + len(pairs)
        pairs.append((inner, outer))
        inners.setdefault(outer, []).append(inner)
    by_cell: dict[int, list[int]] = {}
    for number, rel in enumerate(relations):
        if rel.cells:
            by_cell.setdefault(rel.cells[0], []).append(number)
    found: list[Relation] = []
    seen: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
    for rel in relations:
        if not rel.cells:
            continue
        for first_inner in inners.get(rel.cells[0], ()):
            for number in by_cell.get(first_inner, ()):
                other = relations[number]
                if len(other.left) != len(rel.left) or len(other.right) != len(rel.right):
                    continue
                left = [index.get((i, o), -1) for i, o in zip(other.left, rel.left, strict=True)]
                right = [index.get((i, o), -1) for i, o in zip(other.right, rel.right, strict=True)]
                if -1 in left or -1 in right:
                    continue
                key = (tuple(left), tuple(right))
                if key not in seen:
                    seen.add(key)
                    found.append(relation(left, right))
    return Differences(size, pairs, found)
