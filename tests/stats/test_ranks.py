"""Rank intervals: units that cannot be told apart share their ranks."""

from __future__ import annotations

from flsdb.stats.ranks import rank_intervals


def test_clearly_different_units_have_single_ranks() -> None:
    # 900 of 1,000 against 100 of 1,000: every draw ranks the first first.
    assert rank_intervals([900, 100], [1000, 1000]) == [(1, 1), (2, 2)]
    # Lower is better: the order turns round.
    assert rank_intervals([900, 100], [1000, 1000], higher_is_better=False) == [(2, 2), (1, 1)]


def test_identical_units_could_hold_any_rank() -> None:
    assert rank_intervals([50, 50, 50], [100, 100, 100]) == [(1, 3)] * 3


def test_a_small_unit_has_a_wide_interval() -> None:
    # Three large units at 20%, 50% and 80% and a unit of 4 patients, all 4 with the outcome.
    # Its posterior Beta(4.5, 0.5) has 16.8% of its mass below 0.8, so it may be first or
    # second (and so may the 80% unit), but only 1.5% below 0.5 (under the 2.5% tail): never
    # third.
    intervals = rank_intervals([200, 500, 800, 4], [1000, 1000, 1000, 4])
    assert intervals == [(4, 4), (3, 3), (1, 2), (1, 2)]
    assert rank_intervals([], []) == []


def test_rates_over_an_expected_count() -> None:
    # 160 of 200 expected against 40 of 200: every draw ranks the first first.
    assert rank_intervals([160, 40], [200, 200], rate=True) == [(1, 1), (2, 2)]
