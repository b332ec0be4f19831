"""The register: school settings, sections, providers, services and risk assessments.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from cloudctl.db.append_only import drop_statements, guard_statements

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "school_settings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_name", sa.String(), nullable=False),
        sa.Column("register_title", sa.String(), nullable=False),
        sa.Column("year_groups", sa.String(), nullable=False),
        sa.Column("review_months", sa.Integer(), nullable=False),
        sa.Column("preamble", sa.Text(), nullable=False, server_default=""),
    )
    op.create_table(
        "register_section",
        sa.Column("category", sa.String(length=20), primary_key=True),
        sa.Column("heading", sa.String(), nullable=False),
        sa.Column("intro", sa.Text(), nullable=False, server_default=""),
    )
    op.create_table(
        "provider",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False, unique=True),
        sa.Column("website", sa.String(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "service",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("provider.id"), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False, server_default=""),
        sa.Column("data_shared_text", sa.Text(), nullable=False, server_default=""),
        sa.Column("data_categories", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("service_type", sa.String(), nullable=False),
        sa.Column("year_groups_text", sa.String(), nullable=False),
        sa.Column("year_scope", sa.String(length=10), nullable=False),
        sa.Column("year_codes", sa.String(), nullable=False),
        sa.Column("website", sa.String(), nullable=True),
        sa.Column("controls", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("review_months", sa.Integer(), nullable=True),
        sa.Column("lawful_basis", sa.String(), nullable=True),
        sa.Column("storage_location", sa.String(), nullable=True),
        sa.Column("storage_detail", sa.String(), nullable=True),
        sa.Column("retention", sa.String(), nullable=True),
        sa.Column("privacy_url", sa.String(), nullable=True),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("extra_fields", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", "category", name="uq_service_name_category"),
    )
    op.create_index("ix_service_name", "service", ["name"])
    op.create_index("ix_service_provider_id", "service", ["provider_id"])
    op.create_table(
        "risk_assessment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("service_id", sa.Integer(), sa.ForeignKey("service.id"), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("assessed_by", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("next_review", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("reference", sa.String(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_risk_assessment_service_id", "risk_assessment", ["service_id"])
    dialect = op.get_bind().dialect.name
    for statement in guard_statements(dialect, "risk_assessment", "Risk assessments"):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_statements(op.get_bind().dialect.name, "risk_assessment"):
        op.execute(statement)
    op.drop_table("risk_assessment")
    op.drop_table("service")
    op.drop_table("provider")
    op.drop_table("register_section")
    op.drop_table("school_settings")
