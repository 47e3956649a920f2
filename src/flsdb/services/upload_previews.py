"""Where an upload waits between its preview and its commit, and for how long.

A preview (the file, the field changes storing it would make, the stored versions it read and
its errors CSV) is kept for a limited time, 24 hours unless the web application's setting says
otherwise, and removed at its commit: expired previews are purged when any preview is read and
before each new upload. What stays of one is a husk (its id, owner, status and counts), so that
asking for it again says it expired rather than that it never was; husks go after 30 days.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update

from flsdb.services.access import Actor, NotFound
from flsdb.storage.tables import uploads

DEFAULT_HOURS = 24.0
HUSK_DAYS = 30
EXPIRED = "expired"
# What a husk's summary keeps: counts, never cell values.
COUNTS = ("id", "rows", "inserted", "updated", "unchanged", "error_count", "warning_count")


def pack(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, separators=(",", ":")).encode(), 6)


def unpack(blob: bytes | None) -> Any:
    return json.loads(zlib.decompress(blob)) if blob else None


def _cutoff(hours: float) -> dt.datetime:
    return dt.datetime.now() - dt.timedelta(hours=hours)


def purge(conn: Connection, hours: float = DEFAULT_HOURS) -> None:
    """Empty every preview older than `hours` (committed or not) and drop old husks."""
    old = uploads.c.created_at < _cutoff(hours)
    for row in conn.execute(
        select(uploads.c.id, uploads.c.summary).where(old).where(uploads.c.status != EXPIRED)
    ).all():
        summary = json.loads(row.summary)
        husk = {k: summary[k] for k in COUNTS if k in summary}
        conn.execute(
            update(uploads)
            .where(uploads.c.id == row.id)
            .values(
                status=EXPIRED,
                content=None,
                errors_csv=None,
                changes=None,
                summary=json.dumps(husk),
            )
        )
    conn.execute(
        delete(uploads).where(
            uploads.c.created_at < dt.datetime.now() - dt.timedelta(days=HUSK_DAYS)
        )
    )


def load(engine: Engine, actor: Actor, upload_id: str, hours: float = DEFAULT_HOURS) -> Any:
    """The actor's upload, once expired previews are purged; NotFound if it is not theirs, or
    gone (with one sentence saying it expired)."""
    with engine.begin() as conn:
        purge(conn, hours)
        row = conn.execute(
            select(uploads)
            .where(uploads.c.id == upload_id)
            .where(uploads.c.user_name == actor.username)
        ).first()
    if row is None:
        raise NotFound("There is no such upload of yours.")
    if row.status == EXPIRED:
        raise NotFound(
            f"This upload's preview expired (previews are kept {hours:g} hours) and was "
            "removed with its file; upload the file again."
        )
    return row


def changes_page(row: Any, offset: int = 0, limit: int = 1000) -> dict[str, Any]:
    """One page of the preview's field changes, in file order, and how many there are."""
    kept = unpack(row.changes) or {}
    changes = kept.get("changes", [])
    offset, limit = max(0, offset), max(1, min(limit, 10_000))
    return {
        "changes": changes[offset : offset + limit],
        "changes_offset": offset,
        "changes_total": int(kept.get("change_count", len(changes))),
        "changes_listed": len(changes),
    }


def seen_versions(row: Any) -> list[tuple[int, int, int]]:
    kept = unpack(row.changes) or {}
    return [(int(r), int(i), int(v)) for r, i, v in kept.get("seen", [])]
