"""How far each count can move, for the protection levels (`flsdb.disclosure.levels`).

A hidden count of 1 to 4 (`<5`) can move between 1 and 4; a withheld `c` count from 0 upwards;
a count nested in a shown one no higher than it, and one with a shown count nested in it no
lower. A difference cell (the patients in an outer count and not in an inner one:
`flsdb.disclosure.differences`) grows as its outer count grows or its inner one shrinks. `free`
is a shown count's room before the shown counts nested with it: what it could absorb if they
were hidden with it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from flsdb.disclosure.differences import Differences

LARGE = 1e9  # a `c` count has no upper bound


class Ranges:
    """How far each count can move up and down if hidden, given what is shown around it. Each
    pass reads one pattern of hidden flags: the rooms are worked out once per pattern."""

    def __init__(
        self,
        values: NDArray[np.float64],
        nested: Sequence[tuple[int, int]],
        below: int,
        diffs: Differences | None = None,
    ) -> None:
        self.top = float(below - 1)
        self.diffs = diffs
        self.small_cells = (values >= 1) & (values <= self.top)
        # Plain lists: the checks below index one count at a time.
        self.values: list[float] = values.tolist()
        self.small: list[bool] = self.small_cells.tolist()
        self.outers: dict[int, list[int]] = {}
        self.inners: dict[int, list[int]] = {}
        for inner, outer in nested:
            self.outers.setdefault(inner, []).append(outer)
            self.inners.setdefault(outer, []).append(inner)
        self.pairs: dict[int, tuple[int, int]] = {}
        if diffs is not None:
            self.pairs = {diffs.start + n: pair for n, pair in enumerate(diffs.pairs)}
        self._flags: Sequence[bool] | None = None
        self._up: dict[int, float] = {}
        self._down: dict[int, float] = {}

    def _for(self, hidden: Sequence[bool]) -> None:
        if hidden is not self._flags:  # another pattern: the rooms worked out again
            self._flags, self._up, self._down = hidden, {}, {}

    def up(self, cell: int, hidden: Sequence[bool]) -> float:
        if hidden is not self._flags:
            self._for(hidden)
        found = self._up.get(cell)
        if found is not None:
            return found
        pair = self.pairs.get(cell)
        if pair is not None:  # a difference grows as its outer count grows or its inner shrinks
            room = self.up(pair[1], hidden) + self.down(pair[0], hidden)
            self._up[cell] = room
            return room
        value = self.values[cell]
        room = self.top - value if self.small[cell] else LARGE
        for outer in self.outers.get(cell, ()):
            if not hidden[outer]:
                room = min(room, self.values[outer] - value)
        room = max(room, 0.0)
        self._up[cell] = room
        return room

    def down(self, cell: int, hidden: Sequence[bool]) -> float:
        if hidden is not self._flags:
            self._for(hidden)
        found = self._down.get(cell)
        if found is not None:
            return found
        pair = self.pairs.get(cell)
        if pair is not None:
            room = self.down(pair[1], hidden) + self.up(pair[0], hidden)
            room = max(min(room, self.values[cell]), 0.0)
            self._down[cell] = room
            return room
        value = self.values[cell]
        room = value - 1.0 if self.small[cell] else value
        for inner in self.inners.get(cell, ()):
            if not hidden[inner]:
                room = min(room, value - self.values[inner])
        room = max(room, 0.0)
        self._down[cell] = room
        return room

    def move(self, cell: int, direction: int, hidden: Sequence[bool]) -> float:
        return self.up(cell, hidden) if direction > 0 else self.down(cell, hidden)

    def free(self, cell: int, direction: int) -> bool:
        """Whether a count (not a difference cell) could move in `direction` at all, were the
        shown counts nested with it (`bound`) hidden with it."""
        if cell in self.pairs:
            return False
        if direction > 0:
            return not self.small[cell] or self.values[cell] < self.top
        return self.values[cell] > (1.0 if self.small[cell] else 0.0)

    def bound(
        self, cell: int, direction: int, hidden: Sequence[bool], pinned: bool = False
    ) -> list[int]:
        """The shown counts that a count nested in (or around) them cannot pass; `pinned`:
        only those it equals (that leave it no room at all)."""
        value = self.values[cell]
        if direction > 0:
            found = [o for o in self.outers.get(cell, ()) if not hidden[o]]
            return [o for o in found if self.values[o] <= value] if pinned else found
        found = [i for i in self.inners.get(cell, ()) if not hidden[i]]
        return [i for i in found if self.values[i] >= value] if pinned else found
