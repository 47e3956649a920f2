"""What the web application needs to start: its database and its session-signing secret."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from flsdb.errors import ConfigurationError
from flsdb.services.signin import Limits

SECRET_ENV = "FLSDB_SECRET_KEY"
# The requests a server process works on at once, in threads (`flsdb serve --threads`).
THREADS_ENV = "FLSDB_THREADS"
SECRET_FILE = ".flsdb-secret"
PREVIEW_HOURS_ENV = "FLSDB_UPLOAD_PREVIEW_HOURS"


def preview_hours() -> float:
    """How long an upload's preview is kept: $FLSDB_UPLOAD_PREVIEW_HOURS, 24 by default."""
    given = os.environ.get(PREVIEW_HOURS_ENV, "").strip()
    if not given:
        return 24.0
    try:
        hours = float(given)
    except ValueError:
        hours = -1.0
    if not 0 < hours <= 24 * 30:
        raise ConfigurationError(
            f"{PREVIEW_HOURS_ENV} must be a number of hours from more than 0 to 720."
        )
    return hours


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    # Dashboards' figures computed in a worker process (the server); tests compute in-process.
    worker_process: bool = False
    # Sign-in limits and the session's life (idle 30 minutes, 12 hours at most).
    limits: Limits = field(default_factory=Limits)
    # An upload's preview (its file, changes and errors CSV) is removed this long after it.
    upload_preview_hours: float = field(default_factory=preview_hours)


IDLE_ENV = "FLSDB_SESSION_IDLE_MINUTES"
HOURS_ENV = "FLSDB_SESSION_HOURS"


def limits_from_environment() -> Limits:
    """$FLSDB_SESSION_IDLE_MINUTES (30 by default) and $FLSDB_SESSION_HOURS (12)."""
    chosen: dict[str, float] = {}
    for name, key, low, high in (
        (IDLE_ENV, "idle_minutes", 1.0, 24 * 60.0),
        (HOURS_ENV, "absolute_hours", 1.0, 24 * 7.0),
    ):
        text = os.environ.get(name, "").strip()
        if not text:
            continue
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not low <= value <= high:
            raise ConfigurationError(f"{name} must be a number from {low:g} to {high:g}.")
        chosen[key] = value
    return Limits(
        idle_minutes=chosen.get("idle_minutes", 30.0),
        absolute_hours=chosen.get("absolute_hours", 12.0),
    )


def secret_key(folder: Path) -> str:
    """$FLSDB_SECRET_KEY, else the key in `folder`/.flsdb-secret, created on first start with
    permissions 0600 (readable by its owner only)."""
    given = os.environ.get(SECRET_ENV)
    if given:
        if len(given) < 32:
            raise ConfigurationError(f"{SECRET_ENV} must be at least 32 characters long.")
        return given
    path = folder / SECRET_FILE
    try:
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        if path.stat().st_mode & 0o077:
            raise ConfigurationError(
                f"{path} can be read by others; make it private (chmod 600 {path})."
            )
        return path.read_text().strip()
    except OSError as exc:
        raise ConfigurationError(f"Cannot keep the secret key in {path}: {exc.strerror}.") from None
