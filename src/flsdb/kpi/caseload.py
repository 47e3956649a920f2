"""Expected caseload per FLS (the denominator of kpi02), with a swappable estimator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import pandas as pd

if TYPE_CHECKING:
    from flsdb.config import Thresholds


class CaseloadEstimator(Protocol):
    """Gives expected spine and non-spine fractures a year for each service."""

    @property
    def description(self) -> str: ...

    @property
    def summary(self) -> str:
        """A few words for a page header."""
        ...

    def estimate(self, services: pd.DataFrame) -> pd.DataFrame:
        """Columns service_code, expected_spine, expected_non_spine, caseload_source."""
        ...


@dataclass(frozen=True)
class CrudeRateEstimator:
    """Given figures where present; else a crude rate of the population aged 50+.

    Default: 1.5% a year (about 347,770 fractures over 23 million people aged 50+ in England and
    Wales), 20% of them spine fractures; both come from the thresholds file.
    """

    rate: float = 0.015
    spine_share: float = 0.20

    @classmethod
    def from_thresholds(cls, thresholds: Thresholds) -> CrudeRateEstimator:
        return cls(thresholds.caseload.rate, thresholds.caseload.spine_share)

    @property
    def description(self) -> str:
        return (
            "expected_spine and expected_non_spine from the services file where given; otherwise "
            f"{self.rate:.2%} of population_50plus a year, {self.spine_share:.0%} of it spine "
            "fractures"
        )

    @property
    def words(self) -> str:
        """The method for readers of a report: labels, not column names."""
        return (
            "the expected spine and non-spine fracture caseloads an FLS gives in the services "
            f"file; where it gives none, {self.rate:.1%} of its population aged 50 and over a "
            f"year, {self.spine_share:.0%} of them spine fractures"
        )

    @property
    def summary(self) -> str:
        return (
            f"services file, else {self.rate:.1%} of population 50+ ({self.spine_share:.0%} spine)"
        )

    def estimate(self, services: pd.DataFrame) -> pd.DataFrame:
        population = services["population_50plus"].astype("Float64")
        estimated_total = population * self.rate
        spine = (
            services["expected_spine"].astype("Float64").fillna(estimated_total * self.spine_share)
        )
        non_spine = (
            services["expected_non_spine"]
            .astype("Float64")
            .fillna(estimated_total * (1 - self.spine_share))
        )
        given = services["expected_spine"].notna() & services["expected_non_spine"].notna()
        source = pd.Series("estimated from population_50plus", index=services.index)
        source[given] = "given"
        source[spine.isna() | non_spine.isna()] = "unknown"
        return pd.DataFrame(
            {
                "service_code": services["service_code"],
                "expected_spine": spine,
                "expected_non_spine": non_spine,
                "caseload_source": source,
            }
        )
