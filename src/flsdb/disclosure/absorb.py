"""One relation's check in a pass of the protection levels (`flsdb.disclosure.levels`): whether
its other hidden counts absorb a hidden count's move, and which shown count to hide if not.

In a relation (a sum, two equal counts), a move of a hidden count must be absorbed by the other
hidden counts of the relation, within their own ranges (`flsdb.disclosure.ranges`), and, where
FLSs knowing their own counts are attackers too, without any one FLS's counts. Where they cannot,
the cheapest shown count of the relation that adds what is missing is hidden too, by its cost
(`flsdb.disclosure.costs`: an FLS's count before a region's before a nation's). A count that could
absorb the move but for a shown count nested with it that it equals (a region's kpi03 records,
equal to its kpi04 denominator when no patient is still due) is still a candidate of its level,
after those free to move: the count that pins it is hidden with it, which costs a reader less
than a count of the level above.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flsdb.disclosure.costs import STEP
from flsdb.disclosure.ranges import Ranges

PINNED = STEP / 4  # a count that needs a count nested with it hidden too: after free ones


@dataclass(frozen=True)
class Sum:
    """A relation as the checks read it: its cells, and the set of those on the left."""

    cells: tuple[int, ...]
    left: frozenset[int]


def absorbed(
    others: Sequence[tuple[int, bool]],
    cell: int,
    same_side: bool,
    direction: int,
    need: float,
    insiders: bool,
    spared: frozenset[str | None],
    hidden: Sequence[bool],
    ranges: Ranges,
    owners: Sequence[str | None],
    whole: bool = False,
) -> tuple[bool, str | None]:
    """Whether the other hidden counts of a relation (`others`: its hidden counts in order,
    each with whether it is on the left; `same_side`: whether `cell` is) can absorb `cell`
    moving `need` in `direction`; and the FLS whose own counts, known to it, would leave too
    little (never one in `spared` or the count's own FLS). `whole`: every room is a whole
    number (every count is), so any sum of them is exact in any order."""
    rooms: list[tuple[float, str | None]] = []
    # A count on the same side moves against `cell`, one on the other side with it.
    against, along = (ranges.down, ranges.up) if direction > 0 else (ranges.up, ranges.down)
    for other, left in others:
        if other == cell:
            continue
        room = (against if left == same_side else along)(other, hidden)
        rooms.append((room, owners[other]))
    total = sum(room for room, _ in rooms)
    if total + 1e-9 < need:
        return False, None
    if insiders:
        attackers = {o for _, o in rooms if o is not None}
        own: dict[str | None, float] = {}
        if whole:  # whole rooms: what the others absorb is the total less the attacker's own
            for room, o in rooms:
                own[o] = own.get(o, 0.0) + room
        for attacker in attackers:
            if attacker in spared or attacker == owners[cell]:
                continue
            if whole:
                rest = total - own[attacker]
            else:
                rest = sum(room for room, o in rooms if o != attacker)
            if rest + 1e-9 < need:
                return False, attacker
    return True, None


def helper(
    rel: Sum,
    cell: int,
    direction: int,
    attacker: str | None,
    hidden: Sequence[bool],
    counted: Sequence[bool],
    ranges: Ranges,
    owners: Sequence[str | None],
    costs: Sequence[float],
) -> list[int]:
    """The cheapest shown count of the relation that would absorb some of the move, then the
    shown counts nested with it that pin it (to hide with it); empty when there is none."""
    same_side = cell in rel.left
    best: list[int] = []
    best_cost = 0.0
    for other in rel.cells:
        if other == cell or hidden[other] or not counted[other]:
            continue
        if attacker is not None and owners[other] == attacker:
            continue
        side = (other in rel.left) == same_side
        towards = -direction if side else direction
        cost = costs[other]
        if best and cost >= best_cost:
            continue  # (a pinned count costs more still)
        if ranges.move(other, towards, hidden) > 0:
            best, best_cost = [other], cost
            continue
        if not ranges.free(other, towards):
            continue
        pinning = ranges.bound(other, towards, hidden, pinned=True)
        if pinning and (not best or cost + PINNED < best_cost):
            best, best_cost = [other, *pinning], cost + PINNED
    return best
