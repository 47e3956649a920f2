"""Secondary suppression by protection levels: fast enough for every dashboard refresh.

The intruder's audit (`flsdb.disclosure.audit`) asks, for every hidden count of 1 to 4, that the
published tables leave it free to be any of 1 to 4: it must be able to move up to the
threshold less one and down to 1 while every relation still holds. Following tau-ARGUS and
sdcTable, each hidden count gets protection levels: how far it must be able to move up and down
(a count of 3 shown `<5`: up 1, down 2; the inner of two nested counts that differ by 1 to 4:
as far as makes that difference any of 1 to 4; a complementary `c` count, which passes those
moves on: the largest move of a protected count it is tied to, down no further than it can).

In every relation (a sum, two equal counts), a move of a hidden count must be absorbed by the
other hidden counts of the relation, within their own ranges: a `<5` count between 1 and 4, a
`c` count 0 or more, a count nested in a shown one no higher than it (and one with a shown count
nested in it no lower). Where they cannot absorb the level (or could not if an FLS among them
knew its own counts: an insider; the level must then be absorbed without any one FLS's counts),
the cheapest shown count of the relation that adds what is missing is hidden too (an FLS before
a region before a nation, small before large, a zero last), the subtraction rule
(`engine.complete`) is applied again, and the check repeats until every relation passes or
nothing shown is left to hide. Every pass hides at least one more count, so it ends.

The check is local to each relation; the audit itself (linear programming over all of them at
once) verifies the result before anything is published (see `protect.secure`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from flsdb.disclosure.engine import Relation, complete

_LARGE = 1e12  # a `c` count has no upper bound
MAX_PASSES = 200


class _Ranges:
    """How far each count can move up and down if hidden, given what is shown around it."""

    def __init__(
        self,
        values: NDArray[np.float64],
        nested: Sequence[tuple[int, int]],
        below: int,
    ) -> None:
        self.values = values
        self.top = float(below - 1)
        self.small = (values >= 1) & (values <= self.top)
        self.outers: dict[int, list[int]] = {}
        self.inners: dict[int, list[int]] = {}
        for inner, outer in nested:
            self.outers.setdefault(inner, []).append(outer)
            self.inners.setdefault(outer, []).append(inner)

    def up(self, cell: int, hidden: NDArray[np.bool_]) -> float:
        value = self.values[cell]
        room = self.top - value if self.small[cell] else _LARGE
        for outer in self.outers.get(cell, ()):
            if not hidden[outer]:
                room = min(room, self.values[outer] - value)
        return max(room, 0.0)

    def down(self, cell: int, hidden: NDArray[np.bool_]) -> float:
        value = self.values[cell]
        room = value - 1.0 if self.small[cell] else value
        for inner in self.inners.get(cell, ()):
            if not hidden[inner]:
                room = min(room, value - self.values[inner])
        return max(room, 0.0)

    def move(self, cell: int, direction: int, hidden: NDArray[np.bool_]) -> float:
        return self.up(cell, hidden) if direction > 0 else self.down(cell, hidden)


def _levels(
    ranges: _Ranges,
    hidden: NDArray[np.bool_],
    counted: NDArray[np.bool_],
    relations: Sequence[Relation],
    by_cell: dict[int, list[int]],
    nested: Sequence[tuple[int, int]],
    complement: bool,
    partners: dict[int, int],
) -> dict[int, tuple[float, float, bool]]:
    """Per hidden count: (up, down, against insiders too); `partners` gets the shown count
    of each nested pair whose difference is protected. A protected count's levels are its
    marker's range; a complementary count passes on the largest move of a protected count it
    shares a relation with, or is nested with (through other complementary counts too)."""
    values, top = ranges.values, ranges.top
    levels: dict[int, tuple[float, float, bool]] = {}
    for cell in np.flatnonzero(hidden & counted & ranges.small):
        cell = int(cell)
        levels[cell] = (top - values[cell], values[cell] - 1.0, True)
    if complement:
        for inner, outer in nested:
            difference = values[outer] - values[inner]
            if not 1 <= difference <= top or hidden[inner] == hidden[outer]:
                continue
            # The difference grows as the inner count moves down (or the outer one up).
            grow, shrink = top - difference, difference - 1.0
            cell = inner if hidden[inner] else outer
            partners[cell] = outer if hidden[inner] else inner
            up, down, _ = levels.get(cell, (0.0, 0.0, True))
            if hidden[inner]:
                levels[inner] = (max(up, shrink), max(down, grow), True)
            else:
                levels[outer] = (max(up, grow), max(down, shrink), True)
    queue = list(levels)
    while queue:
        cell = queue.pop()
        move = max(levels[cell][0], levels[cell][1])
        guarded = levels[cell][2]
        tied = [o for index in by_cell.get(cell, ()) for o in relations[index].cells]
        tied += ranges.outers.get(cell, []) + ranges.inners.get(cell, [])
        for other in tied:
            if other == cell or not hidden[other] or not counted[other]:
                continue
            up, down, insiders = levels.get(other, (0.0, 0.0, False))
            wanted = (max(up, move), max(down, min(move, ranges.down(other, hidden))))
            grows = wanted[0] > up + 1e-9 or wanted[1] > down + 1e-9
            if grows or (guarded and not insiders):
                levels[other] = (*wanted, insiders or guarded)
                queue.append(other)
    return levels


def _absorbed(
    rel: Relation,
    cell: int,
    direction: int,
    need: float,
    insiders: bool,
    hidden: NDArray[np.bool_],
    ranges: _Ranges,
    owners: Sequence[str | None],
) -> tuple[bool, str | None]:
    """Whether the other hidden counts of the relation can absorb `cell` moving `need` in
    `direction`; and the FLS whose own counts, known to it, would leave too little."""
    same_side = cell in rel.left
    total = 0.0
    by_owner: dict[str, float] = {}
    for other in rel.cells:
        if other == cell or not hidden[other]:
            continue
        side = (other in rel.left) == same_side
        room = ranges.move(other, -direction if side else direction, hidden)
        total += room
        owner = owners[other]
        if owner is not None and owner != owners[cell]:
            by_owner[owner] = by_owner.get(owner, 0.0) + room
    if total + 1e-9 < need:
        return False, None
    if insiders and by_owner:
        worst = max(by_owner, key=lambda o: by_owner[o])
        if total - by_owner[worst] + 1e-9 < need:
            return False, worst
    return True, None


def _helper(
    rel: Relation,
    cell: int,
    direction: int,
    attacker: str | None,
    hidden: NDArray[np.bool_],
    counted: NDArray[np.bool_],
    ranges: _Ranges,
    owners: Sequence[str | None],
    preference: NDArray[np.float64],
) -> int | None:
    """The cheapest shown count of the relation that would absorb some of the move."""
    same_side = cell in rel.left
    best: int | None = None
    best_key: tuple[bool, float] | None = None
    for other in rel.cells:
        if other == cell or hidden[other] or not counted[other]:
            continue
        if attacker is not None and owners[other] == attacker:
            continue
        side = (other in rel.left) == same_side
        if ranges.move(other, -direction if side else direction, hidden) <= 0:
            continue
        key = (bool(ranges.values[other] == 0), float(preference[other]))
        if best_key is None or key < best_key:
            best, best_key = other, key
    return best


def _own_bound(cell: int, direction: int, hidden: NDArray[np.bool_], ranges: _Ranges) -> list[int]:
    """The shown counts that a count nested in (or around) them cannot pass."""
    if direction > 0:
        return [o for o in ranges.outers.get(cell, ()) if not hidden[o]]
    return [i for i in ranges.inners.get(cell, ()) if not hidden[i]]


def protect_levels(
    values: NDArray[np.float64],
    counted: NDArray[np.bool_],
    hidden: NDArray[np.bool_],
    relations: Sequence[Relation],
    nested: Sequence[tuple[int, int]],
    owners: Sequence[str | None],
    preference: NDArray[np.float64],
    below: int,
    complement: bool = True,
) -> NDArray[np.bool_]:
    """Hidden flags after secondary suppression by protection levels (the input unchanged)."""
    ranges = _Ranges(values, nested, below)
    by_cell: dict[int, list[int]] = {}
    for index, rel in enumerate(relations):
        for cell in rel.cells:
            by_cell.setdefault(cell, []).append(index)
    hidden = complete(values, hidden, relations, preference)
    for _ in range(MAX_PASSES):
        chosen: set[int] = set()
        partners: dict[int, int] = {}
        levels = _levels(ranges, hidden, counted, relations, by_cell, nested, complement, partners)
        for cell, (up, down, insiders) in levels.items():
            for direction, need in ((1, up), (-1, down)):
                if need <= 0:
                    continue
                if ranges.move(cell, direction, hidden) + 1e-9 < need:
                    bound = _own_bound(cell, direction, hidden, ranges)
                    if bound:
                        chosen.add(min(bound, key=lambda c: preference[c]))
                for index in by_cell.get(cell, ()):
                    rel = relations[index]
                    ok, attacker = _absorbed(
                        rel, cell, direction, need, insiders, hidden, ranges, owners
                    )
                    if ok:
                        continue
                    helper = _helper(
                        rel, cell, direction, attacker, hidden, counted, ranges, owners, preference
                    )
                    if helper is not None:
                        chosen.add(helper)
                    elif cell in partners:
                        # Nothing else can absorb it: the difference goes with its shown side.
                        chosen.add(partners[cell])
        if not chosen:
            break
        hidden = hidden.copy()
        hidden[sorted(chosen)] = True
        hidden = complete(values, hidden, relations, preference)
    return hidden
