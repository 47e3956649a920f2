"""Other systems' files: `flsdb profile` (list, show, detect) and `flsdb export` (one FLS's
records in a profile's layout, such as the national FLS-DB export, for its own submission)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flsdb.cli.console import err, note, out, say
from flsdb.cli.files import replacing, write_output
from flsdb.cli.options import DbOption, MaxSizeOption, PeriodOption, SheetOption
from flsdb.errors import ConfigurationError, FileFormatError
from flsdb.storage.urls import resolve_url

if TYPE_CHECKING:
    from flsdb.ingest.detect import Fit

profile_app = typer.Typer(
    help="Mapping profiles: how other systems' files (the national FLS-DB export) map to flsdb.",
    no_args_is_help=True,
)


@profile_app.command("list")
def profile_list() -> None:
    """The mapping profiles flsdb has."""
    from flsdb.profiles import load_profile, profile_names

    for name in profile_names():
        profile = load_profile(name)
        say(f"{name}: {profile.title}")


@profile_app.command("show")
def profile_show(
    name: Annotated[str, typer.Argument(help="The profile, e.g. fls-db.")],
    output: Annotated[Path | None, typer.Option("--out", help="Write Markdown here.")] = None,
) -> None:
    """A profile's columns, labels, dates and encodings (generated from the profile)."""
    from rich.markdown import Markdown

    from flsdb.dictionary import load_dictionary
    from flsdb.profiles import load_profile
    from flsdb.profiles.docs import profile_markdown

    text = profile_markdown(load_profile(name), load_dictionary())
    if output is None:
        out.print(Markdown(text))
    else:
        write_output(output, text)
        note(f"wrote {output}")


def _fit_lines(fit: Fit) -> list[str]:
    """What the profile would map, leave unused and fail on, in words."""
    if fit.refused is not None or fit.plan is None:
        return [f"cannot read the file: {fit.refused}"]
    plan = fit.plan
    lines = [
        f"{len(plan.mapped)} column(s) map to flsdb fields, {len(plan.unused)} are known and not "
        f"used, {len(plan.unknown)} are not known"
        + (
            f" ({'errors' if fit.profile.unknown_columns == 'error' else 'ignored'})"
            if plan.unknown
            else ""
        )
    ]
    if fit.read_as:
        lines.append(fit.read_as)
    if fit.missing:
        lines.append("fails: no column for the required " + ", ".join(fit.missing))
    lines += [f"fails: {title} is a second column for {f}" for title, f in plan.repeated.items()]
    for title, problems in fit.values.items():
        shown = f" (for example {', '.join(repr(v) for v in problems.examples)})"
        lines.append(
            f"fails: {problems.count:,} value(s) of {title} are not labels it reads"
            + (shown if problems.examples else "")
        )
    lines += [
        f"warns: {rows:,} row(s) of {title} lose detail (see 'flsdb profile show "
        f"{fit.profile.name}')"
        for title, rows in fit.lossy.items()
    ]
    if not plan.has_service:
        lines.append("the file has no service_code column: name its FLS with --service CODE")
    return lines


def profile_detect(
    file: Annotated[Path, typer.Argument(help="The file to look at (CSV or XLSX).")],
    sheet: SheetOption = None,
    max_size: MaxSizeOption = 2048,
) -> None:
    """Which profile fits a file, and what it would map, leave unused or fail on (reads the
    file; stores nothing)."""
    from rich.markup import escape
    from rich.table import Table

    from flsdb.ingest.detect import detect
    from flsdb.ingest.limits import MB, UploadLimits

    fits = detect(file, sheet, replace(UploadLimits(), max_bytes=max_size * MB))
    best = fits[0]
    if best.refused is not None or not best.mapped:
        raise FileFormatError(
            best.refused or f"No profile fits {file.name}: none of its columns is one flsdb knows."
        )
    verdict = (
        "fits best, but would fail"
        if not best.fits
        else "fits, but some values would fail"
        if best.values
        else "fits"
    )
    say(f"{file.name}: the '{best.profile.name}' profile ({best.profile.title}) {verdict}.")
    for line in _fit_lines(best):
        say(f"  {line}")
    assert best.plan is not None
    table = Table(title=f"Columns under '{best.profile.name}'")
    for column in ("column", "flsdb field", "note"):
        table.add_column(column, overflow="fold")
    for column in best.plan.titles:
        title = escape(best.plan.title(column))
        if column in best.plan.mapped:
            table.add_row(title, best.plan.mapped[column], "")
        elif column in best.plan.unused:
            table.add_row(title, "–", escape(f"not used: {best.plan.unused[column]}"))
        elif column in best.plan.repeated:
            table.add_row(title, "–", f"a second column for {best.plan.repeated[column]}")
        else:
            table.add_row(title, "–", "not known")
    out.print(table)
    if best.plan.absent:
        say("No column for: " + ", ".join(best.plan.absent) + ".")
    for other in fits[1:]:
        err.print(escape(f"'{other.profile.name}': " + "; ".join(_fit_lines(other))))
    service = "" if best.plan.has_service else " --service CODE"
    say(f"To import it: flsdb import {file} --profile {best.profile.name}{service}")


