"""Consent forms carry reply codes: the forms issued are kept as history, and answers point at them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

`reply_code` keeps every consent form printed for a pupil: its reply code, the day it was issued, the
last day the code is accepted, and what the form told the parent (the service versions it listed, and
the rest of what was printed). It is history: append-only, and sealed in the history chain.

`school_settings.reply_code_days` is how long a code is accepted (90 days unless the school says);
`school_settings.consent_months` is how long a parent's consent lasts (NULL: it does not lapse).

`consent_event.reply_code_id` names the form a decision answered. It is NULLable and added with a plain
ADD COLUMN, so rows already there stay NULL and (as with `bulk` in 0006) their sealed digests, which
leave NULL columns out, still verify.
"""

import sqlalchemy as sa
from alembic import op

from cloudctl.db.append_only import all_guard_statements, drop_all_guard_statements

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reply_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("pupil_id", sa.Integer(), sa.ForeignKey("pupil.id"), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("service_versions", sa.Text(), nullable=False),
        sa.Column("form", sa.Text(), nullable=False),
        sa.Column("issued_by", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.UniqueConstraint("code"),
    )
    op.create_index("ix_reply_code_pupil_id", "reply_code", ["pupil_id"])
    op.add_column(
        "school_settings", sa.Column("reply_code_days", sa.Integer(), nullable=False, server_default="90")
    )
    op.add_column("school_settings", sa.Column("consent_months", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # Alembic will not add a column with a foreign key on SQLite without copying the table (which
        # would drop its guard triggers); SQLite itself adds a NULL-default REFERENCES column in place.
        op.execute("ALTER TABLE consent_event ADD COLUMN reply_code_id INTEGER REFERENCES reply_code (id)")
    else:
        op.add_column(
            "consent_event",
            sa.Column("reply_code_id", sa.Integer(), sa.ForeignKey("reply_code.id"), nullable=True),
        )
    op.create_index("ix_consent_event_reply_code_id", "consent_event", ["reply_code_id"])
    for statement in all_guard_statements(op.get_bind().dialect.name, "reply_code"):
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    answered = bind.execute(sa.text("SELECT COUNT(*) FROM consent_event WHERE reply_code_id IS NOT NULL"))
    if answered.scalar():
        raise RuntimeError(
            "Consent events recorded since revision 0008 are sealed with the form they answered, so the "
            "link cannot be dropped without breaking the history chain: restore the backup taken before "
            "the upgrade."
        )
    op.drop_index("ix_consent_event_reply_code_id", table_name="consent_event")
    if bind.dialect.name == "sqlite":
        # SQLite 3.35+ drops a column in place (triggers kept), but not one with a foreign key.
        op.execute("ALTER TABLE consent_event DROP COLUMN reply_code_id")
    else:
        op.drop_column("consent_event", "reply_code_id")
    with op.batch_alter_table("school_settings") as batch:
        batch.drop_column("consent_months")
        batch.drop_column("reply_code_days")
    for statement in drop_all_guard_statements(bind.dialect.name, "reply_code"):
        op.execute(statement)
    op.drop_index("ix_reply_code_pupil_id", table_name="reply_code")
    op.drop_table("reply_code")
