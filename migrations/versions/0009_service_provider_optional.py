"""A service may be in the register before its provider is known.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Many schools' registers name only the product ("Google Classroom"), never the company. Importing such a
register left two choices: refuse it, or invent a provider. Neither is right: the service is imported with
no provider (shown as missing, and never exported to, since there is no one to send the data to) until the
user fills it in with `service edit --provider`. Rows already there keep their provider.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service") as batch:
        batch.alter_column("provider_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Going back is refused while a service has no provider: the older schema cannot hold it.
    missing = (
        op.get_bind().execute(sa.text("SELECT COUNT(*) FROM service WHERE provider_id IS NULL")).scalar()
    )
    if missing:
        raise RuntimeError(
            f"{missing} service(s) have no provider: give each one with `cloudctl service edit NAME "
            "--provider NAME` before going back to revision 0008."
        )
    with op.batch_alter_table("service") as batch:
        batch.alter_column("provider_id", existing_type=sa.Integer(), nullable=False)
