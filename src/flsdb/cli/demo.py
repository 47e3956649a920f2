"""`synth`, `demo`, `methodology` and `thresholds`: synthetic national data, the end-to-end
showcase, and the documents generated from the catalogue and the thresholds."""

from __future__ import annotations

import datetime as dt
import enum
import os
import secrets
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flsdb.cli.console import note, out, progress_bar, say
from flsdb.cli.files import replacing, write_output
from flsdb.cli.options import ConfigOption
from flsdb.cli.reporting import print_report_set
from flsdb.errors import ConfigurationError
from flsdb.reports.marking import SYNTHETIC, SYNTHETIC_PREFIX


class RecordsFormat(enum.StrEnum):
    csv = "csv"
    parquet = "parquet"


if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table


def _folder(path: Path) -> None:
    """An output folder, made if missing; a file in its place refuses the command."""
    if path.exists() and not path.is_dir():
        raise ConfigurationError(f"--out {path} is a file; give a folder.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"Cannot create the folder {path}: {exc.strerror}.") from None


def synth(
    services: Annotated[int, typer.Option(min=1, max=2000, help="Number of FLSs.")] = 77,
    records: Annotated[
        int, typer.Option(min=1, max=100_000_000, help="Records diagnosed in the audit year.")
    ] = 83_500,
    year: Annotated[int, typer.Option(min=2016, max=2100, help="The audit year.")] = 2024,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 1,
    history_years: Annotated[
        int, typer.Option(min=0, max=8, help="Earlier years of records, for run charts.")
    ] = 2,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for services.csv and the records file.")
    ] = Path("synthetic"),
    records_format: Annotated[
        RecordsFormat,
        typer.Option(
            "--format",
            help="records.csv in the upload format, or records.parquet: an flsdb extract for "
            "'flsdb kpis --records' (DuckDB or Spark), written in chunks.",
        ),
    ] = RecordsFormat.csv,
) -> None:
    """Write synthetic national data (services.csv, records.csv or .parquet), chunk by chunk."""
    from flsdb.synth import stream, write_records

    _folder(out_dir)
    services_path = out_dir / "services.csv"
    records_path = out_dir / f"records.{records_format.value}"
    written = 0

    def advance(n: int) -> None:
        nonlocal written
        written += n
        progress.advance(task, n)

    with progress_bar() as progress:
        task = progress.add_task("generating", total=None)
        data = stream(services, records, year, seed, history_years)
        with replacing(services_path) as temporary:
            data.services.write_csv(temporary)
        # Each file appears whole or not at all (a stopped run leaves no half-written file).
        with replacing(records_path) as temporary:
            write_records(data.chunks, temporary, progress=advance)
    say(
        f"wrote {services_path} ({data.services.height} FLSs) and {records_path} "
        f"({written} records; extract date {data.as_of:%Y-%m-%d})."
    )


def methodology(
    output: Annotated[Path | None, typer.Option("--out", help="Write Markdown here.")] = None,
    config: ConfigOption = None,
) -> None:
    """Print (or write) the methodology, generated from the catalogue.

    Every KPI as the code computes it, and the statistics with the thresholds in use.
    """
    from flsdb.config import load_thresholds
    from flsdb.kpi import load_catalogue
    from flsdb.reports.methodology import methodology_markdown

    text = methodology_markdown(load_catalogue(), load_thresholds(config))
    if output is None:
        typer.echo(text)
    else:
        write_output(output, text)
        note(f"wrote {output}")


def thresholds(
    output: Annotated[Path | None, typer.Option("--out", help="Write YAML here.")] = None,
) -> None:
    """Print (or write) the packaged thresholds: a starting point for a --config file."""
    text = resources.files("flsdb.config").joinpath("thresholds.yaml").read_text("utf-8")
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_output(output, text)
        note(f"wrote {output}")


def _national_table(table: pd.DataFrame, title: str) -> Table:
    from rich.table import Table

    from flsdb.kpi import load_catalogue

    shown = Table(title=title)
    shown.add_column("KPI")
    catalogue = load_catalogue()
    units = list(dict.fromkeys(str(u) for u in table["unit"]))
    rows = {(str(r["unit"]), str(r["kpi"])): r for r in table.to_dict("records")}
    for unit in units:
        shown.add_column(unit.title(), justify="right")
    for kpi in dict.fromkeys(table["kpi"]):
        cells = [_cell(rows[(unit, kpi)], counts=True) for unit in units]
        shown.add_row(f"{kpi} {catalogue.name(kpi)}", *cells)
    return shown


