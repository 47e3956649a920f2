"""Commands that bring data in: templates, dictionary, services, records, deletions, schema."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flsdb.cli.console import note, out, progress_bar, say, show_issues
from flsdb.cli.files import replacing, write_output
from flsdb.cli.options import (
    DbOption,
    ErrorsOption,
    MaxSizeOption,
    PeriodOption,
    ProfileOption,
    ServiceOption,
    SheetOption,
    UserOption,
    parse_date,
)
from flsdb.errors import ConfigurationError, ValidationFailed
from flsdb.storage.urls import resolve_url

if TYPE_CHECKING:
    from flsdb.ingest import UploadFile, ValidatedTable
    from flsdb.ingest.text import TextOptions
    from flsdb.storage import ImportSummary

# The command line takes larger files than the web application (see flsdb.ingest.limits).
CLI_MAX_MB = 2048

db_app = typer.Typer(help="Database schema: create and migrate.", no_args_is_help=True)


def template(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write the templates to.")
    ] = Path("."),
) -> None:
    """Write empty upload templates: CSV, and XLSX with drop-down lists of codes."""
    from flsdb.dictionary import load_dictionary
    from flsdb.dictionary.template import write_csv_template, write_xlsx_template

    dictionary = load_dictionary()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"Cannot create the folder {out_dir}: {exc.strerror}.") from None
    for kind in ("records", "services"):
        for path, write in (
            (out_dir / f"{kind}-template.csv", write_csv_template),
            (out_dir / f"{kind}-template.xlsx", write_xlsx_template),
        ):
            with replacing(path) as temporary:
                write(dictionary, kind, temporary)
            say(f"wrote {path}")


def dictionary(
    output: Annotated[
        Path | None, typer.Option("--out", help="Write Markdown to this file.")
    ] = None,
) -> None:
    """Print the data dictionary (every column, its codes and rules) and the mapping profiles
    (how the national FLS-DB export maps to it), or write them as Markdown."""
    from rich.markdown import Markdown

    from flsdb.dictionary import load_dictionary
    from flsdb.dictionary.docs import dictionary_markdown
    from flsdb.profiles import load_profile, profile_names
    from flsdb.profiles.docs import profiles_markdown

    loaded = load_dictionary()
    profiles = [load_profile(name) for name in profile_names()]
    text = dictionary_markdown(loaded) + "\n" + profiles_markdown(profiles, loaded)
    if output is None:
        out.print(Markdown(text))
    else:
        write_output(output, text)
        note(f"wrote {output}")


def _report(summary: ImportSummary, table: ValidatedTable) -> None:
    show_issues(table.issues, "info")
    show_issues(table.issues, "warning")
    say(
        f"Stored {table.source.name}: {summary.rows} rows - {summary.inserted} inserted, "
        f"{summary.updated} updated, {summary.unchanged} unchanged, {summary.warnings} warning(s) "
        f"(import {summary.import_id})."
    )


def _check(table: ValidatedTable, errors: Path | None) -> None:
    if errors is not None:
        write_output(errors, table.issues.csv_text())
        note(f"wrote all issues to {errors}")
    if not table.ok:
        raise ValidationFailed(table.issues)


def _open(
    file: Path, sheet: str | None, max_size: int, text: TextOptions | None = None
) -> UploadFile:
    from flsdb.ingest import open_upload
    from flsdb.ingest.limits import MB, UploadLimits

    return open_upload(file, replace(UploadLimits(), max_bytes=max_size * MB), sheet, text)


def load_services(
    file: Annotated[Path, typer.Argument(help="Services file (CSV or XLSX).")],
    db: DbOption = None,
    errors: ErrorsOption = None,
    user: UserOption = None,
    sheet: SheetOption = None,
    max_size: MaxSizeOption = CLI_MAX_MB,
) -> None:
    """Validate and store the services (FLS) file; rows update by service_code."""
    from flsdb.services.imports import checked_services, store_checked_services
    from flsdb.storage import open_engine

    table = checked_services(_open(file, sheet, max_size))
    _check(table, errors)
    _report(store_checked_services(open_engine(db), table, user), table)


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
    sheet: SheetOption = None,
    max_size: MaxSizeOption = CLI_MAX_MB,
    profile: ProfileOption = None,
    service: ServiceOption = None,
    blank: Annotated[
        str,
        typer.Option(
            "--blank",
            help="What a blank cell does to a stored record: keep (its value stays; a column "
            "the file lacks also keeps) or clear (the value is cleared).",
        ),
    ] = "keep",
) -> None:
    """Validate a records file and store it: all or nothing, updating records by their key.
    A blank cell or an absent column keeps the stored value unless --blank clear.
    With --profile fls-db, a national FLS-DB export (labels, DD/MM/YYYY dates, Windows-1252)."""
    from flsdb.ingest.mapped import text_options
    from flsdb.profiles import load_profile
    from flsdb.services.imports import checked_records, store_checked_records
    from flsdb.services.uploads import blank_rule
    from flsdb.storage import known_service_codes, open_existing

    rule = blank_rule(blank)
    chosen = load_profile(profile)
    upload = _open(file, sheet, max_size, text_options(chosen))
    engine = open_existing(db)
    known = known_service_codes(engine)
    if not known:
        raise ConfigurationError(
            "The database has no services yet: load the services file first "
            "('flsdb load-services services.csv'), then import the records."
        )
    allowed = {c.strip().upper() for c in fls} if fls else None
    code = service.strip().upper() if service else None
    if code is not None and code not in known:
        raise ConfigurationError(f"--service {code[:12]}: there is no FLS with that code.")
    if code is not None and allowed is not None and code not in allowed:
        raise ConfigurationError(
            f"--service {code[:12]}: you may import only into {', '.join(sorted(allowed))}."
        )
    with progress_bar() as progress:
        task = progress.add_task("validating", total=None)
        # The web's upload reads, checks and stores a file by the same use case.
        table = checked_records(
            engine,
            upload,
            profile=chosen,
            service=code,
            allowed=allowed,
            blank=rule,
            known=known,
            progress=lambda n: progress.advance(task, n),
        )
        _check(table, errors)
        progress.update(task, description="storing")
        summary = store_checked_records(engine, table, user)
    _report(summary, table)


def delete(
    service: Annotated[str, typer.Option("--service", help="Service code.")],
    nhs_number: Annotated[str, typer.Option("--nhs-number", help="NHS number (10 digits).")],
    fracture_date: Annotated[str, typer.Option("--fracture-date", help="YYYY-MM-DD.")],
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Delete one record by its key (the audit log keeps its values)."""
    from flsdb.services.records import remove_by_key
    from flsdb.storage import open_existing

    date = parse_date(fracture_date, "--fracture-date")
    # The web's deletion, by the record's key instead of its id.
    if not remove_by_key(open_existing(db), service, nhs_number, date, user):
        note("No record has that key; nothing was deleted.")
        raise typer.Exit(1)
    say("Deleted 1 record; its values are kept in the audit log.")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create the database or migrate it to the newest schema."""
    from flsdb.storage import open_engine, upgrade

    engine = open_engine(db, migrate=False)
    revision = upgrade(engine)
    say(f"Database at revision {revision} ({engine.url.render_as_string(hide_password=True)}).")


@db_app.command("current")
def db_current(db: DbOption = None) -> None:
    """Show the database's schema revision and the newest one."""
    from flsdb.storage.database import HEAD_REVISION, current_revision, open_existing

    engine = open_existing(db, migrate=False)
    say(f"current: {current_revision(engine)}; newest: {HEAD_REVISION}")


