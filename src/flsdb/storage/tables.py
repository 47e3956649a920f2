"""SQLAlchemy tables: services, records (columns from the dictionary), import log, audit log, and
the web application's users, sessions, API tokens, pending uploads and access events."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

from flsdb.dictionary import FieldSpec, load_dictionary
from flsdb.storage.offsets import DAY_OFFSETS

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

# kpi01's key fields, which a search of records by status reads (`flsdb.services.missing`):
# kept in an index with the FLS and fracture date (migration 0015; a test checks that the
# search's count reads that index alone, so a catalogue with other key fields asks for a new
# migration).
KEY_FIELDS_INDEX = (
    "sex",
    "care_home_resident",
    "admitted_to_hospital",
    "fracture_type",
    "fracture_site",
    "previous_fracture",
    "bone_therapy_at_presentation",
    "dxa",
    "bone_therapy_recommended",
    "calcium_vitamin_d_recommended",
    "falls_assessment",
    "fallen_past_12_months",
    "strength_balance_referred",
    "followup_16w",
    "followup_52w",
    "bone_therapy_16w",
)

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
    # Raised by every update: a form or API client saving an older version gets a conflict.
    Column("version", Integer, nullable=False, server_default="1"),
    # Whole days from the fracture to each later date, set by every writer (storage.offsets).
    *[Column(name, Integer, nullable=True) for name in DAY_OFFSETS],
    UniqueConstraint(*_dictionary.record_key, name="uq_records_key"),
    # An FLS's records by fracture date: the pages of the web application's lists.
    Index("ix_records_service_fracture", "service_code", "date_fracture_diagnosed"),
    # The same with the key fields a search by status reads: its count from the index alone.
    Index("ix_records_key_fields", "service_code", "date_fracture_diagnosed", *KEY_FIELDS_INDEX),
    # An id is never given twice (SQLite would otherwise reuse a deleted record's id, and the
    # next record of any FLS would inherit its audit trail); PostgreSQL's serial never does.
    sqlite_autoincrement=True,
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
    # Set by changes made one record at a time (form, API); history also follows `row_key`.
    Column("record_id", Integer, nullable=True),
    Index("ix_audit_log_row_key", "table_name", "row_key"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String, nullable=False, unique=True),
    Column("password_hash", String, nullable=False),
    Column("role", String, nullable=False),
    Column("region_code", String, nullable=True),
    Column("disabled", Boolean, nullable=False, server_default="0"),
    Column("locked_until", DateTime, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

user_services = Table(
    "user_services",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("service_code", String, primary_key=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_sha256", String, nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
    # A token is refused after this; revoking one deletes its row (nothing brings it back).
    Column("expires_at", DateTime, nullable=True),
    Column("last_used_at", DateTime, nullable=True),
    # An id is never given twice: tokens are named by id in listings, revokes and the events
    # trail (SQLite would otherwise give a revoked newest token's id to the next one).
    sqlite_autoincrement=True,
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_sha256", String, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String, nullable=False),
    Column("created_at", DateTime, nullable=False),
    # The absolute limit (12 hours after sign-in); the idle limit runs from last_seen_at.
    Column("expires_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=True),
)

# Sign-in attempts counted before any password is checked, per account ("u:" and the user id),
# per unknown name ("n:" and a keyed hash, never the name) and per client address ("a:" and a
# keyed hash). A row's window lasts 15 minutes; expired rows are deleted as others are counted.
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("key", String, primary_key=True),
    Column("attempts", Integer, nullable=False),
    Column("window_start", DateTime, nullable=False),
    Index("ix_login_attempts_window_start", "window_start"),
)

# A form posted after its session ended, kept for the same user to find filled in after signing
# in again: keyed by the SHA-256 of a random id held in an HttpOnly cookie, read once, and
# deleted after use or when stale (minutes).
kept_forms = Table(
    "kept_forms",
    metadata,
    Column("id_sha256", String, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("path", String, nullable=False),
    Column("fields", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

# Who did what through the web application or the API: logins and failures, reads of patient
# data, changes, uploads and exports. Never an NHS number, date of birth or postcode.
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("user_name", String, nullable=False),
    Column("action", String, nullable=False),
    Column("service_code", String, nullable=True),
    Column("record_id", Integer, nullable=True),
    Column("detail", Text, nullable=True),
    Index("ix_events_at", "at"),
)

uploads = Table(
    "uploads",
    metadata,
    Column("id", String, primary_key=True),
    Column("user_name", String, nullable=False),
    Column("file_name", String, nullable=False),
    Column("content", LargeBinary, nullable=True),
    Column("summary", Text, nullable=False),
    Column("errors_csv", LargeBinary, nullable=True),
    Column("status", String, nullable=False),
    Column("created_at", DateTime, nullable=False),
    # What storing it would change and the stored versions it read (zlib-compressed JSON).
    Column("changes", LargeBinary, nullable=True),
)

# Periods closed to changes: an FLS's signed-off quarter (service_code set) or a year the
# national team locked for the annual report (service_code empty). Lifting one is kept here too.
period_locks = Table(
    "period_locks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String, nullable=False),
    Column("service_code", String, nullable=True),
    Column("period", String, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("user_name", String, nullable=False),
    Column("locked_at", DateTime, nullable=False),
    Column("note", Text, nullable=True),
    Column("lifted_at", DateTime, nullable=True),
    Column("lifted_by", String, nullable=True),
    Column("lift_reason", Text, nullable=True),
)

RECORD_COLUMNS: tuple[str, ...] = tuple(f.name for f in _dictionary.records)
SERVICE_COLUMNS: tuple[str, ...] = tuple(f.name for f in _dictionary.services)


# The KPI rows computed from the maintained figures, shared by every server process
# (`flsdb.storage.shared_figures`): one row per period, extract date, what they were computed
# under (catalogue, thresholds) and data version; the rows themselves as compressed JSON.
figure_rows = Table(
    "kpi_figure_rows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("period", String, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("context", String, nullable=False),
    Column("version", String, nullable=False),
    Column("generation", Integer, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    UniqueConstraint("period", "as_of", "context", "version"),
)

# The maintained figures (storage.figures): their columns follow the catalogue's layout.
CELLS = "kpi_cells"
LAYOUT = "kpi_cells_layout"
MONTHS = "kpi_cells_month"


def cells_table(columns: tuple[str, ...], metadata: sa.MetaData | None = None) -> sa.Table:
    """The cells as a table (its count columns are the layout's, `flsdb.storage.figures`,
    besides `records`). Its key leads with the breakdown
    and the fracture date, so a period's cells of one breakdown are one range (and SQLite keeps
    the rows in that order: WITHOUT ROWID)."""
    return sa.Table(
        CELLS,
        metadata or sa.MetaData(),
        sa.Column("service_code", sa.String, nullable=False),
        sa.Column("fracture_date", sa.Date, nullable=False),
        sa.Column("breakdown", sa.String, nullable=False),
        sa.Column("grp", sa.String, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("month", sa.Integer, nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        *[sa.Column(c, sa.Integer, nullable=False) for c in columns],
        sa.PrimaryKeyConstraint("breakdown", "fracture_date", "service_code", "grp"),
        sqlite_with_rowid=False,
    )


def months_table(columns: tuple[str, ...], metadata: sa.MetaData | None = None) -> sa.Table:
    """The cells summed by month (`flsdb.storage.cell_months`): a breakdown's months of a
    period are one range of its key."""
    return sa.Table(
        MONTHS,
        metadata or sa.MetaData(),
        sa.Column("breakdown", sa.String, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("month", sa.Integer, nullable=False),
        sa.Column("service_code", sa.String, nullable=False),
        sa.Column("grp", sa.String, nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        *[sa.Column(c, sa.Integer, nullable=False) for c in columns],
        sa.PrimaryKeyConstraint("breakdown", "year", "month", "service_code", "grp"),
        sqlite_with_rowid=False,
    )


def layout_table(metadata: sa.MetaData | None = None) -> sa.Table:
    """The layout's signature, and its contributions query compiled for the store (so that a
    writer needs no compiler)."""
    return sa.Table(
        LAYOUT,
        metadata or sa.MetaData(),
        sa.Column("signature", sa.String, primary_key=True),
        sa.Column("contributions", sa.Text, nullable=False),
    )


def is_schema_object(item: object, name: str | None, kind: str, *_: object) -> bool:
    """For Alembic's comparisons: the maintained figures' tables are not the schema's (their
    columns follow the KPI catalogue's layout, and `flsdb.storage.figures.rebuild` makes
    them), so they are left out."""
    return not (kind == "table" and name in (CELLS, LAYOUT, MONTHS))
