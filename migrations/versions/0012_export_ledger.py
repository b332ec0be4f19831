"""The export ledger: every file of pupils' data sent to a provider, and the pupils in it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

Two new history tables, append-only and sealed in the history chain like consent events:
`export_record` (one row per file that left cloudctl: service, provider, when, who, the file's
SHA-256, the fields sent) and `export_pupil` (one row per pupil in it, with the UPN and values as
sent). Both are new and empty, so nothing existing is re-sealed.
"""

import sqlalchemy as sa
from alembic import op

from cloudctl.db.append_only import all_guard_statements, drop_all_guard_statements

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

LEDGER_TABLES = ("export_record", "export_pupil")


def upgrade() -> None:
    op.create_table(
        "export_record",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("service_id", sa.Integer(), sa.ForeignKey("service.id"), nullable=False),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("provider.id"), nullable=False),
        sa.Column("service_name", sa.String(), nullable=False),
        sa.Column("provider_name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("file_format", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("pupil_count", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
    )
    op.create_index("ix_export_record_service", "export_record", ["service_id", "id"])
    op.create_index("ix_export_record_provider_id", "export_record", ["provider_id"])
    op.create_table(
        "export_pupil",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("export_id", sa.Integer(), sa.ForeignKey("export_record.id"), nullable=False),
        sa.Column("pupil_id", sa.Integer(), sa.ForeignKey("pupil.id"), nullable=False),
        sa.Column("upn", sa.String(length=13), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("sent_values", sa.Text(), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
    )
    op.create_index("ix_export_pupil_export", "export_pupil", ["export_id", "pupil_id"])
    op.create_index("ix_export_pupil_pupil", "export_pupil", ["pupil_id", "export_id"])
    dialect = op.get_bind().dialect.name
    for table in LEDGER_TABLES:
        for statement in all_guard_statements(dialect, table):
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT COUNT(*) FROM export_record")).scalar():
        raise RuntimeError(
            "The export ledger records files already sent to providers: dropping it would lose that "
            "history. Restore the backup taken before the upgrade instead."
        )
    dialect = bind.dialect.name
    for table in reversed(LEDGER_TABLES):
        for statement in drop_all_guard_statements(dialect, table):
            op.execute(statement)
    op.drop_table("export_pupil")
    op.drop_table("export_record")
