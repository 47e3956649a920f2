"""The `kpis` command: compute KPIs from the store or from files, as a table, CSV or JSON."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flsdb.cli.console import err, note, out, warn
from flsdb.cli.files import write_output
from flsdb.cli.options import (
    AsOfOption,
    ConfigOption,
    DbOption,
    PeriodOption,
    RecordsOption,
    ServicesOption,
    parse_date,
)
from flsdb.errors import ConfigurationError

if TYPE_CHECKING:
    import datetime as dt

    import pandas as pd
    from rich.table import Table

    from flsdb.kpi import KpiResult, Period, RecordSource


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


class Engine(enum.StrEnum):
    """Where KPIs over --records files run (a store's KPIs run in its own database)."""

    duckdb = "duckdb"
    spark = "spark"


EngineOption = Annotated[
    Engine | None,
    typer.Option(
        "--engine",
        help="Engine for --records files: duckdb (default; one machine, up to tens of millions "
        "of records) or spark (Apache Spark: a local session, or --spark-master). The database's "
        "own engine (SQLite, PostgreSQL) computes the KPIs of a store.",
        show_default=False,
    ),
]
SparkMasterOption = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="With --engine spark: local[*] (default), a cluster's master URL (spark://host:7077, "
        "yarn) or a Spark Connect URL (sc://host:15002).",
        show_default=False,
    ),
]


class Format(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def kpi_rich_table(table: pd.DataFrame, title: str) -> Table:
    """The long KPI table for the terminal, RAG in colour."""
    from rich.markup import escape
    from rich.table import Table

    from flsdb.reports.kpi_tables import RAG_COLOURS

    shown = Table(title=escape(title))
    for column in ("unit", "period", "kpi", "numerator", "denominator", "percent", "95% CI"):
        shown.add_column(column, justify="left" if column in ("unit", "period", "kpi") else "right")
    shown.add_column("rag")
    shown.add_column("not due", justify="right")
    for row in table.to_dict("records"):
        ci = "" if row["ci_low"] is None else f"{row['ci_low']:.1f}-{row['ci_high']:.1f}"
        rag = "" if row["rag"] is None else f"[{RAG_COLOURS[str(row['rag'])]}]{row['rag']}[/]"
        shown.add_row(
            escape(str(row["unit"])),
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
    if isinstance(value, str):
        return value
    number = float(str(value))
    return f"{int(number)}" if number.is_integer() else f"{number:.1f}"


def check_as_of(period: Period, as_of: dt.date) -> None:
    if as_of < period.end:
        warn(
            f"--as-of {as_of:%Y-%m-%d} is before the end of {period.label} "
            f"({period.end:%Y-%m-%d}): records diagnosed after it are counted, but none of their "
            "follow-up is due yet."
        )


def kpis(
    period: PeriodOption,
    by: Annotated[Level, typer.Option(help="Level of the rows.")] = Level.service,
    as_of: AsOfOption = None,
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
    records: RecordsOption = None,
    services: ServicesOption = None,
    engine: EngineOption = None,
    spark_master: SparkMasterOption = None,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Compute the KPIs per service, region or nation (or by age band, sex, care home)."""
    from flsdb.config import load_thresholds
    from flsdb.kpi import KpiRequest, compute_kpis, parse_period

    request = KpiRequest(
        period=parse_period(period),
        by=by.value,
        as_of=parse_date(as_of, "--as-of"),
        interval=interval.value if interval else None,
        kpis=tuple(k.strip().lower() for k in kpi) if kpi else None,
        services=tuple(s.strip().upper() for s in service) if service else None,
    )
    thresholds = load_thresholds(config)
    check_as_of(request.period, request.as_of)
    source = open_source(records, services, db, engine, spark_master)
    result = compute_kpis(source, request, thresholds=thresholds)
    if result.records == 0:
        warn(f"No records were diagnosed in {request.period.label}: every count is 0.")
    emit(result, output_format, output)


def open_source(
    records: Path | None,
    services: Path | None,
    db: str | None,
    engine: Engine | None = None,
    spark_master: str | None = None,
) -> RecordSource:
    from flsdb.kpi import source_from_database, source_from_files

    if (records is None) != (services is None):
        raise ConfigurationError("--records and --services go together: give both or neither.")
    if spark_master is not None and engine is not Engine.spark:
        raise ConfigurationError("--spark-master goes with --engine spark.")
    if records is not None and services is not None:
        chosen = (engine or Engine.duckdb).value
        return source_from_files(records, services, engine=chosen, spark_master=spark_master)
    if engine is not None:
        raise ConfigurationError(
            f"--engine {engine.value} runs on files: give --records and --services (a database's "
            "KPIs run in the database itself)."
        )
    return source_from_database(db)


def emit(result: KpiResult, output_format: Format, output: Path | None) -> None:
    from flsdb.reports.kpi_tables import kpi_csv, kpi_json

    request = result.request
    note(
        f"{result.records} records in {request.period.label}, as of {request.as_of:%-d %b %Y}; "
        f"caseload: {result.caseload_method}."
    )
    if output_format is Format.table and output is None:
        out.print(kpi_rich_table(result.table, f"KPIs by {request.by}, {request.period.label}"))
        return
    text: Any = kpi_json(result.table) if output_format is Format.json else kpi_csv(result.table)
    if output is None:
        typer.echo(text, nl=output_format is Format.json)
        return
    write_output(output, text)
    err.print(f"wrote {output}")
