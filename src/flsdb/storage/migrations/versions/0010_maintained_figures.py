"""maintained figures

The KPI counts per FLS, fracture date and breakdown group (`flsdb.storage.figures`), kept by
every write from now on: the tables are made and filled from the records stored so far (as
`flsdb db rebuild-figures` does), under the layout the catalogue had when this migration was
written, kept beside it as data (0010_maintained_figures.json: its signature, columns and
contributions query for SQLite and PostgreSQL), so that storage never reads the catalogue. A
store whose catalogue has changed since reads its KPIs from the records until `flsdb db
rebuild-figures` builds the figures under the new layout.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 00:10:00
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

from flsdb.storage.figures import layout_from_json, rebuild

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

LAYOUT = Path(__file__).with_suffix(".json")


def upgrade() -> None:
    bind = op.get_bind()
    layout = layout_from_json(LAYOUT.read_text(encoding="utf-8"))
    rebuild(lambda sql: bind.exec_driver_sql(sql), bind.dialect.name, layout, months=False)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS kpi_cells")
    op.execute("DROP TABLE IF EXISTS kpi_cells_layout")
