"""The clean-up's incremental audit (`flsdb.disclosure.reaudit`) gives the full audit's verdict
on every try: hand-made tables and the synthetic nation, counts shown one after another as
`relax` shows them; and its programmes solved as moves (`Centred`) answer as linprog does."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from flsdb.disclosure.audit import Publication, audit
from flsdb.disclosure.centred import Centred
from flsdb.disclosure.costs import NATION_LEVEL, REGION_LEVEL, levels
from flsdb.disclosure.lp import Programme
from flsdb.disclosure.model import model
from flsdb.disclosure.reaudit import Reaudit
from flsdb.disclosure.relax import candidates
from flsdb.disclosure.structural import Structural
from flsdb.disclosure.tables import _primary
from tests.disclosure.nation import NATION_GROUP, nation
from tests.disclosure.test_audit_lp import _hand_made


def _full(pub: Publication, hidden: np.ndarray) -> bool:
    """The full audit's verdict (outsider and every FLS) on `pub` with these hidden flags."""
    return not audit(replace(pub, hidden=hidden), insiders=True)


def test_each_try_gets_the_full_audits_verdict_on_hand_made_tables() -> None:
    verdicts = []
    for seed in range(6):
        pub = _hand_made(seed)
        small = pub.lower > 0
        # Every other count withheld too (`c`): the clean-up starts from tables that pass.
        pub = replace(pub, hidden=pub.hidden | (pub.values > 0))
        pub = replace(pub, structural=Structural(pub))
        if not _full(pub, pub.hidden):
            continue
        hold = [int(c) for c in np.flatnonzero(pub.hidden & ~small)]
        again = Reaudit(pub, hold=hold[::2])  # witnesses held for some of them only
        current = pub.hidden.copy()
        tries = [[c] for c in hold] + [hold, hold[:2]]
        for cells in tries:
            trial = current.copy()
            trial[cells] = False
            verdict = again.passes(cells)
            assert verdict == _full(pub, trial), (seed, cells)
            verdicts.append(verdict)
            if verdict:
                again.show(cells)
                current = trial
    # Tries that pass and tries that fail, on several tables.
    assert verdicts.count(True) >= 5 and verdicts.count(False) >= 5, verdicts


def test_a_programme_solved_as_moves_answers_as_linprog_from_scratch() -> None:
    """Objectives, column bounds held at the centre and released, and rows' right-hand sides
    lowered, against linprog each time."""
    rng = np.random.default_rng(11)
    width = 12
    centre = rng.integers(0, 5, size=width).astype(float)
    eq_rows = [
        (list(range(0, 6)), [1.0] * 5 + [-1.0], float(centre[:5].sum() - centre[5])),
        ([6, 7, 8, 9], [1.0] * 4, float(centre[6:10].sum())),
    ]
    ub_rows = [
        ([0, 6], [1.0, -1.0], float(centre[0] - centre[6] + 2)),
        ([10, 11], [1.0, 1.0], float(centre[10] + centre[11] + 3)),
    ]
    lower = np.zeros(width)
    upper = np.where(rng.random(width) < 0.5, 4.0, np.inf)
    moves = Centred(width, eq_rows, ub_rows, lower, upper, centre)
    cold = Programme(width, eq_rows, ub_rows, lower, upper)
    cold.highs = None  # linprog from scratch
    assert moves.highs is not None
    held: list[int] = []
    for step in range(60):
        if step % 5 == 4:  # a count shown (held at its value)
            column = int(rng.integers(0, width))
            held.append(column)
            for programme in (moves, cold):
                programme.set_bounds([column], centre[[column]], centre[[column]])
        if step % 10 == 7:  # released
            for programme in (moves, cold):
                programme.set_bounds(held, lower[held], upper[held])
            held = []
        if step == 30:  # an FLS's own difference lowers a nested row's right-hand side
            for programme in (moves, cold):
                programme.set_row_upper([3], [float(centre[10] + centre[11] + 1)])
        objective = rng.normal(size=width)
        (status, x), (cold_status, y) = moves.solve(objective), cold.solve(objective)
        assert status == cold_status, step
        if x is not None and y is not None:
            assert abs(objective @ x - objective @ y) < 1e-6, step
            assert moves.feasible(x), step


@pytest.mark.slow
@NATION_GROUP
def test_each_try_gets_the_full_audits_verdict_on_the_synthetic_nation() -> None:
    """The levels' pattern of the nation (which passes), then: every nation count of 50 or
    more shown at once (fails), the largest alone (passes, and stays shown), every region's
    at once (fails)."""
    data = nation()
    policy = data.thresholds.suppression
    cells, pub = model(
        data.published, data.unsuppressed, data.services, policy, data.catalogue, data.group_counts
    )
    hidden = np.asarray(pub.hidden, dtype=bool)
    order = candidates(cells, hidden, _primary(cells, policy, list(pub.nested)))
    level = np.repeat(levels(cells.frame), 3)
    nations = [c for c in order if level[c] >= NATION_LEVEL]
    regions = [c for c in order if level[c] == REGION_LEVEL]
    again = Reaudit(pub, hold=order)
    current = hidden.copy()
    verdicts = []
    for cells_shown in (nations, nations[:1], regions):
        trial = current.copy()
        trial[cells_shown] = False
        verdict = again.passes(cells_shown)
        full = not audit(replace(pub, hidden=trial), insiders=True, any_one=True)
        assert verdict == full
        verdicts.append(verdict)
        if verdict:
            again.show(cells_shown)
            current = trial
    assert verdicts == [False, True, False]
