"""What withholding a count costs a reader: the order in which complementary counts are chosen.

tau-ARGUS and sdcTable choose secondary suppressions by a cost per cell (its frequency, its
value, or a weight the user sets: sdcTable's `weight`, GaussSuppression's `(freq + 1) * weight`
candidate order), so that the cheapest cells that protect the sensitive ones are withheld, and
the hierarchy's totals only when nothing below them will do. Here the cost is lexicographic:

1. the level: every FLS count (and every breakdown group's: an age band, a sex) costs less than
   any region's, every region's less than any nation's (England, Wales), and those less than the
   whole (England and Wales): a reader loses far more from a hidden nation total of hundreds of
   patients than from a hidden FLS count;
2. then the size of the unit (the most patients any of its KPIs counts) and the count itself:
   small before large;
3. a zero after every other count, of any level: zeros show as 0, a zero withheld protects
   nothing that must move down, and one withheld where the other counts of a sum on its side
   are shown is known to be 0 again, so the sum's total goes with it (the subtraction rule,
   `engine.complete`): a zero FLS count can cost a nation's total.

`costs` gives each count its cost as one number (lower first, exact in float64); `level_of`
reads the level back (the complement search of `protect` and the level-aware widening steps
choose by it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from flsdb.kpi.results import BREAKDOWNS

# Levels of the hierarchy, lowest first: FLSs and breakdown groups, regions, nations, the whole.
FLS_LEVEL, REGION_LEVEL, NATION_LEVEL, WHOLE_LEVEL = 0, 1, 2, 3
LEVELS: dict[str, int] = {
    "service": FLS_LEVEL,
    **dict.fromkeys(BREAKDOWNS, FLS_LEVEL),
    "region": REGION_LEVEL,
    "nation": NATION_LEVEL,
}
STEP = 1e15  # one level: more than any count's cost within a level
SIZE = 1e6  # per patient of the unit's largest count: below STEP / 2 up to 5e8 patients
ZERO = (WHOLE_LEVEL + 1) * STEP  # a zero after every other count, of any level


def levels(frame: pd.DataFrame) -> NDArray[np.int64]:
    """Per row of a combined KPI table, its level (`FLS_LEVEL` to `WHOLE_LEVEL`)."""
    level = frame["level"].map(LEVELS).fillna(WHOLE_LEVEL).to_numpy(dtype=np.int64)
    return np.where(frame["unit"].to_numpy() == "all", WHOLE_LEVEL, level)


def costs(frame: pd.DataFrame, values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per count (three a row: numerator, denominator, not due), the cost of withholding it."""
    sizes = (
        pd.Series(values[1::3])
        .groupby([frame["level"].to_numpy(), frame["unit"].to_numpy(), frame["period"].to_numpy()])
        .transform("max")
        .to_numpy(dtype=float)
    )
    row = levels(frame) * STEP + np.nan_to_num(sizes) * SIZE
    return np.repeat(row, 3) + np.where(values == 0, ZERO, values)


def level_of(cost: float) -> int:
    """The level a cost was given for."""
    return int((cost % ZERO) // STEP)
