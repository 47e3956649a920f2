"""What the web application needs to start: its database and its session-signing secret."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flsdb.errors import ConfigurationError

SECRET_ENV = "FLSDB_SECRET_KEY"
SECRET_FILE = ".flsdb-secret"


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    # Dashboards' figures computed in a worker process (the server); tests compute in-process.
    worker_process: bool = False


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
