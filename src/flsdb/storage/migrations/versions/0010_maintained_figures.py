"""maintained figures

The KPI counts per FLS, fracture date and breakdown group (`flsdb.storage.figures`), kept by
every write from now on: the tables are made and filled from the records stored so far (as
`flsdb db rebuild-figures` does).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 00:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The one place storage reaches up to the KPI layer: a data migration that builds the
    # figures needs their layout compiled from the catalogue (flsdb.kpi.cells).
    from flsdb.kpi.cells import store_layout
    from flsdb.storage.figures import rebuild

    bind = op.get_bind()
    rebuild(lambda sql: bind.exec_driver_sql(sql), bind.dialect.name, store_layout())


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS kpi_cells")
    op.execute("DROP TABLE IF EXISTS kpi_cells_layout")
