"""History guard: on SQLite, refuse INSERT OR REPLACE over an existing history row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

SQLite resolves INSERT OR REPLACE by deleting the clashing row without firing DELETE
triggers, so a replace could rewrite a consent event that UPDATE and DELETE may not touch.
"""

from alembic import op

from cloudctl.db.append_only import drop_replace_guard_statements, replace_guard_statements

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

GUARDED = (
    ("risk_assessment", "Risk assessments"),
    ("service_version", "Service versions"),
    ("consent_event", "Consent events"),
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, what in GUARDED:
        for statement in replace_guard_statements(dialect, table, what):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, _ in GUARDED:
        for statement in drop_replace_guard_statements(dialect, table):
            op.execute(statement)
