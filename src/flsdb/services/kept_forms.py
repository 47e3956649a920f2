"""Forms posted after their session ended, kept so that nothing typed is lost: the fields are
held server-side (never in a URL), for the user whose session it was, for KEEP_MINUTES at most,
keyed by the SHA-256 of a random id the browser holds in an HttpOnly cookie, and deleted when
read. The page the form belongs to shows them again, filled in, after the user signs in."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets

from sqlalchemy import Engine, delete, func, select

from flsdb.storage.tables import kept_forms

KEEP_MINUTES = 30
MAX_FIELDS = 400
MAX_BYTES = 64 * 1024
MAX_KEPT = 1000  # rows in all; the oldest go first
NOT_KEPT = frozenset({"csrf_token", "password"})


def _digest(kept_id: str) -> str:
    return hashlib.sha256(kept_id.encode()).hexdigest()


def keep(engine: Engine, user_id: int, path: str, fields: list[tuple[str, str]]) -> str | None:
    """Keep the posted fields for `user_id`'s next visit to `path`; the random id for the
    browser's cookie, or None when there was nothing to keep or too much."""
    pairs = [(k[:100], v) for k, v in fields[:MAX_FIELDS] if k not in NOT_KEPT]
    text = json.dumps(pairs)
    if not pairs or len(text.encode()) > MAX_BYTES or len(path) > 500:
        return None
    kept_id = secrets.token_urlsafe(32)
    now = dt.datetime.now()
    with engine.begin() as conn:
        conn.execute(
            delete(kept_forms).where(
                (kept_forms.c.created_at < now - dt.timedelta(minutes=KEEP_MINUTES))
                | ((kept_forms.c.user_id == user_id) & (kept_forms.c.path == path))
            )
        )
        held = conn.execute(select(func.count()).select_from(kept_forms)).scalar_one()
        if held >= MAX_KEPT:
            oldest = (
                select(kept_forms.c.id_sha256)
                .order_by(kept_forms.c.created_at)
                .limit(held - MAX_KEPT + 1)
            )
            conn.execute(delete(kept_forms).where(kept_forms.c.id_sha256.in_(oldest)))
        conn.execute(
            kept_forms.insert().values(
                id_sha256=_digest(kept_id), user_id=user_id, path=path, fields=text, created_at=now
            )
        )
    return kept_id


def take(engine: Engine, kept_id: str, user_id: int, path: str) -> list[tuple[str, str]] | None:
    """The fields kept under `kept_id` for this user and page (deleted as they are read), or
    None. Kept fields of another user are never shown (and are dropped)."""
    now = dt.datetime.now()
    with engine.begin() as conn:
        row = conn.execute(
            select(kept_forms).where(kept_forms.c.id_sha256 == _digest(kept_id[:100]))
        ).first()
        if row is None or (row.path != path and row.user_id == user_id):
            return None
        conn.execute(delete(kept_forms).where(kept_forms.c.id_sha256 == row.id_sha256))
    if row.user_id != user_id or row.created_at < now - dt.timedelta(minutes=KEEP_MINUTES):
        return None
    return [(str(k), str(v)) for k, v in json.loads(row.fields)]
