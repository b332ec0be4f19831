"""Consent events keep the time of day a decision was made, when it is known.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

An online form's submissions carry their time ("12/09/2026 10:31:22"), and a parent who answers Yes, No,
Yes on one day has said Yes last: the policy orders a day's decisions by that time
(consent_policy.order_key). `consent_event.effective_time` ("HH:MM:SS") is NULLable and added with a
plain ADD COLUMN: SQLite does it without copying the table or firing the UPDATE guards, and rows already
there stay NULL, meaning "known by its date alone" (the online imports before this kept the time only in
the event's note). The history chain's digest leaves NULL columns out, so every row sealed before still
verifies.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("consent_event", sa.Column("effective_time", sa.String(length=8), nullable=True))


def downgrade() -> None:
    # Rows written since carry their time in their sealed digest: dropping it would break the chain.
    timed = op.get_bind().execute(
        sa.text("SELECT COUNT(*) FROM consent_event WHERE effective_time IS NOT NULL")
    )
    if timed.scalar():
        raise RuntimeError(
            "Consent events recorded since revision 0014 are sealed with their time of day, so it cannot be "
            "dropped without breaking the history chain: restore the backup taken before the upgrade."
        )
    op.drop_column("consent_event", "effective_time")  # SQLite 3.35+ drops it in place, triggers kept
