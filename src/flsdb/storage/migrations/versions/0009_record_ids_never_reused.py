"""record ids never reused

SQLite gave a new record the largest id in use plus one, so the id of a deleted record (the
newest one) went to the next record of any FLS, and that record's history then showed the
deleted one's audit rows. With AUTOINCREMENT an id is never given twice. The table is rebuilt
(SQLite cannot change a table's key otherwise), keeping its rows, constraints and indexes, and
its counter starts above every id the store has used: records' and those the audit trail names
(a deleted record's). PostgreSQL's serial sequence never hands an id out twice: nothing to do.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "records", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass
    used = bind.execute(
        sa.text(
            "SELECT max(coalesce((SELECT max(id) FROM records), 0), "
            "coalesce((SELECT max(record_id) FROM audit_log), 0))"
        )
    ).scalar_one()
    bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'records'"))
    bind.execute(
        sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('records', :seq)"),
        {"seq": int(used)},
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "records", recreate="always", table_kwargs={"sqlite_autoincrement": False}
    ):
        pass
