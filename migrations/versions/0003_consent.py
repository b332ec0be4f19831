"""Consent: service versions (what parents were told) and the append-only consent events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from cloudctl.db.append_only import drop_statements, guard_statements

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("service_id", sa.Integer(), sa.ForeignKey("service.id"), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False, server_default=""),
        sa.Column("data_shared_text", sa.Text(), nullable=False, server_default=""),
        sa.Column("data_categories", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_service_version_service_id", "service_version", ["service_id"])
    op.create_table(
        "consent_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pupil_id", sa.Integer(), sa.ForeignKey("pupil.id"), nullable=False),
        sa.Column("service_id", sa.Integer(), sa.ForeignKey("service.id"), nullable=False),
        sa.Column("service_version_id", sa.Integer(), sa.ForeignKey("service_version.id"), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("given_by", sa.String(), nullable=True),
        sa.Column("relationship", sa.String(), nullable=True),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("decision IN ('opt-in', 'opt-out')", name="ck_consent_event_decision"),
    )
    op.create_index(
        "ix_consent_event_pupil_service", "consent_event", ["pupil_id", "service_id", "effective_on", "id"]
    )
    op.create_index("ix_consent_event_service_id", "consent_event", ["service_id"])
    dialect = op.get_bind().dialect.name
    for table, what in (("consent_event", "Consent events"), ("service_version", "Service versions")):
        for statement in guard_statements(dialect, table, what):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in ("consent_event", "service_version"):
        for statement in drop_statements(dialect, table):
            op.execute(statement)
    op.drop_table("consent_event")
    op.drop_table("service_version")
