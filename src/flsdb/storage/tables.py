"""SQLAlchemy tables: services, records (columns from the dictionary), import log, audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

from flsdb.dictionary import FieldSpec, load_dictionary

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def column_type(spec: FieldSpec) -> TypeEngine[Any]:
    """The store's type for a dictionary field."""
    types: dict[str, Any] = {"date": Date(), "integer": Integer(), "number": Float()}
    chosen: TypeEngine[Any] = types.get(spec.type, String())
    return chosen


_dictionary = load_dictionary()

services = Table(
    "services",
    metadata,
    *[
        Column(f.name, column_type(f), primary_key=f.unique, nullable=not f.required)
        for f in _dictionary.services
    ],
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

import_log = Table(
    "import_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String, nullable=False),
    Column("user_name", String, nullable=False),
    Column("imported_at", DateTime, nullable=False),
    Column("file_name", String, nullable=False),
    Column("file_sha256", String, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("inserted", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("warnings", Integer, nullable=False),
)

records = Table(
    "records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *[
        Column(
            f.name,
            column_type(f),
            *([ForeignKey("services.service_code")] if f.type == "service_ref" else []),
            nullable=not f.required,
        )
        for f in _dictionary.records
    ],
    Column("import_id", Integer, ForeignKey("import_log.id"), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint(*_dictionary.record_key, name="uq_records_key"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("table_name", String, nullable=False),
    Column("row_key", String, nullable=False),
    Column("action", String, nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("import_id", Integer, ForeignKey("import_log.id"), nullable=True),
    Column("user_name", String, nullable=False),
    Column("changed_at", DateTime, nullable=False),
    Index("ix_audit_log_row_key", "table_name", "row_key"),
)

RECORD_COLUMNS: tuple[str, ...] = tuple(f.name for f in _dictionary.records)
SERVICE_COLUMNS: tuple[str, ...] = tuple(f.name for f in _dictionary.services)
