"""The digest the published copies and the audit's outcomes are kept by (`figures.passed.
fingerprint`): equal figures give the same digest, any different value (a count, its type, a
withheld marker, where a row's text ends) another."""

from __future__ import annotations

import pandas as pd

from flsdb.figures.passed import fingerprint


def _digest(values: list[object], other: list[object] | None = None) -> str:
    table = pd.DataFrame({"unit": ["A", "B"], "numerator": values})
    services = pd.DataFrame({"service_code": ["A", "B"]})
    more = {"region": pd.DataFrame({"n": other})} if other is not None else {}
    return fingerprint({"service": table, **more}, {}, pd.DataFrame(), None, services, "policy")


def test_equal_figures_give_one_digest_and_any_difference_another() -> None:
    base = _digest([5, "<5"])
    assert base == _digest([5, "<5"])  # a copy
    differing = [
        _digest([6, "<5"]),  # a count
        _digest(["5", "<5"]),  # a number as text
        _digest([5.0, "<5"]),  # a number of another type
        _digest([5, "c"]),  # another marker
        _digest([5, None]),
        _digest(["5\x1e<5", ""]),  # one row's text holding the separator
        _digest([5, "<5"], []),  # another table
    ]
    assert base not in differing
    assert len(set(differing)) == len(differing)
