"""records' key fields beside their FLS and fracture date

A search of an FLS's records by status (`GET /api/records?status=missing`, `due`, `complete`)
counts every record of the FLS in its date range that is missing (or not missing) a key field,
to give the list's total: through `ix_records_service_fracture` that reads each record's row,
some 4,000 to 7,000 of them for a large FLS's two years. This index holds the key fields
themselves (kpi01's, as the worklist of missing fields reads them), so the count is read from
the index alone (about half the CPU time, on SQLite a covering index). The list is as fast
either way; nothing depends on the index but speed.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 17:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# The columns as they were when this migration was written (`storage.tables.KEY_FIELDS_INDEX`).
COLUMNS = [
    "service_code",
    "date_fracture_diagnosed",
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
]


def upgrade() -> None:
    op.create_index("ix_records_key_fields", "records", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_records_key_fields", table_name="records")
