"""The ties between the counts of one shape of tables, worked out once per shape.

The protection levels (`flsdb.disclosure.levels`) read, besides the counts' values, how they
are tied: the difference cells of the nested pairs and their relations
(`flsdb.disclosure.differences`), the relations of each cell, and which checks a change of
hidden flags reaches (`flsdb.disclosure.reach`). None of that reads a value: it follows from
the relations and nested pairs alone, which are the same for every period of one grain (the
same FLSs, KPIs and breakdown groups in the same rows). Working it out was about a third of a
dashboard's disclosure check, so it is kept for the last few shapes, keyed by the relations
and nested pairs themselves (never by anything that could name two shapes alike).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flsdb.disclosure.absorb import Sum
from flsdb.disclosure.differences import Differences, differences
from flsdb.disclosure.engine import Relation
from flsdb.disclosure.reach import Reach
from flsdb.disclosure.subtraction import Subtraction
from flsdb.kept import Kept

KEEP = 8  # shapes kept (a year, quarter and month of the publication, and a few more)


@dataclass(frozen=True)
class Ties:
    """`relations` (the counts' and the difference cells') with each cell's (`by_cell`), the
    counts' own relations by cell (`real_by_cell`), the difference cells, the nested pairs
    by count (`outers`, `inners`), what a change reaches (`reach`), each relation as the
    levels' checks read it (`sums`) and the counts' relations laid out for the subtraction
    rule (`subtraction`)."""

    diffs: Differences
    relations: tuple[Relation, ...]
    lefts: tuple[frozenset[int], ...]
    by_cell: dict[int, list[int]]
    real_by_cell: dict[int, list[int]]
    outers: dict[int, list[int]]
    inners: dict[int, list[int]]
    reach: Reach
    sums: tuple[Sum, ...]
    subtraction: Subtraction


def _by_cell(relations: Sequence[Relation]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for index, rel in enumerate(relations):
        for cell in rel.cells:
            found.setdefault(cell, []).append(index)
    return found


def _worked_out(
    size: int, nested: tuple[tuple[int, int], ...], relations: tuple[Relation, ...], diff: bool
) -> Ties:
    diffs = differences(size, nested if diff else (), relations)
    every = (*relations, *diffs.relations)
    by_cell = _by_cell(every)
    outers: dict[int, list[int]] = {}
    inners: dict[int, list[int]] = {}
    for inner, outer in nested:
        outers.setdefault(inner, []).append(outer)
        inners.setdefault(outer, []).append(inner)
    reach = Reach([rel.cells for rel in every], by_cell, (outers, inners), diffs.pairs, diffs.start)
    lefts = tuple(frozenset(rel.left) for rel in every)
    sums = tuple(Sum(rel.cells, left) for rel, left in zip(every, lefts, strict=True))
    return Ties(
        diffs,
        every,
        lefts,
        by_cell,
        _by_cell(relations),
        outers,
        inners,
        reach,
        sums,
        Subtraction(relations),
    )


_KEPT = Kept(KEEP)


def ties_of(
    size: int,
    nested: Sequence[tuple[int, int]],
    relations: Sequence[Relation],
    complement: bool,
) -> Ties:
    """The ties of `size` counts with these nested pairs and relations (`complement`: the
    nested pairs' difference cells too); the same object for the same shape, not to be
    changed by the caller."""
    pairs = tuple((int(i), int(o)) for i, o in nested)
    rels = tuple(relations)
    key = (size, complement, pairs, rels)
    return _KEPT.get(key, lambda: _worked_out(size, pairs, rels, complement))