def _cell(row: dict[Any, Any], counts: bool = False) -> str:
    from flsdb.reports.kpi_tables import RAG_COLOURS

    if row["percent"] is None:
        return "–"
    text = f"{row['percent']:.1f}" + ("%" if counts else "")
    if row["kpi"] == "kpi01" and row["level"] == "service":
        text = f"{int(row['numerator'])} of {int(row['denominator'])}"
    elif counts:
        text += f" ({int(row['numerator']):,}/{float(row['denominator']):,.0f})"
    return f"[{RAG_COLOURS[row['rag']]}]{text}[/]" if row["rag"] else text


def _benchmark_table(table: pd.DataFrame, regions: dict[str, str], title: str) -> Table:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from flsdb.figures import HEADLINE_KPIS

    shown = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    shown.add_column("FLS", no_wrap=True)
    shown.add_column("region", no_wrap=True)
    shown.add_column("records", justify="right")
    for kpi in HEADLINE_KPIS:
        shown.add_column(kpi, justify="right", no_wrap=True)
    cells = {(str(r["unit"]), str(r["kpi"])): r for r in table.to_dict("records")}
    for unit in dict.fromkeys(str(u) for u in table["unit"]):
        records = int(cells[(unit, "kpi03")]["denominator"])
        shown.add_row(
            escape(unit),
            escape(regions.get(unit, "")),
            str(records),
            *[_cell(cells[(unit, kpi)]) for kpi in HEADLINE_KPIS],
        )
    return shown


