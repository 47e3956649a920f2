"""Accounts: users and their roles, passwords (argon2), sign-in with lock-out, sessions and API
tokens. Session ids and API tokens are random and stored only as SHA-256 digests."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update

from flsdb.errors import ConfigurationError, FlsdbError
from flsdb.services.access import Actor, NotFound, Role
from flsdb.services.events import recent_failures, record_event
from flsdb.storage.tables import api_tokens, services, user_services, users, web_sessions

MAX_FAILURES = 5
LOCK_MINUTES = 15
SESSION_HOURS = 8
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class LoginFailed(FlsdbError):
    """Unknown user or wrong password (the two are not told apart)."""


class AccountLocked(FlsdbError):
    """Too many failed sign-ins; the account waits."""


@dataclass(frozen=True)
class Session:
    token: str
    csrf_token: str
    actor: Actor


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ConfigurationError(f"A password needs at least {MIN_PASSWORD} characters.")


def _check_scope(
    conn: Connection, role: Role, codes: Iterable[str], region: str | None
) -> tuple[list[str], str | None]:
    codes = sorted({c.strip().upper() for c in codes if c.strip()})
    region = region.strip().upper() if region else None
    if role is Role.FLS_STAFF:
        if not codes or region:
            raise ConfigurationError("An fls_staff user needs one or more --service and no region.")
        known = set(conn.execute(select(services.c.service_code)).scalars())
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise ConfigurationError(f"There is no FLS {unknown[0]} in the database.")
        return codes, None
    if role is Role.REGION_VIEWER:
        if not region or codes:
            raise ConfigurationError("A region_viewer user needs one --region and no service.")
        found = conn.execute(
            select(services.c.region_code).where(services.c.region_code == region).limit(1)
        ).first()
        if found is None:
            raise ConfigurationError(f"There is no region {region} in the database.")
        return [], region
    if codes or region:
        raise ConfigurationError(f"A {role.value} user has no --service or --region.")
    return [], None


def parse_role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise ConfigurationError(f"'{text}' is not a role; use one of {allowed}.") from None


def add_user(
    engine: Engine,
    username: str,
    role: Role,
    password: str,
    *,
    service_codes: Iterable[str] = (),
    region: str | None = None,
    by: str = "flsdb",
) -> None:
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise ConfigurationError(
            f"'{username[:40]}' cannot be a user name: use 2 to 64 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit."
        )
    check_password(password)
    with engine.begin() as conn:
        if conn.execute(select(users.c.id).where(users.c.username == name)).first():
            raise ConfigurationError(f"There is already a user {name}.")
        codes, region = _check_scope(conn, role, service_codes, region)
        now = _now()
        user_id = conn.execute(
            users.insert()
            .values(
                username=name,
                password_hash=_hasher().hash(password),
                role=role.value,
                region_code=region,
                disabled=False,
                created_at=now,
                updated_at=now,
            )
            .returning(users.c.id)
        ).scalar_one()
        for code in codes:
            conn.execute(user_services.insert().values(user_id=user_id, service_code=code))
        record_event(conn, by, "user_added", detail=f"{name} as {role.value}")


def _user_row(conn: Connection, username: str) -> Any:
    row = conn.execute(select(users).where(users.c.username == username.strip().lower())).first()
    if row is None:
        raise NotFound(f"There is no user {username[:64]}.")
    return row


def list_users(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(users).order_by(users.c.username)).all()
        links = conn.execute(select(user_services)).all()
    codes: dict[int, list[str]] = {}
    for link in links:
        codes.setdefault(link.user_id, []).append(link.service_code)
    return [
        {
            "username": r.username,
            "role": r.role,
            "services": sorted(codes.get(r.id, [])),
            "region": r.region_code,
            "disabled": bool(r.disabled),
            "locked_until": r.locked_until.isoformat(timespec="minutes")
            if r.locked_until and r.locked_until > _now()
            else None,
        }
        for r in rows
    ]


def set_disabled(engine: Engine, username: str, disabled: bool, by: str = "flsdb") -> None:
    with engine.begin() as conn:
        row = _user_row(conn, username)
        conn.execute(
            update(users).where(users.c.id == row.id).values(disabled=disabled, updated_at=_now())
        )
        if disabled:
            conn.execute(delete(web_sessions).where(web_sessions.c.user_id == row.id))
        record_event(conn, by, "user_disabled" if disabled else "user_enabled", detail=row.username)


def set_role(
    engine: Engine,
    username: str,
    role: Role,
    *,
    service_codes: Iterable[str] = (),
    region: str | None = None,
    by: str = "flsdb",
) -> None:
    with engine.begin() as conn:
        row = _user_row(conn, username)
        codes, region = _check_scope(conn, role, service_codes, region)
        conn.execute(
            update(users)
            .where(users.c.id == row.id)
            .values(role=role.value, region_code=region, updated_at=_now())
        )
        conn.execute(delete(user_services).where(user_services.c.user_id == row.id))
        for code in codes:
            conn.execute(user_services.insert().values(user_id=row.id, service_code=code))
        conn.execute(delete(web_sessions).where(web_sessions.c.user_id == row.id))
        record_event(conn, by, "user_role_set", detail=f"{row.username} as {role.value}")


def reset_password(engine: Engine, username: str, password: str, by: str = "flsdb") -> None:
    check_password(password)
    with engine.begin() as conn:
        row = _user_row(conn, username)
        conn.execute(
            update(users)
            .where(users.c.id == row.id)
            .values(password_hash=_hasher().hash(password), locked_until=None, updated_at=_now())
        )
        conn.execute(delete(web_sessions).where(web_sessions.c.user_id == row.id))
        record_event(conn, by, "password_reset", detail=row.username)


def new_token(engine: Engine, username: str, by: str = "flsdb") -> str:
    """A new API token for the user, returned once (only its digest is kept)."""
    token = "flsdb_" + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        row = _user_row(conn, username)
        conn.execute(
            api_tokens.insert().values(
                user_id=row.id, token_sha256=_digest(token), created_at=_now()
            )
        )
        record_event(conn, by, "token_created", detail=row.username)
    return token


def _actor(conn: Connection, row: Any) -> Actor:
    role = Role(row.role)
    codes = frozenset(
        conn.execute(
            select(user_services.c.service_code).where(user_services.c.user_id == row.id)
        ).scalars()
    )
    visible: frozenset[str] | None = None
    if role is Role.FLS_STAFF:
        visible = codes
    elif role is Role.REGION_VIEWER:
        visible = frozenset(
            conn.execute(
                select(services.c.service_code).where(services.c.region_code == row.region_code)
            ).scalars()
        )
    return Actor(
        username=row.username,
        role=role,
        services=codes,
        region=row.region_code,
        user_id=row.id,
        visible=visible,
    )


def sign_in(engine: Engine, username: str, password: str) -> Session:
    """A new session for the right password; LoginFailed or AccountLocked otherwise. Five
    failures in 15 minutes lock the account for 15 minutes, even against the right password."""
    from argon2.exceptions import InvalidHashError, VerificationError

    name = username.strip().lower()[:64]
    now = _now()
    with engine.begin() as conn:
        row = conn.execute(select(users).where(users.c.username == name)).first()
        if row is not None and row.locked_until is not None and row.locked_until > now:
            record_event(conn, name, "login_refused_locked")
            raise AccountLocked(
                f"Too many failed sign-ins: the account is locked for {LOCK_MINUTES} minutes."
            )
        hasher = _hasher()
        try:
            ok = row is not None and hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
        if row is None:  # the same work as a real check, so timing tells nothing
            with contextlib.suppress(VerificationError, InvalidHashError):
                hasher.verify(_DUMMY_HASH.get(hasher), password)
        if not ok or row is None or row.disabled:
            record_event(conn, name, "login_failed")
            since = now - dt.timedelta(minutes=LOCK_MINUTES)
            if row is not None and recent_failures(conn, name, since) >= MAX_FAILURES:
                conn.execute(
                    update(users)
                    .where(users.c.id == row.id)
                    .values(locked_until=now + dt.timedelta(minutes=LOCK_MINUTES))
                )
        else:
            token = secrets.token_urlsafe(32)
            csrf = secrets.token_urlsafe(32)
            conn.execute(
                web_sessions.insert().values(
                    id_sha256=_digest(token),
                    user_id=row.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + dt.timedelta(hours=SESSION_HOURS),
                )
            )
            conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now))
            record_event(conn, name, "login")
            return Session(token, csrf, _actor(conn, row))
    raise LoginFailed("The user name or password is not right.")


class _Dummy:
    """An argon2 hash of nothing in particular, made once, for unknown users."""

    value: str | None = None

    def get(self, hasher: Any) -> str:
        if self.value is None:
            self.value = hasher.hash(secrets.token_hex(16))
        return self.value


_DUMMY_HASH = _Dummy()


def session_actor(engine: Engine, token: str) -> tuple[Actor, str] | None:
    """The actor and CSRF token of a live session, or None."""
    with engine.connect() as conn:
        found = conn.execute(
            select(users, web_sessions.c.csrf_token)
            .join(web_sessions, users.c.id == web_sessions.c.user_id)
            .where(web_sessions.c.id_sha256 == _digest(token))
            .where(web_sessions.c.expires_at > _now())
            .where(users.c.disabled.is_(False))
        ).first()
        if found is None:
            return None
        return _actor(conn, found), found.csrf_token


def sign_out(engine: Engine, token: str, username: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(web_sessions).where(web_sessions.c.id_sha256 == _digest(token)))
        record_event(conn, username, "logout")


def token_actor(engine: Engine, token: str) -> Actor | None:
    with engine.connect() as conn:
        found = conn.execute(
            select(users)
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(api_tokens.c.token_sha256 == _digest(token))
            .where(users.c.disabled.is_(False))
        ).first()
        return _actor(conn, found) if found is not None else None
