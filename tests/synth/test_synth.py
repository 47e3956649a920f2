"""Synthetic national data: deterministic, valid by the project's own rules, realistic."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from flsdb.ingest import validate_file
from flsdb.synth import SyntheticStream, generate, write_upload_files

AS_OF = dt.date(2026, 1, 31)


def test_same_seed_same_data_and_other_seed_differs() -> None:
    a = generate(services=10, records=2000, seed=7, history_years=1, as_of=dt.date(2026, 1, 31))
    b = generate(services=10, records=2000, seed=7, history_years=1, as_of=dt.date(2026, 1, 31))
    c = generate(services=10, records=2000, seed=8, history_years=1, as_of=dt.date(2026, 1, 31))
    assert a.records.equals(b.records) and a.services.equals(b.services)
    assert not a.records.equals(c.records)


def test_national_data_passes_validation_and_looks_national(tmp_path: Path) -> None:
    data = generate(
        services=77, records=20_000, year=2024, seed=1, history_years=2, as_of=dt.date(2026, 1, 31)
    )
    services_path, records_path = write_upload_files(data, tmp_path)
    services = validate_file(services_path, "services")
    assert services.ok
    assert services.frame.height == 77
    nations = services.frame["nation"].value_counts().sort("nation")["count"].to_list()
    assert nations[1] >= 7  # every Welsh health board has an FLS
    checked = validate_file(
        records_path,
        "records",
        known_services=set(services.frame["service_code"]),
        upload_date=dt.date(2026, 1, 31),
    )
    assert checked.ok, checked.issues.errors().head(5)
    frame = checked.frame
    in_year = frame.filter(pl.col("date_fracture_diagnosed").dt.year() == 2024)
    assert in_year.height == 20_000
    assert frame["date_fracture_diagnosed"].dt.year().unique().sort().to_list() == [
        2022,
        2023,
        2024,
    ]
    spine_share = (in_year["fracture_site"] == "spine").mean()
    assert 0.06 <= spine_share <= 0.18
    female = (in_year["sex"] == "female").mean()
    assert 0.7 <= female <= 0.8
    per_service = in_year.group_by("service_code").len()
    assert per_service.height == 77
    assert frame["date_followup_52w"].max() <= dt.date(2026, 1, 31)


def test_the_years_since_run_to_the_day_with_open_follow_ups_unrecorded() -> None:
    """The demo's current records: drawn per year from their own seed and cut at the day, so
    the audit year's data do not change and a later day keeps the earlier patients."""
    through = dt.date(2026, 11, 26)
    base = generate(services=8, records=2000, seed=3, history_years=1)
    data = generate(services=8, records=2000, seed=3, history_years=1, current_through=through)
    years = data.records["date_fracture_diagnosed"].dt.year()
    assert data.records.filter(years <= 2024).equals(base.records)
    assert sorted(years.unique().to_list()) == [2023, 2024, 2025, 2026]
    assert data.records["date_fracture_diagnosed"].max() <= through
    assert data.records["nhs_number"].n_unique() == data.records.height
    later = generate(
        services=8, records=2000, seed=3, history_years=1, current_through=through.replace(day=27)
    )
    keys = ["nhs_number", "date_fracture_diagnosed"]
    assert data.records.select(keys).join(later.records.select(keys), on=keys).height == (
        data.records.height
    )
    recent = data.records.filter(years == 2026)
    days = (pl.lit(through) - pl.col("date_fracture_diagnosed")).dt.total_days()
    # A 16-week follow-up is recorded (yes, no or not known) only once done or its window shut.
    open_window = recent.filter(days < 140)
    assert open_window.filter(pl.col("followup_16w").is_in(["no", "not_known"])).height == 0
    assert open_window.filter(pl.col("followup_16w").is_null()).height > 0
    assert recent.filter((days >= 140) & pl.col("followup_16w").is_in(["no", "not_known"])).height
    assert recent["date_followup_16w"].max() <= through


def test_records_stream_in_chunks_to_parquet_and_csv(tmp_path: Path) -> None:
    """Chunk by chunk (each chunk pulled as the writer needs it), the same records in the same
    order as the CSV, patients distinct across chunks, and every record valid."""
    import pyarrow.parquet as pq

    from flsdb.synth import stream, write_records

    def made() -> SyntheticStream:
        return stream(
            services=10, records=2500, seed=5, history_years=1, as_of=AS_OF, chunk_records=1000
        )

    written: list[int] = []
    parquet = write_records(made().chunks, tmp_path / "records.parquet", written.append)
    csv = write_records(made().chunks, tmp_path / "records.csv")
    made().services.write_csv(tmp_path / "services.csv")
    assert written == [1000, 1000, 300, 1000, 1000, 500]  # 2,300 then 2,500 records
    assert pq.ParquetFile(parquet).metadata.created_by.startswith("DuckDB")
    from_parquet = pl.read_parquet(parquet)
    assert from_parquet.height == 4800
    from_csv = pl.read_csv(csv, infer_schema=False)
    assert from_parquet["nhs_number"].to_list() == from_csv["nhs_number"].to_list()
    assert from_parquet["nhs_number"].n_unique() == 4800
    checked = validate_file(
        csv,
        "records",
        known_services=set(made().services["service_code"]),
        upload_date=AS_OF,
    )
    assert checked.ok, checked.issues.errors().head(5)
    typed = checked.frame.select(from_parquet.columns).with_columns(
        [pl.col(c).cast(pl.String) for c, t in checked.frame.schema.items() if t == pl.Enum]
    )
    assert typed.cast(from_parquet.schema).equals(from_parquet)
