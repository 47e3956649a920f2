"""Accounts: users and their roles, passwords (argon2) and API tokens with a life-cycle (an
expiry, a last use, revoked one by one or all at once, and all revoked when the password, the
role or the account's state changes). Sign-in and sessions are flsdb.services.signin. API tokens
are random and stored only as SHA-256 digests."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Connection, Engine, bindparam, delete, select, update

from flsdb.errors import ConfigurationError, Conflict
from flsdb.services.access import ROLE_WORDS, Actor, NotFound, Role
from flsdb.services.attempts import locked_until
from flsdb.services.events import record_event
from flsdb.storage.tables import (
    api_tokens,
    login_attempts,
    services,
    user_services,
    users,
    web_sessions,
)

MIN_PASSWORD = 10
TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 3650
# A token's last use is written at most this often (a busy script does not write at each call).
LAST_USED_EVERY = dt.timedelta(minutes=1)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# argon2's parameters for new password hashes, as PasswordHasher's keyword arguments; none given,
# argon2-cffi's defaults (RFC 9106's low-memory profile: 64 MiB, 3 passes, 4 lanes). The tests
# hash at the cheapest parameters (tests/conftest.py) and one checks these. A stored hash
# carries its own parameters, so it is verified at the cost it was made with.
HASH_PARAMETERS: dict[str, Any] = {}


class UserExists(Conflict):
    """There is already a user by that name."""


def _hasher() -> Any:
    return PasswordHasher(**HASH_PARAMETERS)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now()


def now() -> dt.datetime:
    """The clock accounts, sessions and tokens are timed by (the server's)."""
    return _now()


def _end_credentials(conn: Connection, user_id: int) -> int:
    """End every session and revoke every API token of the user; how many tokens were revoked."""
    conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))
    return int(conn.execute(delete(api_tokens).where(api_tokens.c.user_id == user_id)).rowcount)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ConfigurationError(f"A password needs at least {MIN_PASSWORD} characters.")


ROLE_NAMES = {
    Role.FLS_STAFF: "FLS staff",
    Role.REGION_VIEWER: "Region viewer",
    Role.NATIONAL_ANALYST: "National analyst",
    Role.ADMIN: "Administrator",
}


def _check_scope(
    conn: Connection, role: Role, codes: Iterable[str], region: str | None
) -> tuple[list[str], str | None]:
    codes = sorted({c.strip().upper() for c in codes if c.strip()})
    region = region.strip().upper() if region else None
    if role is Role.FLS_STAFF:
        if not codes or region:
            raise ConfigurationError(
                "An FLS staff account needs one or more FLSs and no region: choose its FLSs."
            )
        known = set(conn.execute(select(services.c.service_code)).scalars())
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise ConfigurationError(f"There is no FLS {unknown[0]} in the database.")
        return codes, None
    if role is Role.REGION_VIEWER:
        if not region or codes:
            raise ConfigurationError(
                "A region viewer account needs one region and no FLS: choose its region."
            )
        found = conn.execute(
            select(services.c.region_code).where(services.c.region_code == region).limit(1)
        ).first()
        if found is None:
            raise ConfigurationError(f"There is no region {region} in the database.")
        return [], region
    if codes or region:
        raise ConfigurationError(
            f"A {ROLE_NAMES[role].lower()} account has no FLS or region: it sees every one."
        )
    return [], None


def parse_role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        allowed = ", ".join(f"{r.value} ({ROLE_NAMES[r].lower()})" for r in Role)
        raise ConfigurationError(f"'{text[:40]}' is not a role; use one of {allowed}.") from None


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
            raise UserExists(f"There is already a user {name}.")
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
        record_event(conn, by, "user_added", detail=f"{name} as {_role_name(role)}")


def _role_name(role: Role) -> str:
    """A role as the audit log's reader says it ('FLS staff', 'region viewer')."""
    return ROLE_WORDS[role].split(":")[0]


def _user_row(conn: Connection, username: str) -> Any:
    row = conn.execute(select(users).where(users.c.username == username.strip().lower())).first()
    if row is None:
        raise NotFound(f"There is no user {username[:64]}.")
    return row


def list_users(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(users).order_by(users.c.username)).all()
        links = conn.execute(select(user_services)).all()
        locks = locked_until(conn, _now())
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
            "locked_until": locks[r.id].isoformat(timespec="minutes") if r.id in locks else None,
            "role_name": ROLE_NAMES.get(Role(r.role), r.role) if r.role in set(Role) else r.role,
        }
        for r in rows
    ]


def set_disabled(engine: Engine, username: str, disabled: bool, by: str = "flsdb") -> None:
    with engine.begin() as conn:
        row = _user_row(conn, username)
        conn.execute(
            update(users).where(users.c.id == row.id).values(disabled=disabled, updated_at=_now())
        )
        # Disabling ends the sessions and revokes the tokens; enabling brings none of them back.
        if disabled:
            _end_credentials(conn, row.id)
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
        _end_credentials(conn, row.id)
        record_event(conn, by, "user_role_set", detail=f"{row.username} as {_role_name(role)}")


