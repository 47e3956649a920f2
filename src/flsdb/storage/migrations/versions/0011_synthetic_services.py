"""services marked synthetic

`flsdb synth` and `flsdb demo` write made-up FLSs; the services table keeps that they are
(`synthetic` = 'yes'), so that every report, table and file name made from them says so.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("synthetic", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("services") as batch:
        batch.drop_column("synthetic")
