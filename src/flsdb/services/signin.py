"""Sign-in that cannot be raced, and sessions with an idle and an absolute limit.

Every attempt is counted in the database, in one statement committed before any password is
checked: per account (its user id), per unknown name (a keyed hash of the name, never the name)
and per client address (a keyed hash). The sixth attempt on an account within its 15-minute
window is refused without a check, however many arrive at once, and an unknown name is counted
and refused exactly as a known one. A success clears the account's count. Password checks
(argon2, 64 MiB each) run at most CONCURRENT_CHECKS at a time in a process; more wait briefly in
a bounded queue, then are told the server is busy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import math
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, bindparam, case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from flsdb.errors import FlsdbError
from flsdb.services import accounts
from flsdb.services.access import Actor
from flsdb.services.attempts import Limits
from flsdb.services.events import record_event
from flsdb.storage.tables import login_attempts, users, web_sessions

UNKNOWN_NAMES = 10_000  # rows kept for unknown names at most (the oldest go first)
CONCURRENT_CHECKS = 2
QUEUED_CHECKS = 64
WAIT_SECONDS = 30.0
TOUCH_EVERY = dt.timedelta(minutes=1)
UNKNOWN_USER = "(unknown name)"


class LoginFailed(FlsdbError):
    """Unknown user or wrong password (the two are not told apart)."""

    status = 401


class AccountLocked(FlsdbError):
    """Too many sign-in attempts on the account, or from the address; they wait."""

    status = 429


class Busy(FlsdbError):
    """Too many passwords being checked at once; try again in a moment."""

    status = 503


@dataclass(frozen=True)
class Session:
    token: str
    csrf_token: str
    actor: Actor


@dataclass(frozen=True)
class Live:
    """A live session: its actor, CSRF token and when it ends unless used again."""

    actor: Actor
    csrf_token: str
    ends_at: dt.datetime


def keyed(secret: str, kind: str, text: str) -> str:
    """A keyed hash of a typed name or an address: the same text gives the same hash, and
    without the server's secret nothing leads back to the text."""
    return hmac.new(secret.encode(), f"{kind}\0{text}".encode(), hashlib.sha256).hexdigest()[:32]


class _Gate:
    """At most `slots` password checks at once; at most `queue` waiting, each for `wait`
    seconds at most. A counter of the checks made, for tests and measurements."""

    def __init__(self, slots: int, queue: int, wait: float) -> None:
        self.slots, self.queue, self.wait = slots, queue, wait
        self._semaphore = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._waiting = 0
        self.checks = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._lock:
            if self._waiting >= self.queue:
                raise Busy("The server is busy checking passwords; try again in a moment.")
            self._waiting += 1
        try:
            got = self._semaphore.acquire(timeout=self.wait)
        finally:
            with self._lock:
                self._waiting -= 1
        if not got:
            raise Busy("The server is busy checking passwords; try again in a moment.")
        try:
            with self._lock:
                self.checks += 1
            yield
        finally:
            self._semaphore.release()


GATE = _Gate(CONCURRENT_CHECKS, QUEUED_CHECKS, WAIT_SECONDS)


def _insert(engine: Engine) -> Any:
    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert


def count_attempt(
    engine: Engine, key: str, now: dt.datetime, window: dt.timedelta
) -> tuple[int, dt.datetime]:
    """Add one attempt to `key`'s window (a new window when the last one has ended) and return
    the attempts in it and when it started: one statement, committed before anything else, so
    concurrent attempts each see their own number."""
    cut = now - window
    table = login_attempts
    stale = table.c.window_start < cut
    statement = (
        _insert(engine)(table)
        .values(key=key, attempts=1, window_start=now)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "attempts": case((stale, 1), else_=table.c.attempts + 1),
                "window_start": case((stale, now), else_=table.c.window_start),
            },
        )
        .returning(table.c.attempts, table.c.window_start)
    )
    with engine.begin() as conn:
        attempts, start = conn.execute(statement).one()
    if attempts == 1:
        _tidy(engine, cut)
    return int(attempts), start


def _undo(engine: Engine, key: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(login_attempts)
            .where(login_attempts.c.key == key, login_attempts.c.attempts > 0)
            .values(attempts=login_attempts.c.attempts - 1)
        )


