"""The audit's model of a publication: its cells (true values), which are hidden and their
marker bounds, the relations anyone can know, who owns each cell, each FLS's own part of counts
shared by several, and the quantities to protect (`flsdb.disclosure.audit`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from flsdb.disclosure.engine import Relation

OUTSIDER = "outsider"


class Limits(Protocol):
    """What the markers alone allow (`flsdb.disclosure.structural.Structural`)."""

    asked: dict[str, set[int]]  # per attacker, the targets whose limits are known

    def bound(self, target: int, attacker: str, sign: float) -> float: ...

    def known(self, target: int, attacker: str, sign: float) -> float | None: ...


@dataclass(frozen=True)
class Target:
    """A protected quantity: sum(coefficient * cell) (+ nothing else), with its true value."""

    terms: tuple[tuple[int, float], ...]
    value: float
    owner: str | None = None  # the FLS whose count it is (it is not attacked by itself)


@dataclass(frozen=True)
class Breach:
    target: Target
    attacker: str  # OUTSIDER, or the code of the FLS that knows its own counts
    low: float
    high: float


@dataclass(frozen=True)
class Publication:
    """Everything the audit needs: cells (true values), which are hidden and their marker
    bounds, the relations, who owns each cell, and the quantities to protect."""

    values: NDArray[np.float64]
    hidden: NDArray[np.bool_]
    lower: NDArray[np.float64]  # marker bounds of hidden cells
    upper: NDArray[np.float64]  # (np.inf: no upper bound)
    equalities: Sequence[Relation]
    nested: Sequence[tuple[int, int]]  # (inner, outer): inner <= outer
    owners: Sequence[str | None]
    targets: Sequence[Target]
    need_low: float = 1.0
    need_high: float = 4.0
    # Narrower needs known at once (an insider's own part of an aggregate), by (target,
    # attacker); those the markers themselves impose (`Limits`) are asked for only where
    # the audit finds a quantity narrowed.
    needs: dict[tuple[int, str], tuple[float, float]] = field(default_factory=dict)
    structural: Limits | None = field(default=None, compare=False, repr=False)
    # Per FLS, its own part of counts of several FLSs that no relation ties to its own cells
    # (the breakdown groups): cell -> the FLS's own count in it.
    parts: dict[str, dict[int, float]] = field(default_factory=dict)
    parted: frozenset[int] = frozenset()  # the cells `parts` covers (no part named: none)

    def need(self, target: int, attacker: str) -> tuple[float, float]:
        default = self.needs.get((target, OUTSIDER), (self.need_low, self.need_high))
        return self.needs.get((target, attacker), default)

    def needs_for(self, targets: Sequence[int], attacker: str) -> NDArray[np.float64]:
        """`need` of each of `targets` (increasing numbers) to `attacker`, as rows (low,
        high): the audit asks it of every target of a block for every attacker."""
        shared, own = self._need_table
        index = np.asarray(targets, dtype=np.int64)
        out = shared[index]
        if attacker != OUTSIDER and attacker in own:
            numbers, values = own[attacker]
            at = np.searchsorted(index, numbers)
            found = at < len(index)
            found[found] = index[at[found]] == numbers[found]
            out[at[found]] = values[found]
        return out

    @cached_property
    def _need_table(
        self,
    ) -> tuple[NDArray[np.float64], dict[str, tuple[NDArray[np.int64], NDArray[np.float64]]]]:
        """`needs` as arrays: every target's need to an outsider, and per FLS the targets
        whose need differs (numbers, and their needs)."""
        shared = np.tile([self.need_low, self.need_high], (len(self.targets), 1)).astype(float)
        own: dict[str, dict[int, tuple[float, float]]] = {}
        for (target, who), need in self.needs.items():
            if who == OUTSIDER:
                shared[target] = need
            else:
                own.setdefault(who, {})[target] = need
        table = {}
        for who, found in own.items():
            numbers = np.fromiter(found, dtype=np.int64, count=len(found))
            table[who] = (numbers, np.array(list(found.values()), dtype=float).reshape(-1, 2))
        return shared, table

    def exact_need(self, target: int, attacker: str, side: str) -> float:
        """The need's `side` ("low" or "high") with what the markers alone allow
        (`Structural`) taken into account."""
        low, high = self.need(target, attacker)
        if self.structural is None:
            return low if side == "low" else high
        if side == "high":
            return min(high, self.structural.bound(target, attacker, -1.0))
        ceiling = self.structural.bound(target, attacker, -1.0)
        return max(self.structural.bound(target, attacker, 1.0), min(low, ceiling))

    def known_needs(
        self, targets: Sequence[int], attacker: str, side: str
    ) -> list[tuple[int, float, bool]]:
        """For those of `targets` whose markers' limits an earlier audit of the same tables
        worked out (none solved here): their number in `targets`, and `exact_need` (and True)
        where the limits it reads are known, failing that `shared_need` (and False)."""
        if self.structural is None:
            return []
        asked = self.structural.asked
        mine, shared = asked.get(attacker, ()), asked.get(OUTSIDER, ())
        out = []
        for number, target in enumerate(targets):
            if target in mine or target in shared:
                found = self._known_need(target, attacker, side)
                if found is not None:
                    out.append((number, *found))
        return out

    def _known_need(self, target: int, attacker: str, side: str) -> tuple[float, bool] | None:
        assert self.structural is not None
        known = self.structural.known
        low, high = self.need(target, attacker)
        ceiling = known(target, attacker, -1.0)
        if ceiling is not None:
            if side == "high":
                return min(high, ceiling), True
            floor = known(target, attacker, 1.0)
            if floor is not None:
                return max(floor, min(low, ceiling)), True
        shared = known(target, OUTSIDER, -1.0 if side == "high" else 1.0)
        if shared is None:
            return None
        return (min(high, shared) if side == "high" else shared), False

    def shared_need(self, target: int, attacker: str, side: str) -> float:
        """A need at least as strict as `exact_need`'s, from what the markers allow an
        outsider (computed once for every attacker): an FLS's own counts only narrow those
        limits, so a value that meets this meets the exact need too."""
        low, high = self.need(target, attacker)
        if self.structural is None:
            return low if side == "low" else high
        if side == "high":
            return min(high, self.structural.bound(target, OUTSIDER, -1.0))
        return self.structural.bound(target, OUTSIDER, 1.0)
