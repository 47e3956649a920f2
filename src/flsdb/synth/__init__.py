"""Synthetic national data in the upload format: the demo data and the benchmark data.

Records are made in chunks of at most `CHUNK_RECORDS`, so that ten million of them can be
written (CSV, or Parquet row group by row group) in bounded memory; data that fits in one chunk
is the same as when it was made whole.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from flsdb.storage.parquet import write_frames
from flsdb.synth.records import make_records, nhs_numbers
from flsdb.synth.services import SERVICE_COLUMNS, make_services

__all__ = [
    "RECORD_FORMATS",
    "SyntheticData",
    "SyntheticStream",
    "generate",
    "stream",
    "write_records",
    "write_upload_files",
]

# Volume of each earlier year relative to the audit year (identification improves over time).
HISTORY_GROWTH = 0.92
# Records made at once (working memory grows with it: about 2.5 KB a record).
CHUNK_RECORDS = 250_000
RECORD_FORMATS = ("csv", "parquet")


@dataclass(frozen=True)
class SyntheticData:
    services: pl.DataFrame
    records: pl.DataFrame
    as_of: dt.date


@dataclass(frozen=True)
class SyntheticStream:
    """The services, and the records as chunks made on demand (once)."""

    services: pl.DataFrame
    chunks: Iterator[pl.DataFrame]
    as_of: dt.date


def default_as_of(year: int, today: dt.date | None = None) -> dt.date:
    """The extract date: end of January two years on (every follow-up due), never after today."""
    return min(dt.date(year + 2, 1, 31), today or dt.date.today())


def stream(
    services: int = 77,
    records: int = 83_500,
    year: int = 2024,
    seed: int = 1,
    history_years: int = 2,
    as_of: dt.date | None = None,
    chunk_records: int = CHUNK_RECORDS,
    current_through: dt.date | None = None,
) -> SyntheticStream:
    """`records` records diagnosed in `year` across `services` FLSs, plus earlier years (and
    with `current_through` the years since, see `_current_years`), made chunk by chunk."""
    rng = np.random.default_rng(seed)
    as_of = as_of or default_as_of(year)
    table = make_services(rng, services)
    counts = [round(records * HISTORY_GROWTH**offset) for offset in range(history_years, -1, -1)]
    # Every patient number drawn first (8 bytes each), so they stay distinct across chunks.
    numbers = nhs_numbers(rng, sum(counts))
    chunks = _chunks(rng, table, counts, year, as_of, numbers, chunk_records)
    if current_through is not None:
        later = _current_years(table, records, year, seed, current_through, numbers)
        chunks = itertools.chain(chunks, later)
    return SyntheticStream(table.select(SERVICE_COLUMNS), chunks, as_of)


def _chunks(
    rng: np.random.Generator,
    table: pl.DataFrame,
    counts: list[int],
    year: int,
    as_of: dt.date,
    numbers: np.ndarray,
    chunk_records: int,
) -> Iterator[pl.DataFrame]:
    expected = table["population_50plus"].to_numpy() * 0.015
    weights = expected * table["p_identification"].to_numpy()
    used = 0
    for offset, wanted in zip(range(len(counts) - 1, -1, -1), counts, strict=True):
        this_year = year - offset
        end = min(dt.date(this_year, 12, 31), as_of)
        left = wanted
        while left > 0:
            size = min(left, chunk_records)
            per_service = rng.multinomial(size, weights / weights.sum())
            yield make_records(
                rng,
                table,
                per_service,
                dt.date(this_year, 1, 1),
                end,
                as_of,
                numbers[used : used + size],
            )
            used += size
            left -= size


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
    """`records` records diagnosed in `year` across `services` FLSs, plus earlier years, in
    memory; with `current_through`, also the years after `year` up to that day (see
    `_current_years`)."""
    made = stream(
        services, records, year, seed, history_years, as_of, current_through=current_through
    )
    frames = []
    for chunk in made.chunks:
        frames.append(chunk)
        if progress:
            progress(chunk.height)
    return SyntheticData(made.services, pl.concat(frames), made.as_of)


def _current_years(
    table: pl.DataFrame,
    records: int,
    year: int,
    seed: int,
    through: dt.date,
    taken: np.ndarray,
) -> Iterator[pl.DataFrame]:
    """The records of each year after the audit year, diagnosed up to `through` and recorded as
    far as `through` (follow-ups still in their window are not yet recorded): what an FLS holds
    today, for its worklists. Each year is drawn whole from its own seed and cut at `through`, so
    a later run keeps the same patients and adds the newer ones (a demo's few years: each is
    made whole)."""
    expected = table["population_50plus"].to_numpy() * 0.015
    weights = expected * table["p_identification"].to_numpy()
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
        yield cohort.filter(pl.col("date_fracture_diagnosed") <= through)


def write_upload_files(data: SyntheticData, out: Path) -> tuple[Path, Path]:
    """Write services.csv and records.csv in the upload format."""
    out.mkdir(parents=True, exist_ok=True)
    services_path = out / "services.csv"
    data.services.write_csv(services_path)
    return services_path, write_records([data.records], out / "records.csv")


def write_records(
    chunks: Iterable[pl.DataFrame], path: Path, progress: Callable[[int], None] | None = None
) -> Path:
    """Write records chunk by chunk, by the file's suffix: .csv in the upload format, or
    .parquet, an flsdb extract (typed columns, streamed through DuckDB) that `flsdb kpis
    --records` takes as already validated."""
    records_format = path.suffix.lower().lstrip(".")
    if records_format not in RECORD_FORMATS:
        raise ValueError(f"records are written as {' or '.join(RECORD_FORMATS)}, not {path.name}")
    if records_format == "csv":
        with path.open("wb") as handle:
            for number, chunk in enumerate(chunks):
                chunk.write_csv(handle, include_header=number == 0, date_format="%Y-%m-%d")
                if progress:
                    progress(chunk.height)
        return path

    return write_frames(chunks, path, progress)