def unlock(engine: Engine, username: str, by: str = "flsdb") -> bool:
    """Clear the account's failed sign-ins, so it may sign in at once; whether it was locked."""
    with engine.begin() as conn:
        row = _user_row(conn, username)
        was = row.id in locked_until(conn, _now()) or (
            row.locked_until is not None and row.locked_until > _now()
        )
        conn.execute(delete(login_attempts).where(login_attempts.c.key == f"u:{row.id}"))
        conn.execute(update(users).where(users.c.id == row.id).values(locked_until=None))
        record_event(conn, by, "user_unlocked", detail=row.username)
    return bool(was)


def reset_password(engine: Engine, username: str, password: str, by: str = "flsdb") -> None:
    check_password(password)
    with engine.begin() as conn:
        row = _user_row(conn, username)
        conn.execute(
            update(users)
            .where(users.c.id == row.id)
            .values(password_hash=_hasher().hash(password), locked_until=None, updated_at=_now())
        )
        conn.execute(delete(login_attempts).where(login_attempts.c.key == f"u:{row.id}"))
        _end_credentials(conn, row.id)
        record_event(conn, by, "password_reset", detail=row.username)


def new_token(engine: Engine, username: str, *, days: int = TOKEN_DAYS, by: str = "flsdb") -> str:
    """A new API token for the user, valid for `days` days, returned once (only its digest is
    kept)."""
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ConfigurationError(
            f"A token's life is 1 to {MAX_TOKEN_DAYS} days; {days} is not allowed."
        )
    token = "flsdb_" + secrets.token_urlsafe(32)
    now = _now()
    with engine.begin() as conn:
        row = _user_row(conn, username)
        token_id = conn.execute(
            api_tokens.insert()
            .values(
                user_id=row.id,
                token_sha256=_digest(token),
                created_at=now,
                expires_at=now + dt.timedelta(days=days),
            )
            .returning(api_tokens.c.id)
        ).scalar_one()
        detail = f"{row.username} token {token_id}, {days} days"
        record_event(conn, by, "token_created", detail=detail)
    return token


def list_tokens(engine: Engine, username: str) -> list[dict[str, Any]]:
    """The user's tokens (id, created, last used, expires), never the token itself."""
    with engine.connect() as conn:
        row = _user_row(conn, username)
        found = conn.execute(
            select(api_tokens).where(api_tokens.c.user_id == row.id).order_by(api_tokens.c.id)
        ).all()
    now = _now()
    return [
        {
            "id": t.id,
            "created": t.created_at,
            "last_used": t.last_used_at,
            "expires": t.expires_at,
            "expired": t.expires_at is None or t.expires_at <= now,
        }
        for t in found
    ]


def revoke_tokens(
    engine: Engine, username: str, token_id: int | None = None, by: str = "flsdb"
) -> int:
    """Revoke one of the user's tokens (by id) or, with no id, all of them; how many."""
    with engine.begin() as conn:
        row = _user_row(conn, username)
        query = delete(api_tokens).where(api_tokens.c.user_id == row.id)
        if token_id is not None:
            query = query.where(api_tokens.c.id == token_id)
        gone = int(conn.execute(query).rowcount)
        if token_id is not None and gone == 0:
            raise NotFound(f"{row.username} has no token {token_id}.")
        which = f"token {token_id}" if token_id is not None else f"all {gone} tokens"
        record_event(conn, by, "token_revoked", detail=f"{row.username} {which}")
    return gone


# Statements run for every request (the signed-in actor), built once: SQLAlchemy then neither
# builds them nor works out their cache key again (a few tenths of a millisecond each).
_USER_SERVICES = select(user_services.c.service_code).where(
    user_services.c.user_id == bindparam("user_id")
)
_REGION_SERVICES = select(services.c.service_code).where(
    services.c.region_code == bindparam("region")
)


def _actor(conn: Connection, row: Any) -> Actor:
    role = Role(row.role)
    codes = frozenset(conn.execute(_USER_SERVICES, {"user_id": row.id}).scalars())
    visible: frozenset[str] | None = None
    if role is Role.FLS_STAFF:
        visible = codes
    elif role is Role.REGION_VIEWER:
        visible = frozenset(conn.execute(_REGION_SERVICES, {"region": row.region_code}).scalars())
    return Actor(
        username=row.username,
        role=role,
        services=codes,
        region=row.region_code,
        user_id=row.id,
        visible=visible,
    )


def token_actor(engine: Engine, token: str) -> Actor | None:
    """The actor of a live API token (not expired, its user not disabled), or None; its last
    use is written at most once a minute."""
    now = _now()
    with engine.connect() as conn:
        found = conn.execute(
            select(users, api_tokens.c.id.label("token_id"), api_tokens.c.last_used_at)
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(api_tokens.c.token_sha256 == _digest(token))
            .where(api_tokens.c.expires_at > now)
            .where(users.c.disabled.is_(False))
        ).first()
        if found is None:
            return None
        actor = _actor(conn, found)
    if found.last_used_at is None or now - found.last_used_at >= LAST_USED_EVERY:
        with engine.begin() as conn:
            conn.execute(
                update(api_tokens).where(api_tokens.c.id == found.token_id).values(last_used_at=now)
            )
    return actor
