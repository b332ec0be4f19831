"""History chain: every history row sealed with a digest of its contents, chained to the row before;
UPN changes guarded as history too.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Adds `content_digest` and `chain_hash` to consent_event, service_version, risk_assessment and
upn_change (see cloudctl.db.history_chain), computes them for the rows already there, in id order,
and makes them required. The append-only triggers refuse UPDATE, so they are dropped while the
columns are filled and created again after, now on upn_change as well.

The chain vouches for history from here on: rows changed before this migration ran are sealed as
they stand. The backup cloudctl takes before upgrading keeps the database as it was.
"""

import sqlalchemy as sa
from alembic import op

from cloudctl.db.append_only import all_guard_statements, drop_all_guard_statements
from cloudctl.db.history_chain import (
    CHAIN_COLUMN,
    DIGEST_COLUMN,
    content_columns,
    genesis,
    link,
    make_digester,
)

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CHUNK_ROWS = 10_000
GUARDED_BEFORE = ("risk_assessment", "service_version", "consent_event")
# The history tables as they stood at this revision: later revisions add theirs with their own seals.
HISTORY_TABLES = ("service_version", "consent_event", "risk_assessment", "upn_change")


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    for table in HISTORY_TABLES:
        for statement in drop_all_guard_statements(dialect, table):
            op.execute(statement)
    for table in HISTORY_TABLES:
        op.add_column(table, sa.Column(DIGEST_COLUMN, sa.String(length=64), nullable=True))
        op.add_column(table, sa.Column(CHAIN_COLUMN, sa.String(length=64), nullable=True))
        _seal_existing_rows(bind, table)
        with op.batch_alter_table(table) as batch:
            batch.alter_column(DIGEST_COLUMN, existing_type=sa.String(length=64), nullable=False)
            batch.alter_column(CHAIN_COLUMN, existing_type=sa.String(length=64), nullable=False)
    for table in HISTORY_TABLES:
        for statement in all_guard_statements(dialect, table):
            op.execute(statement)


def _seal_existing_rows(bind: sa.Connection, name: str) -> None:
    """Compute every row's digest and chain hash in id order, into a scratch table, then copy them in."""
    table = sa.Table(name, sa.MetaData(), autoload_with=bind)
    columns = content_columns(table)
    digest = make_digester(columns)
    listed = ", ".join(column for column, _ in columns)
    read = sa.text(f"SELECT id, {listed} FROM {name} WHERE id > :after ORDER BY id LIMIT {CHUNK_ROWS}")
    bind.execute(
        sa.text(
            "CREATE TEMPORARY TABLE history_seal (id INTEGER PRIMARY KEY, "
            "content_digest VARCHAR(64) NOT NULL, chain_hash VARCHAR(64) NOT NULL)"
        )
    )
    head, after = genesis(name), 0
    while True:
        rows = bind.execute(read, {"after": after}).all()
        if not rows:
            break
        sealed = []
        for row in rows:
            row_digest = digest(row[1:])
            head = link(head, row[0], row_digest)
            sealed.append({"id": row[0], "digest": row_digest, "chain": head})
        bind.execute(sa.text("INSERT INTO history_seal VALUES (:id, :digest, :chain)"), sealed)
        after = rows[-1][0]
    bind.execute(
        sa.text(
            f"UPDATE {name} SET "
            f"{DIGEST_COLUMN} = (SELECT s.content_digest FROM history_seal s WHERE s.id = {name}.id), "
            f"{CHAIN_COLUMN} = (SELECT s.chain_hash FROM history_seal s WHERE s.id = {name}.id)"
        )
    )
    bind.execute(sa.text("DROP TABLE history_seal"))


def downgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    for table in HISTORY_TABLES:
        for statement in drop_all_guard_statements(dialect, table):
            op.execute(statement)
    for table in HISTORY_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column(CHAIN_COLUMN)
            batch.drop_column(DIGEST_COLUMN)
    for table in GUARDED_BEFORE:
        for statement in all_guard_statements(dialect, table):
            op.execute(statement)
