"""maintained figures by month

A period's KPIs summed some 50,000 cells of 40 counts per breakdown and year: most of the time
a dashboard took for a period not viewed before. `kpi_cells_month` keeps the cells summed by
month, kept by triggers on the cells (`flsdb.storage.cell_months`), and is built here from the
cells the store keeps, under whatever layout they were built (their columns are read from the
table, never from the catalogue).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 12:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from flsdb.storage.cell_months import build_months, drop_months

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if not sa.inspect(bind).has_table("kpi_cells"):
        return
    names = [c["name"] for c in sa.inspect(bind).get_columns("kpi_cells")]
    columns = tuple(n for n in names if n.startswith("c") and n[1:].isdigit())
    build_months(lambda sql: bind.exec_driver_sql(sql), bind.dialect.name, columns)


def downgrade() -> None:
    bind = op.get_bind()
    drop_months(lambda sql: bind.exec_driver_sql(sql), bind.dialect.name)
