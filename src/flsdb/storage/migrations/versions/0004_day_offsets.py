"""day offsets: whole days from the fracture to each later date, stored with the record

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 05:00:00

KPIs on SQLite compared dates by parsing them per row; the gaps stored at write time make those
conditions integer comparisons. Records stored before are given theirs here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# As in flsdb.storage.offsets when this revision was written (a migration does not follow later
# changes of the dictionary).
OFFSETS = {
    "date_fls_assessment_days": "date_fls_assessment",
    "date_dxa_days": "date_dxa",
    "date_followup_16w_days": "date_followup_16w",
    "date_followup_52w_days": "date_followup_52w",
}
FRACTURE = "date_fracture_diagnosed"


def upgrade() -> None:
    for name in OFFSETS:
        op.add_column("records", sa.Column(name, sa.Integer(), nullable=True))
    sqlite = op.get_bind().dialect.name == "sqlite"
    sets = ", ".join(
        f"{name} = CAST(julianday({column}) - julianday({FRACTURE}) AS INTEGER)"
        if sqlite
        else f"{name} = {column} - {FRACTURE}"
        for name, column in OFFSETS.items()
    )
    op.execute(f"UPDATE records SET {sets}")


def downgrade() -> None:
    with op.batch_alter_table("records") as batch:
        for name in OFFSETS:
            batch.drop_column(name)
