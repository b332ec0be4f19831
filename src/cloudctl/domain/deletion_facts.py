"""The facts of deletions asked of providers, read lean: other modules (the ledger's --changes, reports)
read them without loading the deletion commands.

A deletion event is "requested" (the school asked the provider to delete a pupil's data sent for a
service) or "confirmed" (the provider said it has). Times are compared in the history chain's canonical
form (naive UTC text), which SQLite and PostgreSQL give alike.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlmodel import Session

from cloudctl.db.fast_read import fetch_rows, placeholders
from cloudctl.db.history_chain import canonical

REQUESTED, CONFIRMED = "requested", "confirmed"


def moment(value: object) -> str:
    """A time as sortable text, the same on SQLite and PostgreSQL."""
    return canonical("datetime", value)  # type: ignore[return-value]


def day_text(value: object) -> str | None:
    """A date as ISO text (SQLite gives text, PostgreSQL a date)."""
    return None if value is None else canonical("date", value)  # type: ignore[return-value]


class DeletionFact(NamedTuple):
    id: int
    pupil_id: int
    service_id: int
    kind: str
    on_date: str  # ISO date
    reason: str | None
    due_since: str | None  # ISO date
    reference: str | None
    recorded_at: str  # canonical time
    provider_name: str
    recorded_by: str
    provider_id: int | None = None  # the provider asked (or confirming): whose holding it is


_COLUMNS = (
    "id, pupil_id, service_id, kind, on_date, reason, due_since, reference, recorded_at, provider_name, "
    "recorded_by, provider_id"
)


def _fact(row: tuple) -> DeletionFact:
    return DeletionFact(
        row[0], row[1], row[2], row[3], day_text(row[4]), row[5], day_text(row[6]), row[7], moment(row[8]),
        row[9], row[10], row[11],
    )  # fmt: skip


def deletion_facts(
    session: Session, *, service_ids: list[int] | None = None, pupil_ids: list[int] | None = None
) -> dict[tuple[int, int], list[DeletionFact]]:
    """Every deletion event per (pupil id, service id), in the order recorded."""
    sql = f"SELECT {_COLUMNS} FROM deletion_event WHERE 1 = 1"
    params: list[int] = []
    for name, ids in (("service_id", service_ids), ("pupil_id", pupil_ids)):
        if ids is not None:
            sql += f" AND {name} IN ({placeholders(len(ids))})"
            params += ids
    facts: dict[tuple[int, int], list[DeletionFact]] = {}
    for row in fetch_rows(session, sql + " ORDER BY id", params):
        facts.setdefault((row[1], row[2]), []).append(_fact(row))
    return facts


def deletion_requests(session: Session, service_id: int) -> dict[int, str]:
    """pupil id -> when the latest deletion request for this service was recorded (canonical time).

    For `export enrolment --changes`: a pupil whose latest request is after the last file that sent
    them is one the provider was asked to delete, so if they are selected again they are an add.
    """
    rows = fetch_rows(
        session,
        "SELECT pupil_id, MAX(recorded_at) FROM deletion_event WHERE service_id = ? AND kind = ? "
        "GROUP BY pupil_id",
        [service_id, REQUESTED],
    )
    return {pupil_id: moment(at) for pupil_id, at in rows}


class PairState(NamedTuple):
    """Where a pupil's deletion for one service stands, given when they were last sent data."""

    held: bool  # the provider holds the pupil's data: sent (or, for management services, always) and
    # not confirmed deleted since
    open_request: DeletionFact | None  # a request since the last send, not yet confirmed
    # Each confirmation with the request it closed (None for none found), oldest first.
    confirmed: list[tuple[DeletionFact | None, DeletionFact]]


def pair_state(last_sent: str | None, facts: list[DeletionFact], *, always_held: bool = False) -> PairState:
    """The deletion state of one pupil and service: only a confirmation closes a deletion, and a send
    after it (the pupil opted in again and was exported) makes the provider hold the data again."""
    held = always_held or last_sent is not None
    since = last_sent or ""
    request: DeletionFact | None = None
    confirmed: list[tuple[DeletionFact | None, DeletionFact]] = []
    latest_request: DeletionFact | None = None
    for fact in facts:
        if fact.kind == REQUESTED:
            latest_request = fact
            if fact.recorded_at >= since:
                request = fact
        else:
            confirmed.append((latest_request, fact))
            latest_request = None
            if fact.recorded_at >= since:
                held = False
                request = None
    return PairState(held, request if held else None, confirmed)
