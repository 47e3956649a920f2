"""The vectorised NHS number check agrees with the nhs-number package's modulus-11 checksum.

(The package's is_valid also applies Scotland's CHI date rule, which the audit spec does not.)"""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from nhs_number.validate import calculate_checksum

from flsdb.ingest.nhs import nhs_number_is_valid

ten_digits = st.text(alphabet="0123456789", min_size=10, max_size=10)


@settings(max_examples=300, deadline=None)
@given(st.lists(ten_digits, min_size=1, max_size=50))
def test_matches_reference_package(numbers: list[str]) -> None:
    ours = (
        pl.DataFrame({"n": numbers})
        .select(nhs_number_is_valid(pl.col("n")).alias("ok"))["ok"]
        .to_list()
    )
    assert ours == [calculate_checksum(n[:9]) == int(n[9]) for n in numbers]


def test_known_examples() -> None:
    frame = pl.DataFrame({"n": ["9434765919", "9434765918", "4010232137", "0000000000"]})
    assert frame.select(nhs_number_is_valid(pl.col("n")).alias("ok"))["ok"].to_list() == [
        True,
        False,
        True,
        True,
    ]
