"""Synthetic FLSs: placed in real English ICBs and Welsh health boards, each with its own
performance profile drawn around the published national figures (spec section 1)."""

from __future__ import annotations

from importlib import resources

import numpy as np
import polars as pl
import yaml

# Published national figures (England, Wales) that per-FLS performance varies around.
NATIONAL_MEANS = {
    "assessed_90d": (0.64, 0.81),
    "dxa_90d": (0.35, 0.20),
    "followup_16w": (0.28, 0.38),
    "recommend_aom": (0.45, 0.45),
    "falls_assessment": (0.60, 0.65),
    "ng249_asked": (0.55, 0.60),
    "followup_52w": (0.25, 0.30),
    "strength_balance": (0.35, 0.35),
    "identification": (0.45, 0.50),
}
# Beta concentration: low values spread FLSs widely (some near 0%, some above 90%).
SPREAD = 3.5


def load_regions() -> list[tuple[str, str, str, int]]:
    text = resources.files("flsdb.synth").joinpath("geography.yaml").read_text("utf-8")
    return [(str(c), str(n), str(x), int(p)) for c, n, x, p in yaml.safe_load(text)["regions"]]


def _beta_around(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    mean = np.clip(mean, 0.02, 0.98)
    return rng.beta(mean * SPREAD, (1 - mean) * SPREAD)


def make_services(rng: np.random.Generator, count: int) -> pl.DataFrame:
    """`count` FLSs with catchments, expected caseloads and performance profiles.

    About 10% of FLSs are Welsh (every health board has at least one when count allows);
    the rest go to ICBs weighted by population, so some ICBs have several FLSs and some none.
    """
    regions = load_regions()
    welsh = [r for r in regions if r[2] == "wales"]
    english = [r for r in regions if r[2] == "england"]
    n_wales = min(len(welsh), max(1, round(count * 0.1))) if count > 1 else 0
    chosen = [welsh[i] for i in range(n_wales)]
    weights = np.array([r[3] for r in english], dtype=float)
    picks = rng.choice(len(english), size=count - n_wales, p=weights / weights.sum())
    chosen += [english[i] for i in sorted(picks)]
    rows = []
    seen: dict[str, int] = {}
    for code, name, nation, population in chosen:
        seen[code] = seen.get(code, 0) + 1
        suffix = chr(ord("A") + seen[code] - 1)
        rows.append(
            (
                f"{code}{suffix}",
                f"{name.rsplit(' ', 1)[0]} FLS {suffix}",
                nation,
                code,
                name,
                population,
            )
        )
    frame = pl.DataFrame(
        rows,
        schema=[
            "service_code",
            "service_name",
            "nation",
            "region_code",
            "region_name",
            "region_pop_k",
        ],
        orient="row",
    )
    sites = frame.group_by("region_code").len().rename({"len": "sites"})
    frame = frame.join(sites, on="region_code", maintain_order="left")
    share = rng.uniform(0.6, 1.0, frame.height)
    population = frame["region_pop_k"].to_numpy() * 1000 / frame["sites"].to_numpy() * share
    population = np.round(population, -2).astype(np.int64)
    expected_total = population * 0.015
    given = rng.random(frame.height) < 0.7
    frame = frame.with_columns(
        population_50plus=pl.Series(population),
        expected_spine=pl.Series(np.where(given, np.round(expected_total * 0.2), np.nan))
        .cast(pl.Int64, strict=False)
        .fill_nan(None),
        expected_non_spine=pl.Series(np.where(given, np.round(expected_total * 0.8), np.nan))
        .cast(pl.Int64, strict=False)
        .fill_nan(None),
    )
    is_wales = (frame["nation"] == "wales").to_numpy()
    profile = {
        name: _beta_around(rng, np.where(is_wales, wales, england))
        for name, (england, wales) in NATIONAL_MEANS.items()
    }
    profile["spine_share"] = rng.uniform(0.06, 0.18, frame.height)
    profile["missingness"] = rng.uniform(0.0, 0.25, frame.height)
    return (
        frame.with_columns([pl.Series(f"p_{name}", values) for name, values in profile.items()])
        .drop("region_pop_k", "sites")
        .with_columns(synthetic=pl.lit("yes"))
    )


SERVICE_COLUMNS = (
    "service_code",
    "service_name",
    "nation",
    "region_code",
    "region_name",
    "expected_spine",
    "expected_non_spine",
    "population_50plus",
    "synthetic",
)
