"""Pupils imported from the school's MIS, and the trail of UPN changes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pupil",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("upn", sa.String(length=13), nullable=False, unique=True),
        sa.Column("upn_temporary", sa.Boolean(), nullable=False),
        sa.Column("forename", sa.String(), nullable=False),
        sa.Column("surname", sa.String(), nullable=False),
        sa.Column("preferred_forename", sa.String(), nullable=True),
        sa.Column("preferred_surname", sa.String(), nullable=True),
        sa.Column("dob", sa.Date(), nullable=False),
        sa.Column("gender", sa.String(), nullable=True),
        sa.Column("year_group", sa.String(length=3), nullable=False),
        sa.Column("class_name", sa.String(), nullable=True),
        sa.Column("admission_number", sa.String(), nullable=True),
        sa.Column("on_roll", sa.Boolean(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_pupil_year_group", "pupil", ["year_group"])
    op.create_index("ix_pupil_class_name", "pupil", ["class_name"])
    op.create_table(
        "upn_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pupil_id", sa.Integer(), sa.ForeignKey("pupil.id"), nullable=False),
        sa.Column("old_upn", sa.String(length=13), nullable=False),
        sa.Column("new_upn", sa.String(length=13), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_upn_change_pupil_id", "upn_change", ["pupil_id"])


def downgrade() -> None:
    op.drop_table("upn_change")
    op.drop_table("pupil")
