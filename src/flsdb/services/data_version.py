"""The store's data version: it changes whenever a record or service changes, so figures
computed at one version are current while it stays."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from flsdb.storage.tables import audit_log

# PostgreSQL hands out ids when rows are written, not when they commit: a change whose audit
# rows commit after a later one's adds rows below the largest id, so the version also counts the
# audit rows among the latest ids (a change committed that late is seen).
RECENT_AUDIT_ROWS = 10_000
# The latest audit row's id, built once: every view of figures asks (here and for the upload
# notice, `services.upload_notices`).
LATEST_AUDIT_ID = select(func.max(audit_log.c.id))


def data_version(engine: Engine) -> tuple[object, ...]:
    """Changes whenever a record or service changes (each writes an audit row)."""
    with engine.connect() as conn:
        top = conn.execute(LATEST_AUDIT_ID).scalar()
        if engine.dialect.name == "sqlite" or top is None:
            return (top,)  # SQLite writers commit one at a time, in the order of their ids
        recent = conn.execute(
            select(func.count()).where(audit_log.c.id > int(top) - RECENT_AUDIT_ROWS)
        ).scalar()
        return (top, recent)
