"""The `kpis` command: compute KPIs from the store or from files, as a table, CSV or JSON."""

from __future__ import annotations

import datetime as dt
import enum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from flsdb.cli.console import err, out
from flsdb.cli.data import DbOption
from flsdb.errors import ConfigurationError
from flsdb.kpi import KpiRequest, KpiResult, compute_kpis, parse_period
from flsdb.kpi.sources import RecordSource, source_from_database, source_from_files
from flsdb.reports.kpi_tables import RAG_COLOURS, kpi_csv, kpi_json


class Level(enum.StrEnum):
    service = "service"
    region = "region"
    nation = "nation"
    age_band = "age_band"
    sex = "sex"
    care_home = "care_home"


class Interval(enum.StrEnum):
    quarter = "quarter"
    month = "month"


class Format(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def parse_date(text: str | None, option: str) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"'{text}' is not a date; use YYYY-MM-DD", param_hint=option
        ) from None


def kpi_rich_table(table: pd.DataFrame, title: str) -> Table:
    """The long KPI table for the terminal, RAG in colour."""
    shown = Table(title=title)
    for column in (
        "unit",
        "period",
        "kpi",
        "numerator",
        "denominator",
        "percent",
        "95% CI",
        "rag",
        "not due",
    ):
        shown.add_column(column, justify="left" if column in ("unit", "period", "kpi") else "right")
    for row in table.to_dict("records"):
        ci = "" if row["ci_low"] is None else f"{row['ci_low']:.1f}-{row['ci_high']:.1f}"
        rag = "" if row["rag"] is None else f"[{RAG_COLOURS[str(row['rag'])]}]{row['rag']}[/]"
        shown.add_row(
            str(row["unit"]),
            str(row["period"]),
            str(row["kpi"]),
            _number(row["numerator"]),
            _number(row["denominator"]),
            "" if row["percent"] is None else f"{row['percent']:.1f}",
            ci,
            rag,
            _number(row["not_due"]),
        )
    return shown


def _number(value: object) -> str:
    if value is None:
        return ""
    number = float(str(value))
    return f"{int(number)}" if number.is_integer() else f"{number:.1f}"


def kpis(
    period: Annotated[str, typer.Option(help="2024, 2024-Q1 or 2024-03.")],
    by: Annotated[Level, typer.Option(help="Level of the rows.")] = Level.service,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Extract date YYYY-MM-DD (default: today); follow-ups not yet due are left out.",
        ),
    ] = None,
    interval: Annotated[
        Interval | None, typer.Option(help="Split the period into quarters or months.")
    ] = None,
    kpi: Annotated[
        list[str] | None, typer.Option("--kpi", help="Only these KPIs (repeatable).")
    ] = None,
    service: Annotated[
        list[str] | None, typer.Option("--service", help="Only these services (repeatable).")
    ] = None,
    output_format: Annotated[
        Format, typer.Option("--format", help="Output format.")
    ] = Format.table,
    output: Annotated[
        Path | None, typer.Option("--out", help="Write to this file instead of stdout.")
    ] = None,
    records: Annotated[
        Path | None,
        typer.Option(
            "--records",
            help="Records file (CSV, XLSX or an flsdb Parquet extract) instead of the database.",
        ),
    ] = None,
    services: Annotated[
        Path | None, typer.Option("--services", help="Services file to go with --records.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Compute the KPIs per service, region or nation (or by age band, sex, care home)."""
    request = KpiRequest(
        period=parse_period(period),
        by=by.value,
        as_of=parse_date(as_of, "--as-of"),
        interval=interval.value if interval else None,
        kpis=tuple(k.lower() for k in kpi) if kpi else None,
        services=tuple(s.upper() for s in service) if service else None,
    )
    source = open_source(records, services, db)
    result = compute_kpis(source, request)
    emit(result, output_format, output)


def open_source(records: Path | None, services: Path | None, db: str | None) -> RecordSource:
    if (records is None) != (services is None):
        raise ConfigurationError("--records and --services go together")
    if records is not None and services is not None:
        return source_from_files(records, services)
    return source_from_database(db)


def emit(result: KpiResult, output_format: Format, output: Path | None) -> None:
    request = result.request
    err.print(
        f"{result.records} records in {request.period.label}, as of {request.as_of:%Y-%m-%d}; "
        f"caseload: {result.caseload_method}."
    )
    if output_format is Format.table:
        table = kpi_rich_table(result.table, f"KPIs by {request.by}, {request.period.label}")
        if output is not None:
            output.write_text(kpi_csv(result.table), encoding="utf-8")
            err.print(f"wrote {output}")
        else:
            out.print(table)
        return
    text = kpi_json(result.table) if output_format is Format.json else kpi_csv(result.table)
    if output is None:
        typer.echo(text, nl=output_format is Format.json)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}")
