"""the reason a lock was lifted

Lifting a sign-off or lock asks the administrator why; the lock's row keeps the reason beside
who lifted it and when (the access log has it too).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("period_locks") as batch:
        batch.add_column(sa.Column("lift_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("period_locks") as batch:
        batch.drop_column("lift_reason")
