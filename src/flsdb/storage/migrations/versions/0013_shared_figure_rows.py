"""KPI rows shared by every server process

`flsdb serve --workers N` runs several processes on one store. Each computed the KPI rows of
every level (and their published copies: a disclosure check of the whole publication) for a
period and extract date itself, so a second process computed again what the first had just
computed. `kpi_figure_rows` keeps what was computed, by period, extract date, what it was
computed under and the store's data version, for any process to read (`storage.shared_figures`).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_figure_rows",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("context", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_figure_rows")),
        sa.UniqueConstraint(
            "period", "as_of", "context", "version", name=op.f("uq_kpi_figure_rows_period")
        ),
    )


def downgrade() -> None:
    op.drop_table("kpi_figure_rows")
