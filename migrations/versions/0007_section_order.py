"""The register's sections keep the order the school's document gave them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

`register publish` wrote sections in a fixed order (pupil, management, other, statutory), so a document
whose prose-only section came first was published with that section last, where its closing paragraph
reads as a service name with nothing under it, and importing the published text was refused as cut short.
Rows already there get the fixed order, so what every existing register publishes does not change.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The order register publish used before this revision.
_FIXED_ORDER = ("pupil", "management", "other", "statutory")


def upgrade() -> None:
    op.add_column("register_section", sa.Column("position", sa.Integer(), nullable=False, server_default="0"))
    for position, category in enumerate(_FIXED_ORDER):
        op.execute(
            sa.text("UPDATE register_section SET position = :position WHERE category = :category").bindparams(
                position=position, category=category
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("register_section") as batch:
        batch.drop_column("position")
