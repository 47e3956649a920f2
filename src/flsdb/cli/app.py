"""The `flsdb` command: every subcommand, and one place that turns errors into messages."""

from __future__ import annotations

import sys

import typer

from flsdb.cli import data, demo, measure, reporting, statistics
from flsdb.cli.console import fail, show_issues
from flsdb.errors import FlsdbError, ValidationFailed

app = typer.Typer(
    help="flsdb: the fracture liaison service audit platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("template")(data.template)
app.command("dictionary")(data.dictionary)
app.command("load-services")(data.load_services)
app.command("import")(data.import_records)
app.command("delete-record")(data.delete)
app.command("kpis")(measure.kpis)
app.command("report")(reporting.report)
app.command("synth")(demo.synth)
app.command("demo")(demo.demo)
app.command("methodology")(demo.methodology)
app.add_typer(data.db_app, name="db")
app.add_typer(statistics.stats_app, name="stats")


def main() -> None:
    """Run the CLI; flsdb's own errors become a message and exit status 1, never a traceback."""
    try:
        # Outside standalone mode click returns the code of typer.Exit instead of exiting.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except ValidationFailed as exc:
        show_issues(exc.issues, "error")
        fail(
            f"{exc.issues.error_count} error(s) in the file; nothing was stored. Fix them and "
            "upload the file again."
        )
        sys.exit(1)
    except FlsdbError as exc:
        fail(str(exc))
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        fail("aborted")
        sys.exit(1)
    except Exception as exc:  # click's usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
