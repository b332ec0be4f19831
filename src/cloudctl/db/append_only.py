"""Triggers that make a history table append-only in the database itself.

Used by the migrations, so the guard holds whatever program touches the file or
server: an UPDATE or DELETE on a guarded table fails on SQLite and PostgreSQL alike.
`cloudctl db verify` checks that each trigger is still there, as written here, and enabled.
"""

from __future__ import annotations

# Every history table, and what its rows are called in the refusal.
GUARDED = {
    "service_version": "Service versions",
    "consent_event": "Consent events",
    "risk_assessment": "Risk assessments",
    "upn_change": "UPN changes",
    "reply_code": "Issued consent forms",
    "service_change": "Changes to services",
    "assessment_event": "Assessment steps",
    "export_record": "Recorded exports",
    "export_pupil": "Pupils of recorded exports",
    "deletion_event": "Deletion requests and confirmations",
}


def guard_statements(dialect: str, table: str, what: str) -> list[str]:
    message = f"{what} are history: they cannot be changed or deleted"
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        ]
    if dialect == "postgresql":
        return [
            f"CREATE FUNCTION {table}_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{message}' USING ERRCODE = 'restrict_violation'; END $$",
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse_change()",
        ]
    raise NotImplementedError(f"no append-only guard for the {dialect} dialect")


def drop_statements(dialect: str, table: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_update", f"DROP TRIGGER IF EXISTS {table}_no_delete"]
    return [f"DROP FUNCTION IF EXISTS {table}_refuse_change() CASCADE"]


def replace_guard_statements(dialect: str, table: str, what: str) -> list[str]:
    """SQLite's INSERT OR REPLACE deletes a clashing row without firing DELETE triggers: refuse an
    insert that reuses an existing id. PostgreSQL needs nothing: ON CONFLICT DO UPDATE fires UPDATE
    triggers, which the guard above refuses."""
    if dialect != "sqlite":
        return []
    message = f"{what} are history: they cannot be changed or deleted"
    return [
        f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
        f"WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id) "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    ]


def drop_replace_guard_statements(dialect: str, table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_replace"] if dialect == "sqlite" else []


def all_guard_statements(dialect: str, table: str) -> list[str]:
    """Every statement that guards `table` at the newest schema: UPDATE, DELETE, TRUNCATE and REPLACE."""
    what = GUARDED[table]
    return guard_statements(dialect, table, what) + replace_guard_statements(dialect, table, what)


def drop_all_guard_statements(dialect: str, table: str) -> list[str]:
    return drop_statements(dialect, table) + drop_replace_guard_statements(dialect, table)
