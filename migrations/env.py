"""Alembic environment: cloudctl passes its own open connection in `config.attributes`."""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("cloudctl runs its migrations itself: open the database with cloudctl, not alembic.")

# render_as_batch lets ALTER TABLE work on SQLite by copying the table.
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
