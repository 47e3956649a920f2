"""Options several commands share, and parsing of their values (no heavy imports here: every
command's --help must answer at once)."""

from __future__ import annotations

import datetime as dt
import enum
from pathlib import Path
from typing import Annotated

import typer

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL or SQLite file (default: $FLSDB_DATABASE_URL or ./flsdb.db).",
        show_default=False,
    ),
]
PeriodOption = Annotated[
    str, typer.Option("--period", help="2024, 2024-Q1 or 2024-03.", show_default=False)
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Extract date YYYY-MM-DD (default: today); follow-ups not yet due are left out.",
        show_default=False,
    ),
]
RecordsOption = Annotated[
    Path | None,
    typer.Option(
        "--records",
        help="Records file (CSV, XLSX or an flsdb Parquet extract) instead of the database.",
    ),
]
ServicesOption = Annotated[
    Path | None, typer.Option("--services", help="Services file to go with --records.")
]
ErrorsOption = Annotated[
    Path | None, typer.Option("--errors", help="Write every error and warning to this CSV file.")
]
UserOption = Annotated[
    str | None, typer.Option("--user", help="Who is uploading (default: the login name).")
]
SheetOption = Annotated[
    str | None,
    typer.Option(
        "--sheet",
        help="XLSX: the sheet to upload (default: the first; a file with data on more than one "
        "sheet needs this).",
        show_default=False,
    ),
]
MaxSizeOption = Annotated[
    int,
    typer.Option(
        "--max-size",
        help="The largest upload file accepted, in MB.",
        min=1,
    ),
]
ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="How the file is laid out: flsdb (its own format, the default) or fls-db (the "
        "national FLS-DB export); 'flsdb profile detect FILE' says which fits.",
        show_default=False,
    ),
]
ServiceOption = Annotated[
    str | None,
    typer.Option(
        "--service",
        help="The FLS the file's records belong to, for a file without a service_code column "
        "(a national FLS-DB export holds one FLS's records).",
        show_default=False,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Thresholds file (YAML, the shape of 'flsdb thresholds'): RAG, suppression, "
        "caseload rates, funnel and SPC settings (default: the packaged thresholds).",
    ),
]


class FunnelMethod(enum.StrEnum):
    wilson = "wilson"
    arcsine = "arcsine"
    exact = "exact"


class Overdispersion(enum.StrEnum):
    none = "none"
    multiplicative = "multiplicative"
    additive = "additive"


def parse_date(text: str | None, option: str) -> dt.date:
    """A YYYY-MM-DD option value (today when not given)."""
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"'{text}' is not a date; use YYYY-MM-DD (for example 2026-01-31)", param_hint=option
        ) from None
