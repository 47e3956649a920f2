"""Commands that bring data in: templates, dictionary, services, records, deletions, schema."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown

from flsdb.cli.console import err, out, progress_bar, show_issues
from flsdb.dictionary import load_dictionary
from flsdb.dictionary.docs import dictionary_markdown
from flsdb.dictionary.template import write_csv_template, write_xlsx_template
from flsdb.errors import ValidationFailed
from flsdb.ingest import ValidatedTable, open_upload, validate
from flsdb.storage import (
    ImportSummary,
    delete_record,
    known_service_codes,
    open_engine,
    store_records,
    store_services,
)
from flsdb.storage.database import current_revision, head_revision, upgrade

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL or SQLite file (default: $FLSDB_DATABASE_URL or ./flsdb.db).",
        show_default=False,
    ),
]
ErrorsOption = Annotated[
    Path | None, typer.Option("--errors", help="Write every error and warning to this CSV file.")
]
UserOption = Annotated[
    str | None, typer.Option("--user", help="Who is uploading (default: the login name).")
]

db_app = typer.Typer(help="Database schema: create and migrate.", no_args_is_help=True)


def template(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write the templates to.")
    ] = Path("."),
) -> None:
    """Write empty upload templates: CSV, and XLSX with drop-down lists of codes."""
    dictionary = load_dictionary()
    out_dir.mkdir(parents=True, exist_ok=True)
    for kind in ("records", "services"):
        for path in (
            write_csv_template(dictionary, kind, out_dir / f"{kind}-template.csv"),
            write_xlsx_template(dictionary, kind, out_dir / f"{kind}-template.xlsx"),
        ):
            out.print(f"wrote {path}")


def dictionary(
    output: Annotated[
        Path | None, typer.Option("--out", help="Write Markdown to this file.")
    ] = None,
) -> None:
    """Print the data dictionary (every column, its codes and rules), or write it as Markdown."""
    text = dictionary_markdown(load_dictionary())
    if output is None:
        out.print(Markdown(text))
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}")


def _report(summary: ImportSummary, table: ValidatedTable) -> None:
    show_issues(table.issues, "warning")
    out.print(
        f"[green]Stored[/] {table.source.name}: {summary.rows} rows - {summary.inserted} inserted, "
        f"{summary.updated} updated, {summary.unchanged} unchanged, {summary.warnings} warning(s) "
        f"(import {summary.import_id})."
    )


def _check(table: ValidatedTable, errors: Path | None) -> None:
    if errors is not None:
        table.issues.write_csv(errors)
        err.print(f"wrote all issues to {errors}")
    if not table.ok:
        raise ValidationFailed(table.issues)


def load_services(
    file: Annotated[Path, typer.Argument(help="Services file (CSV or XLSX).")],
    db: DbOption = None,
    errors: ErrorsOption = None,
    user: UserOption = None,
) -> None:
    """Validate and store the services (FLS) file; rows update by service_code."""
    engine = open_engine(db)
    table = validate(open_upload(file), "services")
    _check(table, errors)
    _report(store_services(engine, table, user), table)


def import_records(
    file: Annotated[Path, typer.Argument(help="Records file (CSV or XLSX).")],
    db: DbOption = None,
    errors: ErrorsOption = None,
    user: UserOption = None,
    fls: Annotated[
        list[str] | None,
        typer.Option(
            "--fls", help="Service codes this uploader may write to (repeatable; default: all)."
        ),
    ] = None,
) -> None:
    """Validate a records file and store it: all or nothing, updating records by their key."""
    engine = open_engine(db)
    upload = open_upload(file)
    known = known_service_codes(engine)
    allowed = {c.upper() for c in fls} if fls else None
    with progress_bar() as progress:
        task = progress.add_task("validating", total=None)
        table = validate(
            upload,
            "records",
            known_services=known,
            allowed_services=allowed,
            progress=lambda n: progress.advance(task, n),
        )
        _check(table, errors)
        progress.update(task, description="storing")
        summary = store_records(engine, table, user)
    _report(summary, table)


def delete(
    service: Annotated[str, typer.Option("--service", help="Service code.")],
    nhs_number: Annotated[str, typer.Option("--nhs-number", help="NHS number (10 digits).")],
    fracture_date: Annotated[str, typer.Option("--fracture-date", help="YYYY-MM-DD.")],
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Delete one record by its key (the audit log keeps its values)."""
    try:
        date = dt.date.fromisoformat(fracture_date)
    except ValueError:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint="--fracture-date") from None
    key = {
        "service_code": service.upper(),
        "nhs_number": nhs_number.replace(" ", ""),
        "date_fracture_diagnosed": date,
    }
    if not delete_record(open_engine(db), key, user):
        err.print("No record has that key; nothing was deleted.")
        raise typer.Exit(1)
    out.print("Deleted 1 record; its values are kept in the audit log.")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create the database or migrate it to the newest schema."""
    engine = open_engine(db, migrate=False)
    revision = upgrade(engine)
    out.print(
        f"Database at revision {revision} ({engine.url.render_as_string(hide_password=True)})."
    )


@db_app.command("current")
def db_current(db: DbOption = None) -> None:
    """Show the database's schema revision and the newest one."""
    engine = open_engine(db, migrate=False)
    out.print(f"current: {current_revision(engine)}; newest: {head_revision()}")
