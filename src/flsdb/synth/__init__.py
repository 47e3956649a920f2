"""Synthetic national data in the upload format: the demo data and the benchmark data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from flsdb.synth.records import make_records, nhs_numbers
from flsdb.synth.services import SERVICE_COLUMNS, make_services

__all__ = ["SyntheticData", "generate", "write_upload_files"]

# Volume of each earlier year relative to the audit year (identification improves over time).
HISTORY_GROWTH = 0.92


@dataclass(frozen=True)
class SyntheticData:
    services: pl.DataFrame
    records: pl.DataFrame
    as_of: dt.date


def default_as_of(year: int, today: dt.date | None = None) -> dt.date:
    """The extract date: end of January two years on (every follow-up due), never after today."""
    return min(dt.date(year + 2, 1, 31), today or dt.date.today())


def generate(
    services: int = 77,
    records: int = 83_500,
    year: int = 2024,
    seed: int = 1,
    history_years: int = 2,
    as_of: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
    current_through: dt.date | None = None,
) -> SyntheticData:
    """`records` records diagnosed in `year` across `services` FLSs, plus earlier years; with
    `current_through`, also the years after `year` up to that day (see `_current_years`)."""
    rng = np.random.default_rng(seed)
    as_of = as_of or default_as_of(year)
    table = make_services(rng, services)
    expected = table["population_50plus"].to_numpy() * 0.015
    weights = expected * table["p_identification"].to_numpy()
    counts = [round(records * HISTORY_GROWTH**offset) for offset in range(history_years, -1, -1)]
    numbers = nhs_numbers(rng, sum(counts))
    frames = []
    used = 0
    for offset, wanted in zip(range(history_years, -1, -1), counts, strict=True):
        this_year = year - offset
        per_service = rng.multinomial(wanted, weights / weights.sum())
        end = min(dt.date(this_year, 12, 31), as_of)
        frames.append(
            make_records(
                rng,
                table,
                per_service,
                dt.date(this_year, 1, 1),
                end,
                as_of,
                numbers[used : used + wanted],
            )
        )
        used += wanted
        if progress:
            progress(wanted)
    if current_through is not None:
        frames.extend(_current_years(table, weights, records, year, seed, current_through, numbers))
    all_records = pl.concat(frames)
    return SyntheticData(table.select(SERVICE_COLUMNS), all_records, as_of)


def _current_years(
    table: pl.DataFrame,
    weights: np.ndarray,
    records: int,
    year: int,
    seed: int,
    through: dt.date,
    taken: np.ndarray,
) -> list[pl.DataFrame]:
    """The records of each year after the audit year, diagnosed up to `through` and recorded as
    far as `through` (follow-ups still in their window are not yet recorded): what an FLS holds
    today, for its worklists. Each year is drawn whole from its own seed and cut at `through`, so
    a later run keeps the same patients and adds the newer ones."""
    frames = []
    for this_year in range(year + 1, through.year + 1):
        rng = np.random.default_rng([seed, this_year])
        per_service = rng.multinomial(records, weights / weights.sum())
        numbers = nhs_numbers(rng, records + len(taken))
        numbers = numbers[~np.isin(numbers, taken)][:records]
        taken = np.concatenate([taken, numbers])
        cohort = make_records(
            rng,
            table,
            per_service,
            dt.date(this_year, 1, 1),
            dt.date(this_year, 12, 31),
            through,
            numbers,
        )
        frames.append(cohort.filter(pl.col("date_fracture_diagnosed") <= through))
    return frames


def write_upload_files(data: SyntheticData, out: Path) -> tuple[Path, Path]:
    """Write services.csv and records.csv in the upload format."""
    out.mkdir(parents=True, exist_ok=True)
    services_path = out / "services.csv"
    records_path = out / "records.csv"
    data.services.write_csv(services_path)
    data.records.write_csv(records_path, date_format="%Y-%m-%d")
    return services_path, records_path
