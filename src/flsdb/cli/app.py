"""The `flsdb` command: every subcommand, and one place that turns errors into messages.

Commands import their heavy libraries (polars, Ibis, pandas, WeasyPrint) inside
their bodies, so that `flsdb --help` and every `--help` answer at once.
"""

from __future__ import annotations

import os
import sys

import typer

from flsdb.cli import data, demo, exchange, measure, reporting, statistics, web
from flsdb.cli.console import fail, show_issues
from flsdb.cli.files import reason
from flsdb.errors import FlsdbError, ValidationFailed
from flsdb.storage.faults import database_problem, is_database_error

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
app.command("extract")(data.extract)
app.command("export")(exchange.export)
app.command("kpis")(measure.kpis)
app.command("report")(reporting.report)
app.command("synth")(demo.synth)
app.command("demo")(demo.demo)
app.command("methodology")(demo.methodology)
app.command("thresholds")(demo.thresholds)
app.command("serve")(web.serve)
app.add_typer(web.users_app, name="users")
app.add_typer(data.db_app, name="db")
app.add_typer(statistics.stats_app, name="stats")
exchange.profile_app.command("detect")(exchange.profile_detect)
app.add_typer(exchange.profile_app, name="profile")

UNEXPECTED = 70  # EX_SOFTWARE


def main() -> None:
    """Run the CLI. Usage errors are click's (a sentence and exit 2); flsdb's own errors and
    the operating system's become one sentence and exit 1; anything else a short apology
    (FLSDB_DEBUG=1 shows the traceback) and exit 70. Never a traceback by default."""
    try:
        app(prog_name="flsdb")
    except ValidationFailed as exc:
        show_issues(exc.issues, "error")
        fail(
            f"{exc.issues.error_count} error(s) in the file; nothing was stored. Fix them and "
            "upload the file again."
        )
        sys.exit(1)
    except FlsdbError as exc:
        fail(f"{exc} {exc.command_line}" if exc.command_line else str(exc))
        sys.exit(1)
    except MemoryError:
        fail("flsdb ran out of memory; nothing was stored. Try a smaller file or period.")
        sys.exit(1)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        fail(f"The operating system refused{where}: {reason(exc)}.")
        sys.exit(1)
    except Exception as exc:
        if os.environ.get("FLSDB_DEBUG"):
            raise

        if is_database_error(exc):
            # A failure while reading (writes are translated where they happen).
            cause = getattr(exc, "orig", None) or exc
            fail(f"Cannot use the database: {database_problem(str(cause))}.")
            sys.exit(1)
        # The message of an unexpected error could hold a value from a record: not shown.
        fail(
            f"flsdb stopped on an unexpected error ({type(exc).__name__}); nothing was stored. "
            "Run it again with FLSDB_DEBUG=1 to see the details, and please report them."
        )
        sys.exit(UNEXPECTED)


if __name__ == "__main__":
    main()
