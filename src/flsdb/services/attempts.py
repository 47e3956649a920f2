"""The limits of sign-in (attempts per account and address, the window, the session's life)
and which accounts have used up their attempts: read by sign-in (services.signin) and by the
accounts' pages (services.accounts), which show and clear a locked account.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, select

from flsdb.storage.tables import login_attempts

ACCOUNT_ATTEMPTS = 5
WINDOW_MINUTES = 15
ADDRESS_FAILURES = 50


@dataclass(frozen=True)
class Limits:
    """What a deployment may tune: sign-in limits and the session's life."""

    account_attempts: int = ACCOUNT_ATTEMPTS
    address_failures: int = ADDRESS_FAILURES
    window_minutes: int = WINDOW_MINUTES
    idle_minutes: float = 30.0
    absolute_hours: float = 12.0

    @property
    def window(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.window_minutes)

    @property
    def idle(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.idle_minutes)


def locked_until(
    conn: Connection, now: dt.datetime, limits: Limits | None = None
) -> dict[int, dt.datetime]:
    """The accounts whose attempts are used up, by user id, and when they may try again."""
    limits = limits or Limits()
    found = conn.execute(
        select(login_attempts).where(
            login_attempts.c.key.like("u:%"),
            login_attempts.c.attempts >= limits.account_attempts,
            login_attempts.c.window_start >= now - limits.window,
        )
    ).all()
    return {int(r.key[2:]): r.window_start + limits.window for r in found}
