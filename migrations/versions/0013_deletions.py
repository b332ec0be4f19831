"""Deletions asked of providers and their confirmations; the school's deadline for them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

A new history table, `deletion_event`, append-only and sealed in the history chain like consent
events: one row per deletion requested of a provider (with the reason, the date it became due and the
request file's SHA-256) and one per confirmation the provider gave. It is new and empty, so nothing
existing is re-sealed. `school_settings.deletion_deadline_days` (default 30) is how long a provider
has to confirm before a deletion is overdue; a plain ADD COLUMN with a default, so the settings row
already there reads 30.
"""

import sqlalchemy as sa
from alembic import op

from cloudctl.db.append_only import all_guard_statements, drop_all_guard_statements

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "school_settings",
        sa.Column("deletion_deadline_days", sa.Integer(), nullable=False, server_default="30"),
    )
    op.create_table(
        "deletion_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pupil_id", sa.Integer(), sa.ForeignKey("pupil.id"), nullable=False),
        sa.Column("service_id", sa.Integer(), sa.ForeignKey("service.id"), nullable=False),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("provider.id"), nullable=True),
        sa.Column("provider_name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("due_since", sa.Date(), nullable=True),
        sa.Column("reference", sa.String(), nullable=True),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=True),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("kind IN ('requested', 'confirmed')", name="ck_deletion_event_kind"),
    )
    op.create_index("ix_deletion_event_service_pupil", "deletion_event", ["service_id", "pupil_id", "id"])
    op.create_index("ix_deletion_event_pupil", "deletion_event", ["pupil_id", "id"])
    for statement in all_guard_statements(op.get_bind().dialect.name, "deletion_event"):
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT COUNT(*) FROM deletion_event")).scalar():
        raise RuntimeError(
            "The database records deletions asked of providers and their confirmations: dropping them "
            "would lose the evidence. Restore the backup taken before the upgrade instead."
        )
    for statement in drop_all_guard_statements(bind.dialect.name, "deletion_event"):
        op.execute(statement)
    op.drop_table("deletion_event")
    with op.batch_alter_table("school_settings") as batch:
        batch.drop_column("deletion_deadline_days")
