"""The newest schema revision this cloudctl knows.

Commands compare the database's revision with this constant before importing
Alembic, so a database that is already current costs one small query. A test
checks that it matches the head of `migrations/versions`.
"""

HEAD_REVISION = "0014"
