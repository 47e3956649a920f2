"""NHS number checks on whole columns at once (modulus 11, weights 10 down to 2)."""

from __future__ import annotations

import polars as pl

_WEIGHTS = range(10, 1, -1)


def nhs_number_is_valid(digits: pl.Expr) -> pl.Expr:
    """True where a 10-digit string has a valid modulus-11 check digit.

    Vectorised for bulk uploads; tests check it against the `nhs-number` package.
    """
    total = pl.sum_horizontal(
        [digits.str.slice(i, 1).cast(pl.Int64, strict=False) * w for i, w in enumerate(_WEIGHTS)]
    )
    check = 11 - (total % 11)
    expected = pl.when(check == 11).then(0).otherwise(check)
    actual = digits.str.slice(9, 1).cast(pl.Int64, strict=False)
    return (expected != 10) & (expected == actual)