def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the demo's data, database and outputs.")
    ] = Path("flsdb-demo"),
    records: Annotated[int, typer.Option(min=100, help="Records in the audit year.")] = 83_500,
    services: Annotated[int, typer.Option(min=2, max=2000, help="Number of FLSs.")] = 77,
    year: Annotated[int, typer.Option(min=2016, max=2100, help="The audit year.")] = 2024,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="PDF besides HTML.")] = True,
) -> None:
    """Store synthetic national data and show its KPIs and reports.

    Generates 77 FLSs' records, stores them through the upload's validation, prints the national
    and per-FLS KPIs, and writes the national report, one FLS report and the benchmark tables.
    """
    from flsdb.figures import compute_figures
    from flsdb.ingest import open_upload
    from flsdb.kpi import KpiRequest, compute_kpis, load_catalogue, parse_period
    from flsdb.kpi.sources import source_from_database
    from flsdb.reports.build import INTERNAL, INTERNAL_NOTE
    from flsdb.reports.kpi_tables import kpi_csv, write_kpi_xlsx
    from flsdb.services import report_files
    from flsdb.services.imports import (
        checked_records,
        checked_services,
        store_checked_records,
        store_checked_services,
    )
    from flsdb.storage import open_engine
    from flsdb.synth import generate, write_upload_files

    _folder(out_dir)
    with progress_bar() as progress:
        task = progress.add_task("synthetic data", total=None)
        # The years since the audit year too, up to today: an FLS's worklists and this year's
        # dashboard need the patients diagnosed lately.
        today = dt.date.today()
        data = generate(
            services,
            records,
            year,
            seed,
            progress=lambda n: progress.advance(task, n),
            current_through=today if today.year > year else None,
        )
        services_path, records_path = write_upload_files(data, out_dir / "data")
        progress.update(task, description="validating")
        engine = open_engine(str(out_dir / "flsdb-demo.db"))
        # The import use case of `flsdb import` and the web's upload.
        store_checked_services(engine, checked_services(open_upload(services_path)), "demo")
        checked = checked_records(
            engine, open_upload(records_path), progress=lambda n: progress.advance(task, n)
        )
        progress.update(task, description="storing")
        summary = store_checked_records(engine, checked, "demo")
        progress.update(task, description="computing KPIs")
        source = source_from_database(engine=engine)
        period = parse_period(str(year))
        results = {
            level: compute_kpis(source, KpiRequest(period, by=level, as_of=data.as_of))
            for level in ("nation", "region", "service")
        }
    say(
        f"Stored {summary.rows:,} synthetic records from {data.services.height} FLSs "
        f"({summary.inserted:,} inserted, {summary.updated:,} updated, {summary.unchanged:,} "
        f"unchanged; {summary.warnings:,} warnings) in {out_dir / 'flsdb-demo.db'}."
    )
    national = results["nation"]
    say(
        f"{national.records:,} records diagnosed in {year}; as of {data.as_of:%-d %b %Y}; "
        f"caseload: {national.caseload_method}."
    )
    out.print(_national_table(national.table, f"National KPIs, {year}"))
    regions = dict(
        zip(source.services["service_code"], source.services["region_code"], strict=True)
    )
    out.print(
        _benchmark_table(
            results["service"].table,
            regions,
            f"Per-FLS benchmark, {year} (percent; RAG colours; not suppressed: internal use)",
        )
    )
    # The KPI tables are not suppressed: they are internal, and marked so.
    internal = out_dir / INTERNAL
    internal.mkdir(exist_ok=True)
    (internal / f"{SYNTHETIC_PREFIX}README.txt").write_text(INTERNAL_NOTE, encoding="utf-8")

    written = []
    for level, result in results.items():
        path = internal / f"{SYNTHETIC_PREFIX}kpis-{level}-{year}.csv"
        write_output(path, kpi_csv(result.table, marking=SYNTHETIC))
        written.append(path)
    from flsdb.config import load_thresholds

    heading = [
        f"KPIs by level, {year}",
        f"Period {year}; as of {data.as_of:%-d %b %Y}; {national.records:,} records; "
        f"caseload: {national.caseload_method}. Synthetic data.",
    ]
    workbook = internal / f"{SYNTHETIC_PREFIX}kpis-{year}.xlsx"
    with replacing(workbook) as temporary:
        write_kpi_xlsx(
            {f"{level}s": result.table for level, result in results.items()},
            load_catalogue(),
            load_thresholds(),
            temporary,
            heading,
            internal=True,
            marks=[SYNTHETIC],
        )
    written.append(workbook)
    say("Wrote: " + ", ".join(str(p) for p in written))
    with progress_bar() as progress:
        progress.add_task("writing the national report and an FLS report", total=None)
        report_data = compute_figures(source, period, data.as_of)
        sizes = results["service"].table.query("kpi == 'kpi03'")
        largest = str(sizes["unit"].iloc[int(sizes["denominator"].astype(float).argmax())])
        # `flsdb report`'s use case: the same notes from the database, the same writer.
        reports = report_files.report_set(
            report_data,
            out_dir,
            engine,
            services=[largest],
            region_reports=False,
            formats=("html", "pdf") if pdf else ("html",),
        )

    print_report_set(reports, report_data.records, report_data.services_with_records)
    _demo_accounts(engine, largest, regions[largest], out_dir)


def _demo_accounts(engine: Any, service: str, region: str, out_dir: Path) -> None:
    """One account per role for the web application, each with a new random password (printed
    and kept in OUT/demo-accounts.txt, readable by its owner only): no password is fixed."""
    from rich.table import Table

    from flsdb.services import accounts
    from flsdb.services.access import Role

    chosen = [
        (f"fls.{service.lower()}", Role.FLS_STAFF, [service], None),
        (f"region.{region.lower()}", Role.REGION_VIEWER, [], region),
        ("analyst", Role.NATIONAL_ANALYST, [], None),
        ("admin", Role.ADMIN, [], None),
    ]
    table = Table("user", "password", "role", "sees", title="Web application accounts")
    lines = []
    for name, role, codes, where in chosen:
        password = secrets.token_urlsafe(12)
        try:
            accounts.add_user(
                engine, name, role, password, service_codes=codes, region=where, by="demo"
            )
        except accounts.UserExists:  # there already: a new password, the same role
            accounts.set_role(engine, name, role, service_codes=codes, region=where, by="demo")
            accounts.reset_password(engine, name, password, by="demo")
        sees = ", ".join(codes) or where or "all"
        table.add_row(name, password, role.value, sees)
        lines.append(f"{name}\t{password}\t{role.value}\t{sees}")
    path = out_dir / "demo-accounts.txt"
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("user\tpassword\trole\tsees\n" + "\n".join(lines) + "\n")
    out.print(table)
    say(
        f"Start the web application with: flsdb serve --db {out_dir / 'flsdb-demo.db'} "
        f"and open http://127.0.0.1:8000/ (these passwords are also in {path})."
    )
