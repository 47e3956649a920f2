"""Pseudonymised extracts for national analysts: one row per record, nothing that identifies a
patient.

- `pseudonym`: HMAC-SHA256 of the NHS number under a key kept outside the extract (the same
  patient has the same pseudonym in every extract made with the same key, and no one without the
  key can link it back);
- `age_band` instead of the date of birth; `postcode_district` (the outward code) instead of
  the postcode;
- `fracture_month` instead of the fracture date, and every other date as days from the fracture.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
from pathlib import Path
from typing import Any

import polars as pl

from flsdb.dictionary import load_dictionary
from flsdb.errors import ConfigurationError
from flsdb.kpi import parse_period
from flsdb.kpi.sources import source_from_database
from flsdb.services.access import authorize
from flsdb.services.events import record_event
from flsdb.sheets import csv_frame
from flsdb.storage.offsets import DAY_OFFSETS, offset_column

KEY_ENV = "FLSDB_PSEUDONYM_KEY"
MIN_KEY = 32
FRACTURE = "date_fracture_diagnosed"
AGE_BANDS = ((65, "50-64"), (75, "65-74"), (85, "75-84"))


NO_KEY = (
    "This server has no pseudonym key, so it cannot make pseudonymised extracts: ask whoever "
    "runs it to set a secret key of at least {n} characters (FLSDB_PSEUDONYM_KEY) and restart it."
)


def pseudonym_key(key_file: Path | None = None, *, command: bool = False) -> bytes:
    """The key: from `key_file`, else $FLSDB_PSEUDONYM_KEY; refused when missing or short (the
    command line's refusal names its option, the web's does not)."""
    if key_file is not None:
        try:
            text = key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(
                f"Cannot read the key file {key_file}: {exc.strerror}."
            ) from None
    else:
        text = os.environ.get(KEY_ENV, "").strip()
    if len(text) < MIN_KEY and not command:
        raise ConfigurationError(NO_KEY.format(n=MIN_KEY))
    if len(text) < MIN_KEY:
        raise ConfigurationError(
            f"A pseudonymised extract needs a secret key of at least {MIN_KEY} characters, in "
            f"${KEY_ENV} or a file given with --key-file; keep it safe and apart from the extract."
        )
    return text.encode()


def _digest(key: bytes) -> Any:
    def one(number: str | None) -> str | None:
        if number is None:
            return None
        return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()

    return one


def pseudonymise(records: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """The extract of typed records (the store's columns)."""
    dictionary = load_dictionary()
    identifying = {f.name for f in dictionary.records if f.identifiable}
    dates = [f.name for f in dictionary.records if f.type == "date" and f.name not in identifying]
    fracture = pl.col(FRACTURE)
    birth = pl.col("date_of_birth")
    age = (
        fracture.dt.year()
        - birth.dt.year()
        - (
            (fracture.dt.month() * 100 + fracture.dt.day())
            < (birth.dt.month() * 100 + birth.dt.day())
        ).cast(pl.Int32)
    )
    band: Any = pl.when(age.is_null()).then(None)
    for limit, label in AGE_BANDS:
        band = band.when(age < limit).then(pl.lit(label))
    kept = [
        c
        for c in records.columns
        if c not in identifying
        and c not in dates
        and c not in ("id", "version", "import_id", "created_at", "updated_at")
        and c not in DAY_OFFSETS  # the stored gaps: computed below, for every date alike
    ]
    return records.select(
        pl.col("nhs_number").map_elements(_digest(key), return_dtype=pl.String).alias("pseudonym"),
        band.otherwise(pl.lit("85+")).alias("age_band"),
        pl.col("postcode").str.split(" ").list.first().alias("postcode_district"),
        fracture.dt.strftime("%Y-%m").alias("fracture_month"),
        *[pl.col(c) for c in kept],
        *[
            (pl.col(c) - fracture).dt.total_days().alias(offset_column(c))
            for c in dates
            if c != FRACTURE
        ],
    ).sort(["fracture_month", "service_code", "pseudonym"])


def read_period(
    database_url: str, start: Any, end: Any, service: str | None = None
) -> pl.DataFrame:
    """The stored records diagnosed in [start, end] (of one FLS when named), typed."""
    source = source_from_database(database_url)
    table = source.table
    chosen = table.filter((table[FRACTURE] >= start) & (table[FRACTURE] <= end))
    if service is not None:
        chosen = chosen.filter(chosen["service_code"] == service)
    frame = chosen.to_polars()
    for column, kind in frame.schema.items():
        spec = load_dictionary().record_fields.get(column)
        if spec is not None and spec.type == "date" and kind == pl.String:
            frame = frame.with_columns(pl.col(column).str.slice(0, 10).str.to_date("%Y-%m-%d"))
    return frame


def extract_csv(frame: pl.DataFrame) -> str:
    """The extract as CSV: whole numbers stay whole (a day offset is 43, never 43.0, blanks
    beside it or not) and text that could run as a formula is made inert."""
    text: str = csv_frame(frame.to_pandas(use_pyarrow_extension_array=True)).to_csv(index=False)
    return text


def write_extract(frame: pl.DataFrame, path: Path) -> Path:
    """CSV or Parquet by the file's suffix."""
    if path.suffix.lower() == ".parquet":
        frame.write_parquet(path)
    else:
        path.write_text(extract_csv(frame), encoding="utf-8")
    return path


def extract_bytes(frame: pl.DataFrame, format: str) -> tuple[bytes, str]:
    """The extract's bytes in `format` (csv or parquet) and their media type."""
    if format == "parquet":
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        return buffer.getvalue(), "application/vnd.apache.parquet"
    return extract_csv(frame).encode(), "text/csv"


def extract_for(
    database_url: str, engine: Any, actor: Any, period_text: str, key: bytes
) -> pl.DataFrame:
    """A national analyst's extract of a period, recorded in the access log."""
    authorize(actor, "extract_pseudonymised")
    period = parse_period(period_text)
    frame = pseudonymise(read_period(database_url, period.start, period.end), key)
    record_event(
        engine,
        actor.username,
        "export_pseudonymised",
        detail=f"{period.label}: {frame.height} records",
    )
    return frame