@db_app.command("rebuild-figures")
def db_rebuild_figures(db: DbOption = None) -> None:
    """Compute the maintained KPI figures afresh from the records (every write keeps them;
    migrations run this). Writers wait meanwhile."""
    from flsdb.kpi.cells import store_layout
    from flsdb.storage import open_existing
    from flsdb.storage.figures import rebuild_figures

    engine = open_existing(db)
    start = time.perf_counter()
    cells = rebuild_figures(engine, store_layout())
    say(f"Rebuilt the figures: {cells:,} cells in {time.perf_counter() - start:.1f} s.")


def extract(
    period: PeriodOption,
    out_path: Annotated[
        Path, typer.Option("--out", help="The extract: .csv or .parquet.", show_default=False)
    ],
    pseudonymised: Annotated[
        bool,
        typer.Option(
            "--pseudonymised",
            help="Required: every extract is pseudonymised (no NHS number, date of birth or "
            "postcode; a keyed pseudonym, age band, postcode district, days from the fracture).",
        ),
    ] = False,
    key_file: Annotated[
        Path | None,
        typer.Option("--key-file", help="The pseudonym key (default: $FLSDB_PSEUDONYM_KEY)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write a pseudonymised extract of a period's records for analysis."""
    from flsdb.kpi import parse_period
    from flsdb.services.events import record_event
    from flsdb.services.extracts import pseudonym_key, pseudonymise, read_period, write_extract
    from flsdb.storage import open_existing
    from flsdb.storage.writer import default_user

    if not pseudonymised:
        raise ConfigurationError(
            "flsdb extract writes pseudonymised extracts only: add --pseudonymised."
        )
    if out_path.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigurationError(f"--out {out_path.name}: give a .csv or .parquet file.")
    key = pseudonym_key(key_file, command=True)
    chosen = parse_period(period)
    engine = open_existing(db)
    frame = pseudonymise(read_period(resolve_url(db), chosen.start, chosen.end), key)
    with replacing(out_path) as temporary:
        write_extract(frame, temporary)
    record_event(
        engine,
        default_user(),
        "export_pseudonymised",
        detail=f"{chosen.label}: {frame.height} records, by the command line",
    )
    say(f"Wrote {frame.height:,} pseudonymised records of {chosen.label} to {out_path}.")
