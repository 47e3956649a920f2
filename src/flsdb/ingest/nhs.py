"""NHS number checks on whole columns at once (modulus 11, weights 10 down to 2)."""

from __future__ import annotations

import polars as pl


def nhs_number_is_valid(digits: pl.Expr) -> pl.Expr:
    """True where a 10-digit string has a valid modulus-11 check digit.

    Integer arithmetic over the whole column (no per-value Python); tests check it against the
    `nhs-number` package. The check digit is 11 less the remainder of the first nine digits
    weighted 10 down to 2 (11 read as 0, 10 as no valid number): that is, the ten digits
    weighted 10 down to 1 (the check digit's weight 1) add up to a multiple of 11, which a
    check digit of 10 never can (a digit is 0 to 9). One sum, so the expression holds the
    column ten times rather than forty (for a record typed into a form, its planning was
    most of the row's validation).
    """
    number = digits.cast(pl.Int64, strict=False)
    total = pl.sum_horizontal([((number // 10**power) % 10) * (power + 1) for power in range(10)])
    return total % 11 == 0
