"""sign-in limits, token life-cycle, idle sessions and kept forms

Sign-in attempts are counted in the database before a password is checked (login_attempts);
API tokens gain an expiry (existing tokens expire 90 days after they were made) and a last use;
sessions gain the time they were last used (the idle limit); a form posted after its session
ended is kept briefly for the same user (kept_forms).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TOKEN_DAYS = 90


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("last_seen_at", sa.DateTime(), nullable=True))
    tokens = sa.table(
        "api_tokens",
        sa.column("id", sa.Integer()),
        sa.column("created_at", sa.DateTime()),
        sa.column("expires_at", sa.DateTime()),
    )
    bind = op.get_bind()
    for row in bind.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        made = row.created_at or dt.datetime.now()
        bind.execute(
            sa.update(tokens)
            .where(tokens.c.id == row.id)
            .values(expires_at=made + dt.timedelta(days=TOKEN_DAYS))
        )
    op.create_table(
        "login_attempts",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_attempts")),
    )
    op.create_index("ix_login_attempts_window_start", "login_attempts", ["window_start"])
    op.create_table(
        "kept_forms",
        sa.Column("id_sha256", sa.String(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_kept_forms_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_sha256", name=op.f("pk_kept_forms")),
    )


def downgrade() -> None:
    op.drop_table("kept_forms")
    op.drop_index("ix_login_attempts_window_start", table_name="login_attempts")
    op.drop_table("login_attempts")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("last_seen_at")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
