"""The store: SQLAlchemy tables, Alembic migrations and audited bulk writes."""

from __future__ import annotations

from flsdb.storage.database import open_engine, resolve_url, upgrade
from flsdb.storage.writer import (
    ImportSummary,
    delete_record,
    known_service_codes,
    store_records,
    store_services,
)

__all__ = [
    "ImportSummary",
    "delete_record",
    "known_service_codes",
    "open_engine",
    "resolve_url",
    "store_records",
    "store_services",
    "upgrade",
]
