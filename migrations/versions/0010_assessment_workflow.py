"""Risk assessments that keep up with the service: the changes that matter to an assessment, and the
assessment's workflow (screening, residual risk, conditions, sign-off).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

- `service_change`: history of the changes to a service that matter to its risk assessment (data
  shared, year groups, provider, storage location, lawful basis), each with what it was before and after
  and its effect (widening, narrowing, changed, first-recorded). A widening or changed entry dated after
  the latest assessment makes that assessment outdated. The table starts empty, so no assessment made
  before this revision is outdated by it.
- `assessment_event`: history of the workflow steps that are not assessments themselves: screening (the
  answers and the verdict), a condition met, a sign-off (by whom, in what role).
- `risk_assessment` gains `residual_risk`, `conditions` and `conditions_due`, NULLable and added with a
  plain ADD COLUMN (no table copy, no UPDATE guard fired): rows already there stay NULL, and the history
  chain's digest leaves NULL columns out, so every assessment sealed before still verifies.
- `school_settings.sign_off_role`: who must sign off an approval whose residual risk is high (DPO unless
  the school says otherwise).
"""

import sqlalchemy as sa
from alembic import op

from cloudctl.db.append_only import all_guard_statements, drop_all_guard_statements

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NEW_HISTORY = ("service_change", "assessment_event")
NEW_ASSESSMENT_COLUMNS = ("residual_risk", "conditions", "conditions_due")


def upgrade() -> None:
    op.create_table(
        "service_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("service_id", sa.Integer(), sa.ForeignKey("service.id"), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("field", sa.String(length=30), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("effect", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
    )
    op.create_index("ix_service_change_service_id", "service_change", ["service_id"])
    op.create_table(
        "assessment_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("service_id", sa.Integer(), sa.ForeignKey("service.id"), nullable=False),
        sa.Column("risk_assessment_id", sa.Integer(), sa.ForeignKey("risk_assessment.id"), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("by_name", sa.String(), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=True),
        sa.Column("answers", sa.Text(), nullable=True),
        sa.Column("verdict", sa.String(length=30), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
    )
    op.create_index("ix_assessment_event_service_id", "assessment_event", ["service_id"])
    op.add_column("risk_assessment", sa.Column("residual_risk", sa.String(length=10), nullable=True))
    op.add_column("risk_assessment", sa.Column("conditions", sa.Text(), nullable=True))
    op.add_column("risk_assessment", sa.Column("conditions_due", sa.Date(), nullable=True))
    op.add_column(
        "school_settings",
        sa.Column("sign_off_role", sa.String(length=20), nullable=False, server_default="DPO"),
    )
    dialect = op.get_bind().dialect.name
    for table in NEW_HISTORY:
        for statement in all_guard_statements(dialect, table):
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    filled = " OR ".join(f"{column} IS NOT NULL" for column in NEW_ASSESSMENT_COLUMNS)
    if bind.execute(sa.text(f"SELECT COUNT(*) FROM risk_assessment WHERE {filled}")).scalar():
        raise RuntimeError(
            "Risk assessments recorded since revision 0010 are sealed with their residual risk and "
            "conditions, so those columns cannot be dropped without breaking the history chain: restore the "
            "backup taken before the upgrade."
        )
    dialect = bind.dialect.name
    for table in NEW_HISTORY:
        for statement in drop_all_guard_statements(dialect, table):
            op.execute(statement)
    op.drop_table("assessment_event")
    op.drop_table("service_change")
    for column in reversed(NEW_ASSESSMENT_COLUMNS):
        op.drop_column("risk_assessment", column)  # SQLite 3.35+ drops it in place, triggers kept
    with op.batch_alter_table("school_settings") as batch:
        batch.drop_column("sign_off_role")
