"""The audit's linear programmes solved fast (HiGHS kept warm, one programme per block for
every attacker, witnesses before single solves) give the verdicts of the plain model: every
cell a variable, solved from scratch by `linprog` for each quantity and attacker."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import linprog

from flsdb.disclosure.audit import OUTSIDER, Publication, Target, _blocks, audit
from flsdb.disclosure.engine import relation
from flsdb.disclosure.lp import Programme
from flsdb.disclosure.structural import Structural

FLSS = ("A", "B", "C", "D", "E", "F")
REGIONS = {"R1": ("A", "B", "C"), "R2": ("D", "E", "F")}


def _hand_made(seed: int) -> Publication:
    """Two KPIs (a numerator within its denominator) for six FLSs in two regions and the
    nation; random small counts, every count of 1 to 4 withheld (`<5`: 1 to 4), some others
    withheld as `c` (0 or more)."""
    rng = np.random.default_rng(seed)
    units = [*FLSS, *REGIONS, "all"]
    cells: dict[tuple[str, str], int] = {}
    for unit in units:
        for count in ("num", "den"):
            cells[(unit, count)] = len(cells)
    values = np.zeros(len(cells))
    for code in FLSS:
        den = float(rng.integers(0, 9))
        values[cells[(code, "den")]] = den
        values[cells[(code, "num")]] = float(rng.integers(0, den + 1))
    relations = []
    for count in ("num", "den"):
        for region, members in REGIONS.items():
            values[cells[(region, count)]] = sum(values[cells[(m, count)]] for m in members)
            parts = [cells[(m, count)] for m in members]
            relations.append(relation([cells[(region, count)]], parts))
        values[cells[("all", count)]] = sum(values[cells[(r, count)]] for r in REGIONS)
        relations.append(relation([cells[("all", count)]], [cells[(r, count)] for r in REGIONS]))
    nested = [(cells[(unit, "num")], cells[(unit, "den")]) for unit in units]
    small = (values >= 1) & (values <= 4)
    hidden = small | (rng.random(len(values)) < 0.3)
    owners = [unit if unit in FLSS else None for unit, _ in cells]
    targets = [Target(((int(c), 1.0),), float(values[c]), owners[c]) for c in np.flatnonzero(small)]
    for inner, outer in nested:
        difference = values[outer] - values[inner]
        if 1 <= difference <= 4 and (hidden[inner] or hidden[outer]):
            targets.append(Target(((outer, 1.0), (inner, -1.0)), difference, owners[outer]))
    return Publication(
        values=values,
        hidden=hidden,
        lower=np.where(small, 1.0, 0.0),
        upper=np.where(small, 4.0, np.inf),
        equalities=relations,
        nested=nested,
        owners=owners,
        targets=targets,
    )


def _plain_verdicts(pub: Publication, attacker: str) -> set[tuple[object, ...]]:
    """The quantities `attacker` narrows, from the whole model solved from scratch."""
    size = len(pub.values)
    bounds = []
    for cell in range(size):
        known = not pub.hidden[cell] or pub.owners[cell] == attacker
        if known:
            bounds.append((pub.values[cell], pub.values[cell]))
        else:
            top = None if np.isinf(pub.upper[cell]) else pub.upper[cell]
            bounds.append((pub.lower[cell], top))
    a_eq = np.zeros((len(pub.equalities), size))
    for row, rel in enumerate(pub.equalities):
        a_eq[row, list(rel.left)] += 1.0
        a_eq[row, list(rel.right)] -= 1.0
    a_ub = np.zeros((len(pub.nested), size))
    for row, (inner, outer) in enumerate(pub.nested):
        a_ub[row, inner] += 1.0
        a_ub[row, outer] -= 1.0
    narrowed = set()
    for index, target in enumerate(pub.targets):
        if attacker != OUTSIDER and target.owner == attacker:
            continue  # an FLS does not attack its own count
        objective = np.zeros(size)
        for cell, coef in target.terms:
            objective[cell] += coef
        ends = []
        for sign in (1.0, -1.0):
            result = linprog(
                sign * objective,
                A_ub=a_ub,
                b_ub=np.zeros(len(pub.nested)),
                A_eq=a_eq,
                b_eq=np.zeros(len(pub.equalities)),
                bounds=bounds,
                method="highs",
            )
            ends.append(sign * result.fun if result.status == 0 else -sign * np.inf)
        # What the markers alone allow, where the publication says (`Structural`).
        low, high = (pub.exact_need(index, attacker, side) for side in ("low", "high"))
        if ends[0] > low + 1e-6 or ends[1] < high - 1e-6:
            narrowed.add(target.terms)
    return narrowed


@pytest.mark.parametrize("limits", [False, True], ids=["marker-range", "markers-limits"])
def test_each_attackers_verdict_equals_the_plain_models_on_hand_made_tables(limits: bool) -> None:
    """Without and with what the markers alone allow (`Structural`: asked of the outsider
    first, then of the FLS, before single solves)."""
    narrowed_somewhere = 0
    for seed in range(12):
        pub = _hand_made(seed)
        if limits:
            pub = replace(pub, structural=Structural(pub))
        found = audit(pub, insiders=True)
        by_attacker: dict[str, set[tuple[object, ...]]] = {}
        for breach in found:
            by_attacker.setdefault(breach.attacker, set()).add(breach.target.terms)
        outsider = by_attacker.get(OUTSIDER, set())
        assert outsider == _plain_verdicts(pub, OUTSIDER), seed
        blocks, _ = _blocks(pub)
        for code in FLSS:
            # An FLS is modelled in the blocks where it owns a withheld count; elsewhere
            # knowing its own (shown) counts adds nothing to what the outsider knows.
            modelled = {
                pub.targets[t].terms
                for block in blocks
                if any(pub.owners[cell] == code for cell in block.cells)
                for t in block.targets
            }
            expected = _plain_verdicts(pub, code)
            assert by_attacker.get(code, set()) == expected & modelled, (seed, code)
            if not limits:
                own = {t.terms for t in pub.targets if t.owner == code}
                assert (outsider - own) - modelled == expected - modelled, (seed, code)
        narrowed_somewhere += bool(found)
    assert narrowed_somewhere  # the tables include leaking ones, not only passing ones


def test_a_leak_spanning_two_blocks_of_sums_is_found() -> None:
    """x + u = 5 and y + v = 5 are separate sums; x - y (a protected difference of 2) can
    only be -3 to 3, so it is narrowed although each sum alone leaks nothing."""
    x, u, y, v = 0, 1, 2, 3
    values = np.array([4.0, 1.0, 2.0, 3.0, 5.0, 5.0])
    pub = Publication(
        values=values,
        hidden=np.array([True, True, True, True, False, False]),
        lower=np.array([0.0, 1.0, 1.0, 1.0, 0.0, 0.0]),
        upper=np.array([np.inf, 4.0, 4.0, 4.0, np.inf, np.inf]),
        equalities=[relation([4], [x, u]), relation([5], [y, v])],
        nested=[],
        owners=[None] * 6,
        targets=[
            Target(((u, 1.0),), 1.0),
            Target(((v, 1.0),), 3.0),
            Target(((y, 1.0),), 2.0),
            Target(((x, 1.0), (y, -1.0)), 2.0),
        ],
    )
    found = audit(pub)
    assert [(b.target.terms, b.attacker) for b in found] == [(((x, 1.0), (y, -1.0)), OUTSIDER)]
    assert found[0].high == 3.0 and found[0].low <= 1.0  # its highest value, and a low proven


def test_a_warm_programme_answers_as_linprog_from_scratch() -> None:
    """Many objectives and bound changes on one programme, against linprog each time."""
    rng = np.random.default_rng(7)
    width = 12
    eq_rows = [(list(range(0, 6)), [1.0] * 5 + [-1.0], 0.0), ([6, 7, 8, 9], [1.0] * 4, 10.0)]
    ub_rows = [([0, 6], [1.0, -1.0], 0.0), ([10, 11], [1.0, 1.0], 7.0)]
    lower = np.zeros(width)
    upper = np.where(rng.random(width) < 0.5, 4.0, np.inf)
    upper[5] = np.inf
    warm = Programme(width, eq_rows, ub_rows, lower, upper)
    cold = Programme(width, eq_rows, ub_rows, lower, upper)
    cold.highs = None  # linprog from scratch
    assert warm.highs is not None
    fixed: list[int] = []
    for step in range(60):
        if step % 5 == 4:  # an attacker's own cell fixed at its value
            column = int(rng.integers(0, width))
            value = float(rng.integers(0, 3))
            fixed.append(column)
            for programme in (warm, cold):
                programme.set_bounds([column], [value], [value])
        if step % 10 == 7:  # and released for the next attacker
            for programme in (warm, cold):
                programme.set_bounds(fixed, lower[fixed], upper[fixed])
            fixed = []
        objective = rng.normal(size=width)
        (warm_status, x), (cold_status, y) = warm.solve(objective), cold.solve(objective)
        assert warm_status == cold_status, step
        if x is not None and y is not None:
            assert abs(objective @ x - objective @ y) < 1e-6, step
