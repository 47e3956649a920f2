"""The store: SQLAlchemy tables, Alembic migrations and audited bulk writes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flsdb._lazy import lazy_exports

if TYPE_CHECKING:
    from flsdb.storage.database import open_engine, open_existing, resolve_url, upgrade
    from flsdb.storage.edits import delete_record
    from flsdb.storage.writer import (
        ImportSummary,
        known_service_codes,
        store_records,
        store_services,
    )

_HOMES = {
    "open_engine": "database",
    "open_existing": "database",
    "resolve_url": "database",
    "upgrade": "database",
    "ImportSummary": "writer",
    "delete_record": "edits",
    "known_service_codes": "writer",
    "store_records": "writer",
    "store_services": "writer",
}
__all__ = [
    "ImportSummary",
    "delete_record",
    "known_service_codes",
    "open_engine",
    "open_existing",
    "resolve_url",
    "store_records",
    "store_services",
    "upgrade",
]
__getattr__ = lazy_exports(__name__, _HOMES)
