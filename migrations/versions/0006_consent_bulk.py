"""Consent events say whether they came from a bulk operation.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

A parent's decision outranks any bulk operation (--class, --year, an opt-in with --all-services), in
whatever order the two were entered, so the standing decision is a fold that needs to know which events
were bulk. `consent_event.bulk` is NULLable and added with a plain ADD COLUMN: SQLite does it without
copying the table or firing the UPDATE guards, and rows already there stay NULL, which means a single
decision (until now a bulk event could never be recorded against an opposite standing decision, so
reading them all as single decides as before). The history chain's digest leaves NULL columns out, so
every row sealed before still verifies.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("consent_event", sa.Column("bulk", sa.Boolean(), nullable=True))


def downgrade() -> None:
    # Rows written since carry the flag in their sealed digest: dropping it would break the chain.
    marked = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM consent_event WHERE bulk IS NOT NULL"))
    if marked.scalar():
        raise RuntimeError(
            "Consent events recorded since revision 0006 are sealed with their bulk flag, so it cannot be "
            "dropped without breaking the history chain: restore the backup taken before the upgrade."
        )
    op.drop_column("consent_event", "bulk")  # SQLite 3.35+ drops it in place, triggers kept
