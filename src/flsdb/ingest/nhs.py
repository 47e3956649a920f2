"""NHS number checks on whole columns at once (modulus 11, weights 10 down to 2)."""

from __future__ import annotations

import polars as pl


def nhs_number_is_valid(digits: pl.Expr) -> pl.Expr:
    """True where a 10-digit string has a valid modulus-11 check digit.

    Integer arithmetic over the whole column (no per-value Python); tests check it against the
    `nhs-number` package.
    """
    number = digits.cast(pl.Int64, strict=False)
    body = number // 10
    total = pl.sum_horizontal([((body // 10**power) % 10) * (power + 2) for power in range(9)])
    check = 11 - (total % 11)
    expected = pl.when(check == 11).then(0).otherwise(check)
    return (expected != 10) & (expected == number % 10)
