"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 02:12:38.164598
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("user_name", sa.String(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("file_name", sa.String(), nullable=False),
        sa.Column("file_sha256", sa.String(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_log")),
    )
    op.create_table(
        "services",
        sa.Column("service_code", sa.String(), nullable=False),
        sa.Column("service_name", sa.String(), nullable=False),
        sa.Column("nation", sa.String(), nullable=False),
        sa.Column("region_code", sa.String(), nullable=False),
        sa.Column("region_name", sa.String(), nullable=False),
        sa.Column("expected_spine", sa.Integer(), nullable=True),
        sa.Column("expected_non_spine", sa.Integer(), nullable=True),
        sa.Column("population_50plus", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("service_code", name=op.f("pk_services")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("table_name", sa.String(), nullable=False),
        sa.Column("row_key", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("user_name", sa.String(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["import_log.id"], name=op.f("fk_audit_log_import_id_import_log")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_row_key", ["table_name", "row_key"], unique=False)

    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("service_code", sa.String(), nullable=False),
        sa.Column("nhs_number", sa.String(), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(), nullable=False),
        sa.Column("postcode", sa.String(), nullable=True),
        sa.Column("care_home_resident", sa.String(), nullable=True),
        sa.Column("date_fls_assessment", sa.Date(), nullable=True),
        sa.Column("admitted_to_hospital", sa.String(), nullable=True),
        sa.Column("date_fracture_diagnosed", sa.Date(), nullable=False),
        sa.Column("fracture_type", sa.String(), nullable=True),
        sa.Column("fracture_site", sa.String(), nullable=False),
        sa.Column("fracture_site_2", sa.String(), nullable=True),
        sa.Column("fracture_site_3", sa.String(), nullable=True),
        sa.Column("previous_fracture", sa.String(), nullable=True),
        sa.Column("bone_therapy_at_presentation", sa.String(), nullable=True),
        sa.Column("dxa", sa.String(), nullable=True),
        sa.Column("dxa_not_ordered_reason", sa.String(), nullable=True),
        sa.Column("date_dxa", sa.Date(), nullable=True),
        sa.Column("t_score", sa.Float(), nullable=True),
        sa.Column("bone_therapy_recommended", sa.String(), nullable=True),
        sa.Column("calcium_vitamin_d_recommended", sa.String(), nullable=True),
        sa.Column("falls_assessment", sa.String(), nullable=True),
        sa.Column("fallen_past_12_months", sa.String(), nullable=True),
        sa.Column("two_or_more_falls", sa.String(), nullable=True),
        sa.Column("fear_of_falling", sa.String(), nullable=True),
        sa.Column("unable_to_get_up", sa.String(), nullable=True),
        sa.Column("loss_of_consciousness", sa.String(), nullable=True),
        sa.Column("living_with_frailty", sa.String(), nullable=True),
        sa.Column("strength_balance_referred", sa.String(), nullable=True),
        sa.Column("followup_16w", sa.String(), nullable=True),
        sa.Column("date_followup_16w", sa.Date(), nullable=True),
        sa.Column("bone_therapy_16w", sa.String(), nullable=True),
        sa.Column("strength_balance_started_16w", sa.String(), nullable=True),
        sa.Column("followup_52w", sa.String(), nullable=True),
        sa.Column("date_followup_52w", sa.Date(), nullable=True),
        sa.Column("bone_therapy_52w", sa.String(), nullable=True),
        sa.Column("refractures_since_index", sa.Integer(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["import_log.id"], name=op.f("fk_records_import_id_import_log")
        ),
        sa.ForeignKeyConstraint(
            ["service_code"],
            ["services.service_code"],
            name=op.f("fk_records_service_code_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
        sa.UniqueConstraint(
            "service_code", "nhs_number", "date_fracture_diagnosed", name="uq_records_key"
        ),
    )


def downgrade() -> None:
    op.drop_table("records")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_row_key")

    op.drop_table("audit_log")
    op.drop_table("services")
    op.drop_table("import_log")
