"""records by FLS and fracture date

The web application's lists (records, worklists) take an FLS's records by fracture date, newest
first, a page at a time: with this index a page reads its own rows, not the FLS's every record.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 05:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_records_service_fracture", "records", ["service_code", "date_fracture_diagnosed"]
    )


def downgrade() -> None:
    op.drop_index("ix_records_service_fracture", table_name="records")
