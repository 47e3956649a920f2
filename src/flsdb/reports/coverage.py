"""Participation and coverage: which FLSs sent records, which ICBs and health boards have no FLS,
and the share of the population aged 50 and over that the FLSs taking part serve.

The regions of England and Wales and their populations aged 50+ are the packaged list of ICBs and
Welsh health boards (public ODS codes; populations approximate, in thousands), the same list the
synthetic data draws on. An FLS's catchment is its population_50plus from the services file;
where that is blank, its expected caseload divided by the caseload rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import pandas as pd
import yaml

if TYPE_CHECKING:
    from flsdb.figures import PeriodFigures


def all_regions() -> pd.DataFrame:
    """Every ICB and Welsh health board: region_code, region_name, nation, population_50plus."""
    text = resources.files("flsdb.synth").joinpath("geography.yaml").read_text("utf-8")
    rows = [
        {
            "region_code": str(c),
            "region_name": str(n),
            "nation": str(x),
            "population_50plus": int(p) * 1000,
        }
        for c, n, x, p in yaml.safe_load(text)["regions"]
    ]
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Coverage:
    services: int  # FLSs in the services file
    participating: int  # FLSs with records in the period
    regions: int  # ICBs and health boards in England and Wales
    regions_with_fls: int
    regions_without: tuple[str, ...]  # names, nation order
    population: float  # aged 50+, England and Wales
    covered: float  # aged 50+ in the catchments of FLSs with records
    estimated: int  # catchments estimated from the expected caseload

    @property
    def share(self) -> float:
        return self.covered / self.population * 100 if self.population else 0.0

    def sentences(self) -> list[str]:
        out = [
            f"{self.participating} of the {self.services} FLSs in the services file sent records "
            "for the period.",
            f"{self.regions_with_fls} of the {self.regions} ICBs and Welsh health boards have at "
            "least one FLS taking part in the audit"
            + (
                f"; {len(self.regions_without)} have none: {'; '.join(self.regions_without)}."
                if self.regions_without
                else "."
            ),
            f"The FLSs that sent records serve about {self.covered / 1e6:.1f} million people aged "
            f"50 and over, {self.share:.0f}% of the {self.population / 1e6:.1f} million in "
            "England and Wales"
            + (
                f" ({self.estimated} catchments estimated from the FLS's expected caseload)."
                if self.estimated
                else "."
            ),
        ]
        return out


def coverage(data: PeriodFigures) -> Coverage:
    regions = all_regions()
    services = data.services
    table = data.unsuppressed["service"]
    records = table[table["kpi"] == "kpi03"].set_index("unit")["denominator"].astype(float)
    taking_part = [c for c in services["service_code"] if records.get(c, 0) > 0]
    with_fls = set(services.loc[services["service_code"].isin(taking_part), "region_code"])
    known = set(regions["region_code"])
    without = regions[~regions["region_code"].isin(with_fls)].sort_values(["nation", "region_name"])
    covered, estimated = 0.0, 0
    if data.catchments is not None:
        rate = data.thresholds.caseload.rate
        catch = data.catchments.set_index("service_code")
        for code in taking_part:
            if code not in catch.index:
                continue
            row = catch.loc[code]
            population = pd.to_numeric(row.get("population_50plus"), errors="coerce")
            if pd.notna(population):
                covered += float(population)
                continue
            expected = pd.to_numeric(
                pd.Series([row.get("expected_spine"), row.get("expected_non_spine")]),
                errors="coerce",
            )
            if expected.notna().any() and rate:
                covered += float(expected.fillna(0).sum()) / rate
                estimated += 1
    # Regions in the services file but not in the packaged list count as regions too.
    extra = services[~services["region_code"].isin(known)]["region_code"].nunique()
    return Coverage(
        services=len(services),
        participating=len(taking_part),
        regions=len(regions) + extra,
        regions_with_fls=len(with_fls),
        regions_without=tuple(
            f"{n} ({c})"
            for c, n in zip(without["region_code"], without["region_name"], strict=True)
        ),
        population=float(regions["population_50plus"].sum()),
        covered=covered,
        estimated=estimated,
    )