def export(
    service: Annotated[
        str,
        typer.Option(
            "--service",
            help="The FLS whose records to export (required: an export is one FLS's, for its "
            "own submission).",
            show_default=False,
        ),
    ],
    period: PeriodOption,
    out_path: Annotated[
        Path, typer.Option("--out", help="The CSV file to write.", show_default=False)
    ],
    profile: Annotated[
        str, typer.Option("--profile", help="The layout to write: fls-db or flsdb.")
    ] = "fls-db",
    layout: Annotated[
        str | None,
        typer.Option("--layout", help="fls-db: 2024 (the default) or 2023.", show_default=False),
    ] = None,
    fls: Annotated[
        list[str] | None,
        typer.Option(
            "--fls", help="Service codes this user may export (repeatable; default: all)."
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write one FLS's records of a period in a profile's layout (the national FLS-DB export by
    default): question-numbered columns, labels, DD/MM/YYYY dates."""
    from flsdb.dictionary import load_dictionary
    from flsdb.kpi import parse_period
    from flsdb.profiles import load_profile
    from flsdb.profiles.export import export_frame, not_written, write_csv
    from flsdb.services.events import record_event
    from flsdb.services.extracts import read_period
    from flsdb.storage import known_service_codes, open_existing
    from flsdb.storage.writer import default_user

    chosen = load_profile(profile)
    dictionary = load_dictionary()
    if out_path.suffix.lower() != ".csv":
        raise ConfigurationError(f"--out {out_path.name}: give a .csv file.")
    code = service.strip().upper()
    if fls and code not in {c.strip().upper() for c in fls}:
        raise ConfigurationError(f"--service {code[:12]}: you may export only your FLSs' records.")
    name = layout or chosen.default_layout
    period_chosen = parse_period(period)
    engine = open_existing(db)
    if code not in known_service_codes(engine):
        raise ConfigurationError(f"--service {code[:12]}: there is no FLS with that code.")
    records = read_period(
        resolve_url(db), period_chosen.start, period_chosen.end, service=code
    ).sort(["date_fracture_diagnosed", "nhs_number"])
    frame = export_frame(records, chosen, dictionary, name)
    encoding = chosen.text.export_encoding
    with replacing(out_path) as temporary:
        try:
            write_csv(frame, temporary, encoding)
        except UnicodeEncodeError:
            raise ConfigurationError(
                f"A value cannot be written in {encoding}; export with --profile flsdb."
            ) from None
    where = f"the {chosen.title}" + (f", {name} layout" if name else "")
    record_event(
        engine,
        default_user(),
        "export_profile",
        service_code=code,
        detail=f"{chosen.name} {name or ''}: {frame.height} records of {period_chosen.label}, "
        "by the command line",
    )
    say(
        f"Wrote {frame.height:,} records of {code} diagnosed in {period_chosen.label} to "
        f"{out_path} ({where}, {encoding})."
    )
    missing = [f for f in not_written(chosen, dictionary, name) if chosen.layouts]
    if missing:
        note("Not in this layout (not written): " + ", ".join(missing) + ".")
    note(
        "The file holds NHS numbers and dates of birth: keep it as securely as the records, "
        "and send it only to the national audit."
    )
