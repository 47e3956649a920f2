"""`flsdb serve` (the web application) and `flsdb users` (accounts and roles)."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flsdb.cli.console import out, say
from flsdb.cli.options import DbOption
from flsdb.errors import ConfigurationError
from flsdb.storage.urls import ENV_VAR, resolve_url, sqlite_file

if TYPE_CHECKING:
    from sqlalchemy import Engine

users_app = typer.Typer(
    help=(
        "Web application accounts: add, list, disable, enable, set-role, reset-password, and API "
        "tokens (token, tokens, revoke-token)."
    ),
    no_args_is_help=True,
)
ROLE_HELP = "fls_staff, region_viewer, national_analyst or admin."
ServiceOpt = Annotated[
    list[str] | None, typer.Option("--service", help="An FLS of an fls_staff user (repeatable).")
]
RegionOpt = Annotated[str | None, typer.Option("--region", help="The region of a region_viewer.")]
StdinOpt = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


KEEP_ALIVE_SECONDS = 75
# Requests a server process works on at once (its threads; anyio's default is 40). With 300
# staff on two cores, 16 gave the shortest waits at p95 of 10, 16 and 40, run in turn (README,
# issue 19): fewer threads take turns at the interpreter lock, and since a read no longer
# waits for the write lock (`services.event_writer`) none is held idle by it.
THREADS = 16


def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(min=1, max=32, help="Server processes (one per core suits a busy audit)."),
    ] = 1,
    threads: Annotated[
        int,
        typer.Option(
            min=1,
            max=200,
            help="Requests each process works on at once (in threads); the rest wait their turn.",
        ),
    ] = THREADS,
) -> None:
    """Run the web application (uvicorn). The session secret comes from $FLSDB_SECRET_KEY or a
    file .flsdb-secret beside the database (created with permissions 0600). Sessions end after
    $FLSDB_SESSION_IDLE_MINUTES unused (30) and $FLSDB_SESSION_HOURS after sign-in (12)."""
    import uvicorn

    from flsdb.storage import open_engine
    from flsdb.web.settings import SECRET_ENV, THREADS_ENV, limits_from_environment, secret_key

    limits_from_environment()  # a wrong setting is one sentence here, not a failed worker
    url = resolve_url(db)
    path = sqlite_file(url)
    folder = Path(path).resolve().parent if path else Path.cwd()
    open_engine(url).dispose()  # created or migrated once, before any worker starts
    # The workers read their settings from the environment (each builds its own app).
    os.environ[ENV_VAR] = url
    os.environ[SECRET_ENV] = secret_key(folder)
    os.environ[THREADS_ENV] = str(threads)
    say(f"flsdb is serving on http://{host}:{port}/ (Ctrl+C stops it).")
    uvicorn.run(
        "flsdb.web.app:app_from_environment",
        factory=True,
        # httptools and uvloop (dependencies of flsdb): less CPU per request than h11 and
        # asyncio, which "auto" falls back to where they cannot be installed.
        http="auto",
        loop="auto",
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        # Idle connections are kept longer than a person's pause between clicks (uvicorn's 5 s
        # default closes them just as a browser or client reuses them).
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        # The client's address is the connection's: an X-Forwarded-For header is not believed
        # (the per-address sign-in limit would otherwise be the client's to choose).
        proxy_headers=False,
    )


def _engine(db: str | None) -> Engine:
    from flsdb.storage import open_engine

    return open_engine(db)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = typer.prompt("Password", hide_input=True)
    second = typer.prompt("Again", hide_input=True)
    if first != second:
        raise ConfigurationError("The two passwords differ; nothing was changed.")
    return str(first)


@users_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option("--role", help=ROLE_HELP)],
    service: ServiceOpt = None,
    region: RegionOpt = None,
    password_stdin: StdinOpt = False,
    db: DbOption = None,
) -> None:
    """Add a user with a role (and its FLSs or region)."""
    from flsdb.services import accounts

    chosen = accounts.parse_role(role)
    engine = _engine(db)
    accounts.add_user(
        engine,
        name,
        chosen,
        _password(password_stdin),
        service_codes=service or [],
        region=region,
    )
    say(f"Added {name.strip().lower()} as {chosen.value}.")


@users_app.command("list")
def list_users(db: DbOption = None) -> None:
    """List the users, their roles, FLSs or region, and whether they are disabled or locked."""
    from rich.table import Table

    from flsdb.services import accounts

    table = Table("user", "role", "FLSs / region", "state")
    for user in accounts.list_users(_engine(db)):
        state = (
            "disabled"
            if user["disabled"]
            else (f"locked until {user['locked_until']}" if user["locked_until"] else "active")
        )
        table.add_row(
            user["username"],
            user["role"],
            ", ".join(user["services"]) or (user["region"] or ""),
            state,
        )
    out.print(table)


@users_app.command("disable")
def disable(name: str, db: DbOption = None) -> None:
    """Disable a user (their sessions end and their API tokens are revoked at once)."""
    from flsdb.services import accounts

    accounts.set_disabled(_engine(db), name, True)
    say(f"Disabled {name}.")


@users_app.command("enable")
def enable(name: str, db: DbOption = None) -> None:
    """Enable a disabled user (tokens revoked when disabled stay revoked)."""
    from flsdb.services import accounts

    accounts.set_disabled(_engine(db), name, False)
    say(f"Enabled {name}.")


@users_app.command("set-role")
def set_role(
    name: str,
    role: Annotated[str, typer.Option("--role", help=ROLE_HELP)],
    service: ServiceOpt = None,
    region: RegionOpt = None,
    db: DbOption = None,
) -> None:
    """Change a user's role (and its FLSs or region); their sessions end and tokens are
    revoked."""
    from flsdb.services import accounts

    chosen = accounts.parse_role(role)
    accounts.set_role(_engine(db), name, chosen, service_codes=service or [], region=region)
    say(f"{name} is now {chosen.value}.")


@users_app.command("reset-password")
def reset_password(name: str, password_stdin: StdinOpt = False, db: DbOption = None) -> None:
    """Set a new password (and lift a lock-out); their sessions end and tokens are revoked."""
    from flsdb.services import accounts

    accounts.reset_password(_engine(db), name, _password(password_stdin))
    say(f"New password set for {name}.")


@users_app.command("token")
def token(
    name: str,
    expires_days: Annotated[
        int, typer.Option("--expires-days", help="Days until the token is refused (1 to 3650).")
    ] = 90,
    db: DbOption = None,
) -> None:
    """Print a new API token for the user, once (only its digest is kept); it expires after
    --expires-days days (90 by default)."""
    from flsdb.services import accounts

    typer.echo(accounts.new_token(_engine(db), name, days=expires_days))


def _when(stamp: object) -> str:
    return stamp.strftime("%d %b %Y %H:%M") if isinstance(stamp, dt.datetime) else "never"


@users_app.command("tokens")
def tokens(name: str, db: DbOption = None) -> None:
    """List the user's API tokens: id, created, last used and expiry (never the token)."""
    from rich.table import Table

    from flsdb.services import accounts

    found = accounts.list_tokens(_engine(db), name)
    if not found:
        say(f"{name} has no API tokens.")
        return
    table = Table("id", "created", "last used", "expires")
    for each in found:
        expires = _when(each["expires"]) + (" (expired)" if each["expired"] else "")
        table.add_row(str(each["id"]), _when(each["created"]), _when(each["last_used"]), expires)
    out.print(table)


@users_app.command("revoke-token")
def revoke_token(
    name: str,
    token_id: Annotated[
        int | None, typer.Argument(help="The token's id (see `flsdb users tokens`).")
    ] = None,
    all_tokens: Annotated[bool, typer.Option("--all", help="Revoke every token.")] = False,
    db: DbOption = None,
) -> None:
    """Revoke one API token of the user (by id) or all of them (--all); it is refused at once."""
    from flsdb.services import accounts

    if (token_id is None) == (not all_tokens):
        raise ConfigurationError("Give one token id or --all, not both and not neither.")
    gone = accounts.revoke_tokens(_engine(db), name, None if all_tokens else token_id)
    say(f"Revoked {gone} token{'s' if gone != 1 else ''} of {name}.")