def _tidy(engine: Engine, cut: dt.datetime) -> None:
    """Delete ended windows, and keep at most UNKNOWN_NAMES rows of unknown names (housekeeping:
    a clash with another attempt's tidying is left for the next)."""
    try:
        with engine.begin() as conn:
            conn.execute(delete(login_attempts).where(login_attempts.c.window_start < cut))
            unknown = login_attempts.c.key.like("n:%")
            held = conn.execute(select(func.count()).where(unknown)).scalar_one()
            if held > UNKNOWN_NAMES:
                oldest = (
                    select(login_attempts.c.key)
                    .where(unknown)
                    .order_by(login_attempts.c.window_start)
                    .limit(held - UNKNOWN_NAMES)
                )
                conn.execute(delete(login_attempts).where(login_attempts.c.key.in_(oldest)))
    except DBAPIError as exc:  # left for the next attempt's tidying, and said in the log
        logging.getLogger("flsdb.services.signin").warning(
            "tidying the sign-in attempts failed (%s); the next sign-in tries again",
            type(exc).__name__,
        )


def _verify(password_hash: str | None, password: str) -> bool:
    """argon2's check, inside the gate; an unknown name is checked against a dummy hash, so its
    answer takes as long as a known one's."""
    hasher = accounts._hasher()
    with GATE.slot():
        try:
            return bool(hasher.verify(password_hash or _DUMMY.get(hasher), password))
        except (VerificationError, InvalidHashError):
            return False


class _Dummy:
    """An argon2 hash of nothing in particular, made once, for unknown users."""

    value: str | None = None

    def get(self, hasher: Any) -> str:
        if self.value is None:
            self.value = hasher.hash(secrets.token_hex(16))
        return self.value


_DUMMY = _Dummy()


def _wait_text(start: dt.datetime, now: dt.datetime, window: dt.timedelta) -> str:
    minutes = max(1, math.ceil((start + window - now).total_seconds() / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def sign_in(
    engine: Engine,
    username: str,
    password: str,
    *,
    secret: str,
    address: str | None = None,
    browser: str | None = None,
    limits: Limits | None = None,
) -> Session:
    """A new session for the right password; LoginFailed, AccountLocked or Busy otherwise.

    The CSRF token is derived from the browser's id and the user (the same for every sign-in of
    that user in that browser, so forms open in other tabs still save); the session id is new."""
    limits = limits or Limits()
    name = username.strip().lower()[:64]
    now = accounts._now()
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == name)).first()
    who = row.username if row is not None else UNKNOWN_USER
    detail = None if row is not None else f"name hash {keyed(secret, 'name', name)}"
    counted: list[str] = []
    if address:
        by_address = "a:" + keyed(secret, "address", address)
        attempts, start = count_attempt(engine, by_address, now, limits.window)
        if attempts > limits.address_failures:
            record_event(engine, who, "login_refused_address", detail=detail)
            raise AccountLocked(
                "Too many failed sign-ins from this network address: wait "
                f"{_wait_text(start, now, limits.window)} and try again."
            )
        counted.append(by_address)
    key = f"u:{row.id}" if row is not None else "n:" + keyed(secret, "name", name)
    attempts, start = count_attempt(engine, key, now, limits.window)
    if attempts > limits.account_attempts:
        record_event(engine, who, "login_refused_locked", detail=detail)
        raise AccountLocked(
            "Too many failed sign-ins: the account is locked; try again in "
            f"{_wait_text(start, now, limits.window)}."
        )
    counted.append(key)
    try:
        ok = _verify(row.password_hash if row is not None else None, password)
    except Busy:
        for each in counted:
            _undo(engine, each)
        raise
    if not ok or row is None or row.disabled:
        record_event(engine, who, "login_failed", detail=detail)
        raise LoginFailed("The user name or password is not right.")
    token = secrets.token_urlsafe(32)
    csrf = keyed(secret, "csrf", f"{browser}\0{row.id}") if browser else secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(delete(login_attempts).where(login_attempts.c.key == key))
        if address:  # a success is not a failure of the address
            conn.execute(
                update(login_attempts)
                .where(login_attempts.c.key == counted[0], login_attempts.c.attempts > 0)
                .values(attempts=login_attempts.c.attempts - 1)
            )
        conn.execute(
            web_sessions.insert().values(
                id_sha256=accounts._digest(token),
                user_id=row.id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + dt.timedelta(hours=limits.absolute_hours),
                last_seen_at=now,
            )
        )
        conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now))
        record_event(conn, row.username, "login")
        return Session(token, csrf, accounts._actor(conn, row))


