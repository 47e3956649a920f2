"""upload previews keep the changes they would make

A preview lists, field by field, what storing the file would change in the stored records, and
the version of each stored record it read: the commit stores exactly what was previewed, and is
refused if one of those records changed since. Both are kept, compressed, with the preview
(`uploads.changes`) until it is committed or expires.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("changes", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.drop_column("changes")
