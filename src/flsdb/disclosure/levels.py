"""Secondary suppression by protection levels: fast enough for every dashboard refresh.

The intruder's audit (`flsdb.disclosure.audit`) asks, for every hidden count of 1 to 4, that the
published tables leave it free to be any of 1 to 4: it must be able to move up to the
threshold less one and down to 1 while every relation still holds. Following tau-ARGUS and
sdcTable, each hidden count gets protection levels: how far it must be able to move up and down
(a count of 3 shown `<5`: up 1, down 2; the inner of two nested counts that differ by 1 to 4:
as far as makes that difference any of 1 to 4; a complementary `c` count, which passes those
moves on: the largest move of a protected count it is tied to, down no further than it can).

In every relation (a sum, two equal counts), a move of a hidden count must be absorbed by the
other hidden counts of the relation, within their own ranges (`flsdb.disclosure.ranges`: a `<5`
count between 1 and 4, a `c` count 0 or more, a count nested in a shown one no higher than it,
and one with a shown count nested in it no lower). Where they cannot absorb the level (or could
not if an FLS among them knew its own counts: an insider; the level must then be absorbed
without any one FLS's counts), the cheapest shown count of the relation that adds what is
missing is hidden too (`flsdb.disclosure.absorb`, by `flsdb.disclosure.costs`: an FLS's count
before a region's before a nation's, small before large, a zero last), the subtraction rule
(`engine.complete`) is applied again, and the check repeats until every relation passes or
nothing shown is left to hide. Every pass hides at least one more count, so it ends.

The check is local to each relation; the audit itself (linear programming over all of them at
once) verifies the result before anything is published (see `protect.secure`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from flsdb.disclosure.absorb import Sum, absorbed, helper
from flsdb.disclosure.costs import ZERO
from flsdb.disclosure.engine import Relation, complete
from flsdb.disclosure.ranges import Ranges
from flsdb.disclosure.ties import ties_of

# Per hidden count: how far it must be able to move up and down, whether FLSs knowing their
# own counts are attackers too, the FLSs that are not (the owners of the protected counts it
# serves: an FLS does not attack its own count), and the relations it was given the move by (a
# complementary count passes a move on to its other relations; the one it came from is checked
# for the count that moves first).
Levels = dict[int, tuple[float, float, bool, frozenset[str | None], frozenset[int]]]
MAX_PASSES = 200


def _levels(
    ranges: Ranges,
    hidden: Sequence[bool],
    counted: NDArray[np.bool_],
    relations: Sequence[Sum],
    by_cell: dict[int, list[int]],
    nested: Sequence[tuple[int, int]],
    complement: bool,
    partners: dict[int, int],
    owners: Sequence[str | None],
    members: _Members,
) -> Levels:
    """Per hidden count: (up, down, against insiders too); `partners` gets the shown count
    of each nested pair whose difference is protected. A protected count's levels are its
    marker's range; a complementary count passes on the largest move of a protected count it
    shares a relation with, or is nested with (through other complementary counts too)."""
    values, top = ranges.values, ranges.top
    levels: Levels = {}
    mask = np.asarray(hidden) & np.asarray(counted) & ranges.small_cells
    for cell in np.flatnonzero(mask).tolist():
        levels[cell] = (
            top - values[cell],
            values[cell] - 1.0,
            True,
            frozenset({owners[cell]}),
            frozenset(),
        )
    if complement:
        for inner, outer in nested:
            difference = values[outer] - values[inner]
            if not 1 <= difference <= top or hidden[inner] == hidden[outer]:
                continue
            # The difference grows as the inner count moves down (or the outer one up).
            grow, shrink = top - difference, difference - 1.0
            cell = inner if hidden[inner] else outer
            partners[cell] = outer if hidden[inner] else inner
            spared = frozenset({owners[cell]})
            up, down, _, spared, _ = levels.get(cell, (0.0, 0.0, True, spared, frozenset()))
            if hidden[inner]:
                levels[inner] = (max(up, shrink), max(down, grow), True, spared, frozenset())
            else:
                levels[outer] = (max(up, grow), max(down, shrink), True, spared, frozenset())
    protected = set(levels)
    queue = list(levels)
    flags, counts = hidden, counted.tolist()
    outers, inners = ranges.outers, ranges.inners
    unseen: frozenset[int] = frozenset()
    # The levels each count last passed on: a count queued again whose levels did not change
    # since would pass on nothing (every move above only grows what it reaches), so it is
    # not read again. (A count queued twice is read at its later entry, which comes first.)
    passed_on: dict[int, object] = {}
    while queue:
        cell = queue.pop()
        state = levels[cell]
        if passed_on.get(cell) is state:
            continue
        passed_on[cell] = state
        cell_up, cell_down, guarded, cell_spared, cell_via = state
        skipped = cell_via if len(cell_via) == 1 else ()  # `_skipped`
        # (count, whether it moves against this one): the other side of a sum moves with it,
        # the same side against it; nested counts move with it. Hidden counts only.
        tied = []
        for index in by_cell.get(cell, ()):
            if index in skipped:
                continue
            mine = cell in relations[index].left
            for o, left in members.counted(index):
                if o != cell:
                    tied.append((o, left == mine, index))
        for o in outers.get(cell, ()):
            if o != cell and flags[o] and counts[o]:
                tied.append((o, False, -1))
        for o in inners.get(cell, ()):
            if o != cell and flags[o] and counts[o]:
                tied.append((o, False, -1))
        for other, against, index in tied:
            if against:
                move_up, move_down = cell_down, cell_up
            else:
                move_up, move_down = cell_up, cell_down
            found = levels.get(other)
            if found is None:
                up, down, insiders, spared, via = 0.0, 0.0, False, cell_spared, unseen
            else:
                up, down, insiders, spared, via = found
            grows = move_up > up + 1e-9 or not spared <= cell_spared
            if move_down > down + 1e-9:
                further = min(move_down, ranges.down(other, flags))
                if further > down + 1e-9:
                    down, grows = further, True
            passed = via
            if index >= 0 and index not in via and other not in protected:
                passed = via | {index}
            if grows or (guarded and not insiders) or passed is not via:
                levels[other] = (
                    up if up >= move_up else move_up,
                    down,
                    insiders or guarded,
                    spared if spared <= cell_spared else spared & cell_spared,
                    passed,
                )
                queue.append(other)
    return levels


class _Members:
    """Each relation's hidden counts in order, with whether each is on the left: read from one
    pass's hidden flags when the relation is first asked for, then kept for the pass (a
    relation of an FLS's region or nation is mostly shown counts, read once, not once a
    check)."""

    def __init__(
        self,
        relations: Sequence[Sum],
        flags: Sequence[bool],
        counts: Sequence[bool],
        last: _Members | None = None,
        stale: set[int] | frozenset[int] = frozenset(),
    ) -> None:
        self.relations = relations
        self.flags = flags
        self.counts = counts
        self.found: dict[int, list[tuple[int, bool]]] = {}
        self.kept: dict[int, list[tuple[int, bool]]] = {}
        if last is not None:
            # The last pass's lists of the relations none of whose flags changed since (`stale`:
            # those with a cell whose flag did): read from these flags, they are the same.
            self.found = {i: f for i, f in last.found.items() if i not in stale}
            self.kept = {i: f for i, f in last.kept.items() if i not in stale}

    def __call__(self, index: int) -> list[tuple[int, bool]]:
        found = self.found.get(index)
        if found is None:
            rel, flags = self.relations[index], self.flags
            left = rel.left
            found = self.found[index] = [(o, o in left) for o in rel.cells if flags[o]]
        return found

    def counted(self, index: int) -> list[tuple[int, bool]]:
        """The relation's hidden counts that are counted (`__call__`'s, with `counts` true)."""
        found = self.kept.get(index)
        if found is None:
            counts = self.counts
            found = self.kept[index] = [(o, left) for o, left in self(index) if counts[o]]
        return found


def _skipped(via: frozenset[int]) -> frozenset[int]:
    """The relation a complementary count need not be checked in: the one relation it was
    given its move by (given moves by several, it is checked in all)."""
    return via if len(via) == 1 else frozenset()


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
    *,
    recheck: bool = False,
) -> NDArray[np.bool_]:
    """Hidden flags after secondary suppression by protection levels (the input unchanged).
    With `complement`, each nested pair is a difference cell too (`flsdb.disclosure.
    differences`): a withheld difference of 1 to 4 is protected like a withheld count.
    After the first pass, a pass checks only the counts the last one's changes reach
    (`flsdb.disclosure.reach`: of a count whose levels did not change, only the relations
    reached), each relation's hidden counts are kept from the pass before where none of its
    flags changed, and the subtraction rule reads lists (`flsdb.disclosure.subtraction`);
    `recheck`: every count checked in every relation at every pass, nothing kept from one
    pass to the next, and the subtraction rule of `engine.complete` (the same flags, slower:
    the tests compare the two)."""
    size = len(values)
    ties = ties_of(size, nested, relations, complement)  # kept per shape of the tables
    diffs = ties.diffs
    inner = np.array([i for i, _ in diffs.pairs], dtype=np.int64)
    outer = np.array([o for _, o in diffs.pairs], dtype=np.int64)
    every_value = np.concatenate([values, values[outer] - values[inner]])
    every_counted = np.concatenate([counted, counted[inner] & counted[outer]])
    every_owner = list(owners) + [owners[int(o)] for o in outer]
    # A difference cell costs what its cheaper count does (a zero difference after the others
    # of its level, as a zero count: `flsdb.disclosure.costs`).
    pair_cost = np.minimum(preference[inner], preference[outer])
    unmarked = (every_value[size:] == 0) & (pair_cost < ZERO)
    every_preference = np.concatenate([preference, pair_cost + np.where(unmarked, ZERO, 0.0)])
    ranges = Ranges(every_value, nested, below, diffs)
    # Counts of patients are whole numbers: then every room to move is, and sums of rooms are
    # exact in any order (`absorb.absorbed`).
    whole = bool(
        np.all(np.isfinite(every_value))
        and np.all(every_value == np.floor(every_value))
        and (len(every_value) == 0 or np.abs(every_value).max() < 2.0**40)
    )
    sums, subtraction = ties.sums, ties.subtraction
    by_cell, real_by_cell = ties.by_cell, ties.real_by_cell
    counted_list: list[bool] = every_counted.tolist()
    order: list[float] = every_preference.tolist()
    lists = whole and not recheck  # the subtraction rule on lists (`recheck`: numpy's)
    if lists:
        hidden = subtraction.complete(values, hidden, order, None, real_by_cell)
    else:
        hidden = complete(values, hidden, relations, preference)

    def real(cell: int) -> int:
        """The count to hide for a cell: itself, or a difference's cheaper shown count."""
        pair = diffs.pair(cell)
        if pair is None:
            return cell
        shown = [c for c in pair if not hidden[c]] or list(pair)
        return min(shown, key=order.__getitem__)

    reach = ties.reach
    before: NDArray[np.bool_] | None = None
    checked_as: dict[int, tuple[object, int | None]] = {}
    members: _Members | None = None
    for _ in range(MAX_PASSES):
        chosen: set[int] = set()
        partners: dict[int, int] = {}
        every_hidden = np.concatenate([hidden, hidden[inner] | hidden[outer]])
        flags: list[bool] = every_hidden.tolist()
        # The counts whose check reads a flag the last pass changed (`flsdb.disclosure.reach`);
        # the others are checked again only if their levels changed.
        changed = None if before is None else np.flatnonzero(every_hidden != before)
        near: set[int] | None = None
        reached: set[int] = set()  # the relations the changes reach (`Reach.reached`)
        if changed is not None:
            near, reached = reach.reached(changed)
        before = every_hidden
        stale = (
            set() if changed is None else {i for c in changed.tolist() for i in by_cell.get(c, ())}
        )
        members = _Members(sums, flags, counted_list, None if recheck else members, stale)
        levels = _levels(
            ranges,
            flags,
            every_counted,
            sums,
            by_cell,
            nested,
            complement,
            partners,
            every_owner,
            members,
        )
        last, checked_as = checked_as, {}
        for cell, found in levels.items():
            checked_as[cell] = state = (found, partners.get(cell))
            same = near is not None and not recheck and last.get(cell) == state
            if same and near is not None and cell not in near:
                continue  # as the last pass checked it, with the same flags around it
            up, down, insiders, spared, via = found
            for direction, need in ((1, up), (-1, down)):
                if need <= 0:
                    continue
                if ranges.move(cell, direction, flags) + 1e-9 < need:
                    bound = ranges.bound(cell, direction, flags)
                    if bound:
                        chosen.add(min(bound, key=order.__getitem__))
                for index in by_cell.get(cell, ()):
                    if index in _skipped(via) or (same and index not in reached):
                        continue  # (not touched: as the last pass found, all hidden since)
                    checked = sums[index]
                    ok, attacker = absorbed(
                        members(index),
                        cell,
                        cell in checked.left,
                        direction,
                        need,
                        insiders,
                        spared,
                        flags,
                        ranges,
                        every_owner,
                        whole,
                    )
                    if ok:
                        continue
                    helpers = helper(
                        checked,
                        cell,
                        direction,
                        attacker,
                        flags,
                        counted_list,
                        ranges,
                        every_owner,
                        order,
                    )
                    if helpers:
                        chosen.update(real(c) for c in helpers)
                    elif cell in partners:
                        # Nothing else can absorb it: the difference goes with its shown side.
                        chosen.add(partners[cell])
        chosen = {c for c in chosen if not hidden[c]}
        if not chosen:
            break
        hidden = hidden.copy()
        hidden[sorted(chosen)] = True
        touched = sorted({i for cell in chosen for i in real_by_cell.get(cell, ())})
        if lists:
            hidden = subtraction.complete(values, hidden, order, touched, real_by_cell)
        else:
            hidden = complete(values, hidden, relations, preference, touched, real_by_cell)
    return hidden
