"""Contracts and data-processing agreements per service, and the Art. 9 condition for special-category data.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

`service_contract` keeps each service's agreements with its provider: the data-processing agreement (signed
on, reference, where the document is kept), the contract's start and end, and its notice period. A renewal
is a new row, so the agreements a service has had stay on record; the current one is the latest. The rows
are the school's register of documents, corrected in place like a service's own entry, not sealed history.

`service.special_category_condition` is the UK GDPR Art. 9 condition a service relies on for
special-category (health) data: the record of processing (report ropa) shows it, and its absence is a gap.
Existing services get none (NULL): nothing is assumed for them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: no copy of the service table, and existing services get NULL (no condition).
    op.add_column("service", sa.Column("special_category_condition", sa.String(), nullable=True))
    op.create_table(
        "service_contract",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("service_id", sa.Integer(), sa.ForeignKey("service.id"), nullable=False),
        sa.Column("dpa_signed_on", sa.Date(), nullable=True),
        sa.Column("dpa_reference", sa.String(), nullable=True),
        sa.Column("dpa_location", sa.String(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("notice_months", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_service_contract_service_id", "service_contract", ["service_id"])


def downgrade() -> None:
    op.drop_index("ix_service_contract_service_id", table_name="service_contract")
    op.drop_table("service_contract")
    with op.batch_alter_table("service") as batch:
        batch.drop_column("special_category_condition")
