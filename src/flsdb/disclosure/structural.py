"""What the markers alone allow: the limits of the intruder's audit (`flsdb.disclosure.audit`)
that no suppression pattern could lift."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np

from flsdb.disclosure.attacks import Attacks, _blocks
from flsdb.disclosure.audit import _Expressions
from flsdb.disclosure.publication import Publication

KEPT = 64  # blocks whose programme is kept (each serves every attacker of its block)


class Structural:
    """What the markers alone allow, for each attacker: the widest interval any pattern could
    leave, with every count of 5 or more withheld. A region whose count of 4 is its two FLSs'
    3 and 1 (both `<5`) is 2 to 4 however much else is hidden, and the FLS with 3 knows the
    other's is 1: the audit asks for no more than that (tau-ARGUS's protection levels, cut to
    what is attainable). Computed on demand, for the quantities the audit finds narrowed only.

    The model: every count below the threshold a variable within its marker (zeros 0 or
    more) and so are the counts of every protected quantity (a difference of kpi07's
    numerator and kpi09's not-due count is kpi09's denominator, bounded by its marker); every
    relation and nested pair with such a count in it, its other counts variables of 0 or more
    (`c`). Relations among other counts only are left out (a relaxation: the interval can
    only be wider, so the need asked is never more than withholding everything would give).
    """

    def __init__(self, pub: Publication) -> None:
        small = pub.values < pub.need_high + 1
        for target in pub.targets:
            small[[c for c, _ in target.terms]] = True
        keep = [rel for rel in pub.equalities if small[list(rel.cells)].any()]
        nested = [(i, o) for i, o in pub.nested if small[i] or small[o]]
        hidden = small.copy()
        for rel in keep:
            hidden[list(rel.cells)] = True
        for inner, outer in nested:
            hidden[[inner, outer]] = True
        self.model = replace(
            pub, hidden=hidden, equalities=keep, nested=nested, needs={}, structural=None
        )
        self.blocks, _ = _blocks(self.model)
        self.block_of = {t: b for b, block in enumerate(self.blocks) for t in block.targets}
        self.found: dict[tuple[int, str, float], float] = {}
        self.asked: dict[str, set[int]] = {}  # per attacker, the targets `found` has
        self.attacks: dict[int, tuple[Attacks, _Expressions]] = {}
        # Kept across audits of the same tables (protect._NEEDS), which web requests may run
        # at once: a programme's bounds are one attacker's at a time, so one question at a time.
        self.lock = threading.Lock()

    def bound(self, target: int, attacker: str, sign: float) -> float:
        """The lowest (`sign` 1) or highest (-1) value of a target to an attacker, held to the
        marker's range (need_low to need_high)."""
        with self.lock:
            return self._bound(target, attacker, sign)

    def known(self, target: int, attacker: str, sign: float) -> float | None:
        """`bound`, when it is known without solving (asked before, or nothing to solve);
        else None. (`asked`: the targets asked before, per attacker.)"""
        pub = self.model
        number = self.block_of.get(target)
        if number is None or not (self.blocks[number].eq_rows or self.blocks[number].ub_rows):
            return pub.need_low if sign > 0 else pub.need_high
        with self.lock:
            return self.found.get((target, attacker, sign))

    def _bound(self, target: int, attacker: str, sign: float) -> float:
        pub = self.model
        default = pub.need_low if sign > 0 else pub.need_high
        number = self.block_of.get(target)
        if number is None:
            return default
        block = self.blocks[number]
        if not block.eq_rows and not block.ub_rows:
            return default  # each count within its own marker: nothing narrows it
        if (target, attacker, sign) in self.found:
            return self.found[(target, attacker, sign)]
        if number not in self.attacks:
            if len(self.attacks) >= KEPT:
                self.attacks.pop(next(iter(self.attacks)))
            made = Attacks(pub, block)
            self.attacks[number] = (made, _Expressions(pub, block, made.programme.width))
        attacks, expressions = self.attacks[number]
        who = attacks.who(attacker)
        key = (target, who, sign)
        if key in self.found:  # kept under this attacker too (`known` reads it so)
            found = self.found[(target, attacker, sign)] = self.found[key]
            self.asked.setdefault(attacker, set()).add(target)
            return found
        solver = attacks.use(who)
        local = attacks.local
        vector = np.zeros(solver.width)
        constant = 0.0
        for cell, coef in pub.targets[target].terms:
            if cell in local:
                vector[local[cell]] += coef
            else:
                constant += coef * pub.values[cell]
        status, x = solver.solve(sign * vector)
        if x is None:
            value = -sign * np.inf if status == "unbounded" else sign * np.inf
        else:
            value = float(vector @ x + constant)
        found = max(pub.need_low, value) if sign > 0 else min(pub.need_high, value)
        self.found[key] = self.found[(target, attacker, sign)] = found
        for name in {who, attacker}:
            self.asked.setdefault(name, set()).add(target)
        if x is not None:  # the block's other targets it takes to their marker's end: a witness
            values = expressions.matrix @ x + expressions.constants
            reached = values <= pub.need_low if sign > 0 else values >= pub.need_high
            for other in np.flatnonzero(reached).tolist():
                them = expressions.targets[other]
                for name in {who, attacker}:
                    self.found.setdefault((them, name, sign), default)
                    self.asked.setdefault(name, set()).add(them)
        return found
