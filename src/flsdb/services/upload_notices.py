"""An FLS's latest upload as its dashboard states it: when, who, the file, what it changed, and
how many changes were made in the form since (read from the audit trail)."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Engine, func, select

from flsdb.services.data_version import LATEST_AUDIT_ID
from flsdb.services.policy import Actor
from flsdb.storage.audit import key_of_service, rows_of_service, rows_outside_service
from flsdb.storage.tables import audit_log, import_log


class UploadsSeen(Protocol):
    """Where the last upload found per FLS is kept between views (the dashboards' cache)."""

    uploads: dict[str, tuple[int, Any]]


def last_upload(
    engine: Engine, code: str, cache: UploadsSeen | None = None
) -> dict[str, Any] | None:
    """The FLS's latest upload: when, who, the file, what it changed, and how many changes were
    made in the form since. With a cache, a later view reads only the audit rows written since
    the last one (each dashboard view would otherwise scan the FLS's whole audit trail)."""
    with engine.connect() as conn:
        now = conn.execute(LATEST_AUDIT_ID).scalar() or 0
        known = cache.uploads.get(code) if cache is not None else None
        if known is not None and known[1] is not None:
            seen, found = known
            if now == seen:
                return found
            # The rows since, by their ids alone: the keys' index would scan the FLS's trail.
            newer = conn.execute(
                select(func.count(), func.max(audit_log.c.import_id)).where(
                    audit_log.c.id > seen,
                    audit_log.c.id <= now,
                    func.substr(audit_log.c.table_name, 1, 7) == "records",
                    key_of_service(code),
                )
            ).one()
            if newer[1] is None:  # only changes in the form since: count them
                found = {**found, "changes_since": found["changes_since"] + int(newer[0])}
                cache.uploads[code] = (now, found)  # type: ignore[union-attr]
                return found
        found = _last_upload(conn, code, now)
    if cache is not None:
        cache.uploads[code] = (now, found)
    return found


def upload_notice(actor: Actor, found: dict[str, Any] | None) -> dict[str, Any] | None:
    """The last upload as `actor` may see it: the file's name (the uploader's own text, which
    may name a patient) only for the uploader and, when the upload held this FLS's records
    alone, its staff; counts, who and when for everyone."""
    if found is None:
        return None
    own = found.get("service") in actor.patient_services and found.get("single_fls", False)
    if own or found.get("by") == actor.username:
        return found
    return {k: v for k, v in found.items() if k != "file"}


def _last_upload(conn: Any, code: str, now: int) -> dict[str, Any] | None:
    mine = (rows_of_service(code), audit_log.c.id <= now)
    groups = conn.execute(
        select(audit_log.c.import_id, audit_log.c.action, func.count(), func.max(audit_log.c.id))
        .where(*mine)
        .group_by(audit_log.c.import_id, audit_log.c.action)
    ).all()
    imports = [g.import_id for g in groups if g.import_id is not None]
    if not imports:
        return None
    latest = max(imports)
    log = conn.execute(select(import_log).where(import_log.c.id == latest)).one()
    actions = {g.action: int(g[2]) for g in groups if g.import_id == latest}
    last_id = max(int(g[3]) for g in groups if g.import_id == latest)
    since = conn.execute(
        select(func.count()).where(*mine, audit_log.c.id > last_id, audit_log.c.import_id.is_(None))
    ).scalar_one()
    # Did the upload touch another FLS's records? Then its file name (which may name one of
    # that FLS's patients) is shown to no FLS's staff but the uploader.
    others = conn.execute(
        select(audit_log.c.id)
        .where(
            audit_log.c.import_id == latest,
            rows_outside_service(code),
        )
        .limit(1)
    ).first()
    return {
        "service": code,
        "single_fls": others is None,
        "file": log.file_name,
        "at": log.imported_at.isoformat(timespec="minutes"),
        "by": log.user_name,
        "inserted": int(actions.get("insert", 0)),
        "updated": int(actions.get("update", 0)),
        "unchanged": int(log.unchanged),
        "changes_since": int(since),
    }
