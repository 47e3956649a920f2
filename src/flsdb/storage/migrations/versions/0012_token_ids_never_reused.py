"""API token ids never reused

A token is named by its id wherever people see it: `flsdb users tokens` lists them, `flsdb users
revoke-token --id N` revokes one, and the events trail says "alice token 5 created" and "token 5
revoked". SQLite gave a new token the largest id in use plus one, so after the newest token was
revoked the next one (anyone's) got its id: the trail then named two tokens alike, and a revoke
typed from an older listing ended the wrong one. With AUTOINCREMENT an id is never given twice.
The table is rebuilt (SQLite cannot change a table's key otherwise), its rows kept, and its
counter starts above every id the store has used: those in the table and those the events trail
names. PostgreSQL's serial sequence never hands an id out twice: nothing to do.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# How services.accounts words a token in the events trail ("alice token 5, 30 days").
_NAMED = re.compile(r"\btoken (\d+)\b")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "api_tokens", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass
    used = bind.execute(sa.text("SELECT coalesce(max(id), 0) FROM api_tokens")).scalar_one()
    named = bind.execute(
        sa.text(
            "SELECT detail FROM events WHERE action IN ('token_created', 'token_revoked') "
            "AND detail IS NOT NULL"
        )
    ).scalars()
    for detail in named:
        used = max(int(used), *(int(n) for n in _NAMED.findall(detail)), 0)
    bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'api_tokens'"))
    bind.execute(
        sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('api_tokens', :seq)"),
        {"seq": int(used)},
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "api_tokens", recreate="always", table_kwargs={"sqlite_autoincrement": False}
    ):
        pass
