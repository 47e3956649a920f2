"""One FLS's synthetic records (2023 and 2024) in flsdb's format, with the drug combinations,
outcomes and labels the national export has, to write in both layouts."""

from __future__ import annotations

import datetime as dt
import tempfile
from functools import cache
from pathlib import Path

import polars as pl

from tests.profiles.national import NG249

AS_OF = dt.date(2026, 1, 31)
SERVICE = "NAT01"  # the largest FLS of the synthetic data below, renamed


@cache
def _generated() -> tuple[bytes, pl.DataFrame]:
    """Synthetic services (the file's bytes) and records (as text), the largest FLS's code made
    SERVICE (the synthetic data's order of FLSs differs between runs). Written as the upload
    files are, into a folder removed at once (each test writes the services where it needs
    them: `services_file`)."""
    from flsdb.synth import generate, write_upload_files

    data = generate(services=3, records=600, year=2024, seed=3, history_years=1, as_of=AS_OF)
    largest = data.records["service_code"].value_counts(sort=True)["service_code"][0]
    rename = pl.col("service_code").replace(largest, SERVICE)
    renamed = type(data)(
        services=data.services.with_columns(rename),
        records=data.records.with_columns(rename),
        as_of=data.as_of,
    )
    with tempfile.TemporaryDirectory(prefix="flsdb-national-") as folder:
        services, records = write_upload_files(renamed, Path(folder))
        return services.read_bytes(), pl.read_csv(records, infer_schema=False)


def services_file(folder: Path) -> Path:
    """The services file, written into `folder`."""
    path = folder / "services.csv"
    path.write_bytes(_generated()[0])
    return path


@cache
def records() -> tuple[dict[str, str], ...]:
    """The FLS's records as text, NG249 answers blank (the national export has none), and a few
    changed to hold what the national export writes: two drugs in one cell, HRT, every outcome."""
    frame = (
        _generated()[1]
        .filter(pl.col("service_code") == SERVICE)
        .sort(["date_fracture_diagnosed", "nhs_number"])
    )
    frame = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in NG249)
    rows = [{k: v or "" for k, v in row.items()} for row in frame.iter_rows(named=True)]
    changes = [
        {"bone_therapy_recommended": "alendronate;denosumab"},
        {"bone_therapy_recommended": "hrt", "bone_therapy_at_presentation": "hrt"},
        {"bone_therapy_recommended": "referred_clinical_opinion"},
        {"bone_therapy_recommended": "referred_to_gp"},
        {"followup_16w": "yes", "bone_therapy_16w": "referred_clinical_opinion"},
        {"followup_16w": "yes", "bone_therapy_16w": "no_longer_appropriate"},
        {"followup_16w": "yes", "bone_therapy_16w": "zoledronate;alfacalcidol"},
        {"fracture_type": "incidental_vertebral", "dxa": "not_ordered"},
        {"dxa": "not_ordered", "dxa_not_ordered_reason": "treat_without_dxa"},
    ]
    for row, change in zip(rows[::7], changes, strict=False):
        if change.get("followup_16w") and not row["date_followup_16w"]:
            fracture = dt.date.fromisoformat(row["date_fracture_diagnosed"])
            change = {**change, "date_followup_16w": str(fracture + dt.timedelta(days=100))}
        if change.get("dxa") == "not_ordered":
            change = {**change, "date_dxa": "", "t_score": ""}
        row.update(change)
    return tuple(rows)


def of_year(year: int) -> list[dict[str, str]]:
    return [dict(r) for r in records() if r["date_fracture_diagnosed"].startswith(str(year))]
