"""The audit's shortcuts give what the plain steps give: attackers asked in another order find
the same breaches (and the same verdict when only the first matters), the needs read as arrays
are `need`'s, the pool's solutions checked at once are those `feasible` accepts, and each
attacker's solutions of the last audit (`Seeds`) change no breach of the next."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from flsdb.disclosure.audit import OUTSIDER, Breach, Seeds, audit
from flsdb.disclosure.lp import SOLVED, Programme
from flsdb.disclosure.structural import Structural
from tests.disclosure.test_audit_lp import FLSS, _hand_made


def test_attackers_asked_in_any_order_find_the_same_breaches_and_verdict() -> None:
    failing = 0
    for seed in range(12):
        pub = _hand_made(seed)
        pub = replace(pub, structural=Structural(pub))
        plain = audit(pub, insiders=True)
        for prefer in ([*reversed(FLSS)], ["C", OUTSIDER, "nobody", "C"]):
            again = audit(pub, insiders=True, prefer=prefer)
            assert {(b.target.terms, b.attacker) for b in again} == {
                (b.target.terms, b.attacker) for b in plain
            }, (seed, prefer)
            first = audit(pub, insiders=True, first_only=True, any_one=True, prefer=prefer)
            assert bool(first) == bool(plain), (seed, prefer)
            if first:  # one breach, of an attacker the full audit names too
                assert len(first) == 1
                assert (first[0].target.terms, first[0].attacker) in {
                    (b.target.terms, b.attacker) for b in plain
                }
        failing += bool(plain)
    assert failing  # leaking tables among them, not only passing ones


def test_needs_read_as_arrays_equal_need_for_every_target_and_attacker() -> None:
    pub = _hand_made(3)
    count = len(pub.targets)
    assert count >= 4
    needs = {
        (0, OUTSIDER): (2.0, 3.0),
        (0, "A"): (3.0, 3.0),
        (1, "B"): (1.5, 4.0),
        (count - 1, "A"): (4.0, 4.0),
        (count - 2, OUTSIDER): (1.0, 2.0),
    }
    pub = replace(pub, needs=needs)
    every = list(range(count))
    some = [*every[::2], count - 1]
    for attacker in (OUTSIDER, *FLSS):
        for chosen in (every, sorted(set(some)), [count - 1]):
            expected = np.array([pub.need(t, attacker) for t in chosen], dtype=float)
            assert np.array_equal(pub.needs_for(chosen, attacker), expected), (attacker, chosen)


def test_solutions_checked_at_once_are_those_feasible_accepts() -> None:
    rng = np.random.default_rng(11)
    width = 8
    eq_rows = [([0, 1, 2], [1.0, 1.0, -1.0], 0.0)]
    ub_rows = [([3, 4], [1.0, -1.0], 0.0), ([5, 6, 7], [1.0, 1.0, 1.0], 9.0)]
    lower = np.zeros(width)
    upper = np.where(rng.random(width) < 0.5, 4.0, np.inf)
    programme = Programme(width, eq_rows, ub_rows, lower, upper)
    solutions = [rng.integers(0, 6, size=width).astype(float) for _ in range(300)]
    for x in solutions[::3]:  # some that meet the equality
        x[2] = x[0] + x[1]
    accepted = [x for x in solutions if programme.feasible(x)]
    assert 0 < len(accepted) < len(solutions)
    together = programme.feasible_among(solutions)
    assert len(together) == len(accepted)
    assert all(a is b for a, b in zip(together, accepted, strict=True))
    assert programme.feasible_among([]) == []


def _ends(found: list[Breach]) -> dict[tuple[object, str], tuple[float, float]]:
    return {(b.target.terms, b.attacker): (b.low, b.high) for b in found}


def test_seeded_audits_find_the_breaches_of_plain_ones_as_counts_are_withheld_and_shown() -> None:
    """A search's audits one after another (one more count withheld each time, then shown
    again), each attacker handed its solutions of the last: the same breaches, with the same
    ends, as audits from nothing, and the same first breaches; fewer programmes solved."""
    solved = {"plain": 0, "seeded": 0}
    steps = 0
    for seed in range(5):
        pub = _hand_made(seed)
        pub = replace(pub, structural=Structural(pub))
        rng = np.random.default_rng(seed)
        shown = [int(c) for c in rng.permutation(np.flatnonzero(~pub.hidden))][:4]
        patterns = []
        hidden = pub.hidden.copy()
        for cell in shown:  # withheld one more at a time
            hidden = hidden.copy()
            hidden[cell] = True
            patterns.append(hidden)
        for cell in shown[:2]:  # then shown again (the clean-up)
            hidden = hidden.copy()
            hidden[cell] = False
            patterns.append(hidden)
        seeds: Seeds = {}
        first_seeds: Seeds = {}
        for hidden in patterns:
            step = replace(pub, hidden=hidden)
            before = SOLVED["solves"]
            plain = audit(step, insiders=True)
            solved["plain"] += SOLVED["solves"] - before
            before = SOLVED["solves"]
            seeded = audit(step, insiders=True, seeds=seeds)
            solved["seeded"] += SOLVED["solves"] - before

            assert _ends(seeded).keys() == _ends(plain).keys(), seed
            for key, (low, high) in _ends(plain).items():
                assert np.allclose(_ends(seeded)[key], (low, high), equal_nan=True), (seed, key)
            first = audit(step, insiders=True, first_only=True)
            again = audit(step, insiders=True, first_only=True, seeds=first_seeds)
            assert [(b.target.terms, b.attacker) for b in again] == [
                (b.target.terms, b.attacker) for b in first
            ], seed
            steps += bool(plain)
        assert seeds  # every attacker's solutions kept
    assert steps  # breaches among them, not only passing publications
    assert solved["seeded"] < solved["plain"]


def test_needs_known_from_an_earlier_audit_are_the_markers_limits_and_change_no_breach() -> None:
    """The markers' limits worked out by earlier audits of the same tables (`Structural`
    kept with them) are read before anything is solved: each is `exact_need`'s or
    `shared_need`'s, read without solving, and audits that start from them find the breaches
    (with the same ends, and the same first breaches) of audits whose limits are worked out
    afresh; fewer programmes solved."""
    solved = {"afresh": 0, "known": 0}
    breached = 0
    for seed in range(6):
        pub = _hand_made(seed)
        kept = Structural(pub)
        rng = np.random.default_rng(seed)
        shown = [int(c) for c in rng.permutation(np.flatnonzero(~pub.hidden))][:3]
        patterns = [pub.hidden]
        for cell in shown:
            hidden = patterns[-1].copy()
            hidden[cell] = True
            patterns.append(hidden)
        patterns.append(pub.hidden)  # the first pattern again: every limit it asks is known
        for hidden in patterns:
            before = SOLVED["solves"]
            afresh = replace(pub, hidden=hidden, structural=Structural(pub))
            plain = audit(afresh, insiders=True)
            first = audit(afresh, insiders=True, first_only=True)
            solved["afresh"] += SOLVED["solves"] - before
            before = SOLVED["solves"]
            step = replace(pub, hidden=hidden, structural=kept)
            known = audit(step, insiders=True)
            again = audit(step, insiders=True, first_only=True)
            solved["known"] += SOLVED["solves"] - before
            assert _ends(known).keys() == _ends(plain).keys(), seed
            for key, ends in _ends(plain).items():
                assert np.allclose(_ends(known)[key], ends, equal_nan=True), (seed, key)
            assert [(b.target.terms, b.attacker) for b in again] == [
                (b.target.terms, b.attacker) for b in first
            ], seed
            breached += bool(plain)
        # What is read as known is what the needs give, and reading it solves nothing.
        count = 0
        for attacker in (OUTSIDER, *FLSS):
            for side in ("low", "high"):
                before = SOLVED["solves"]
                found = step.known_needs(list(range(len(step.targets))), attacker, side)
                assert SOLVED["solves"] == before
                for target, value, exact in found:
                    need = step.exact_need if exact else step.shared_need
                    assert value == need(target, attacker, side), (seed, target, attacker)
                    count += 1
        assert count  # limits known, of some attackers and sides
    assert breached  # breaches among them, not only passing publications
    assert solved["known"] < solved["afresh"]