# The live session of a token's digest: run for every request, so built once (SQLAlchemy then
# neither builds it nor works out its cache key again).
_LIVE_SESSION = (
    select(users, web_sessions.c.csrf_token, web_sessions.c.expires_at.label("until"))
    .add_columns(web_sessions.c.last_seen_at)
    .join(web_sessions, users.c.id == web_sessions.c.user_id)
    .where(web_sessions.c.id_sha256 == bindparam("digest"))
    .where(web_sessions.c.expires_at > bindparam("now"))
    .where(web_sessions.c.last_seen_at > bindparam("idle_since"))
    .where(users.c.disabled.is_(False))
)


def session_actor(
    engine: Engine, token: str, limits: Limits | None = None, *, touch: bool = True
) -> Live | None:
    """The live session of `token` (used within the idle limit and before the absolute one), or
    None. Using it extends the idle limit (written at most once a minute unless forced)."""
    found = session_lookup(engine, token, limits)
    if found is None:
        return None
    live, due = found
    return due() if touch and due is not None else live


def session_lookup(
    engine: Engine, token: str, limits: Limits | None = None
) -> tuple[Live, Callable[[], Live] | None] | None:
    """The live session of `token` as it stands (a read), and, when its once-a-minute use is
    due, the write that records it and gives the session as extended (None when not due); None
    when there is no live session. The web runs the read where it is (every request) and the
    write in a thread: the write may wait for the store's write lock."""
    limits = limits or Limits()
    now = accounts._now()
    digest = accounts._digest(token)
    with engine.connect() as conn:
        found = conn.execute(
            _LIVE_SESSION, {"digest": digest, "now": now, "idle_since": now - limits.idle}
        ).first()
        if found is None:
            return None
        actor = accounts._actor(conn, found)
    seen = found.last_seen_at
    live = Live(actor, found.csrf_token, min((seen or now) + limits.idle, found.until))
    if seen is not None and now - seen < TOUCH_EVERY:
        return live, None

    def touched() -> Live:
        with engine.begin() as conn:
            conn.execute(
                update(web_sessions)
                .where(web_sessions.c.id_sha256 == digest)
                .values(last_seen_at=now)
            )
        return Live(actor, found.csrf_token, min(now + limits.idle, found.until))

    return live, touched


def extend_session(engine: Engine, token: str, limits: Limits | None = None) -> Live | None:
    """Use the session now ("stay signed in"): its idle limit starts again."""
    limits = limits or Limits()
    live = session_actor(engine, token, limits, touch=False)
    if live is None:
        return None
    now = accounts._now()
    with engine.begin() as conn:
        conn.execute(
            update(web_sessions)
            .where(web_sessions.c.id_sha256 == accounts._digest(token))
            .values(last_seen_at=now)
        )
        until = conn.execute(
            select(web_sessions.c.expires_at).where(
                web_sessions.c.id_sha256 == accounts._digest(token)
            )
        ).scalar_one()
    return Live(live.actor, live.csrf_token, min(now + limits.idle, until))


def session_owner(engine: Engine, token: str) -> int | None:
    """Whose session `token` was, live or ended (while its row is kept): a form posted after
    the session ended is kept for that user only."""
    with engine.connect() as conn:
        found = conn.execute(
            select(web_sessions.c.user_id).where(
                web_sessions.c.id_sha256 == accounts._digest(token)
            )
        ).scalar()
    return int(found) if found is not None else None


def sign_out(engine: Engine, token: str, username: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            delete(web_sessions).where(web_sessions.c.id_sha256 == accounts._digest(token))
        )
        record_event(conn, username, "logout")
