"""Contracts: each service's data-processing agreement and contract dates, and when notice must be given.

A service has a list of agreements with its provider; the latest is the current one. `service contract`
corrects the current agreement (or starts the first); `--new` records a renewal, leaving the old one on
record: with the options given it is filled in at once, alone it starts a blank agreement that later
corrections fill in as the renewal is signed (unless the current one is blank already: nothing to renew).
The notice date is the last day to give notice: the contract's end minus its notice period.

An agreement is with a provider. When the service moves to another provider (a provider change in its
service change history, from one provider to another or to none), the agreements recorded before the move
are with the old provider and no longer count: the agreement is missing until one is recorded after the
move. A correction by `service contract` after the move therefore starts a new agreement, leaving the old
provider's on record. No schema change: the agreement's `recorded_at` is compared with the change's.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from cloudctl.db.models import Service, ServiceChange, ServiceContract, utcnow
from cloudctl.domain.services import get_service
from cloudctl.errors import InvalidInput
from cloudctl.vocab.dates import check_event_date, check_future_date, format_date, parse_date
from cloudctl.vocab.text import gate_text

# At most ten years' notice: anything longer is a typo (months for days, a year for months).
MOST_NOTICE_MONTHS = 120

# Each option as the command spells it, for messages.
OPTION_NAMES = {
    "dpa_signed_on": "--dpa-signed",
    "dpa_reference": "--dpa-reference",
    "dpa_location": "--dpa-location",
    "starts_on": "--start",
    "ends_on": "--end",
    "notice_months": "--notice-months",
}

# The keys of each agreement record, for the header of an empty CSV.
CONTRACT_KEYS = (
    "service", "category", "agreement", "current", "dpa_signed_on", "dpa_reference", "dpa_location",
    "starts_on", "ends_on", "notice_months", "notice_date",
)  # fmt: skip


@dataclass
class ContractFields:
    """What `service contract` was given, as typed; None means 'leave as it is', "" means 'clear it'."""

    dpa_signed_on: str | None = None
    dpa_reference: str | None = None
    dpa_location: str | None = None
    starts_on: str | None = None
    ends_on: str | None = None
    notice_months: int | None = None

    def given(self) -> list[str]:
        return [field.name for field in fields(self) if getattr(self, field.name) is not None]


def is_blank(contract: ServiceContract) -> bool:
    """An agreement with nothing recorded on it yet (a renewal started with `--new` alone)."""
    return all(getattr(contract, name) is None for name in OPTION_NAMES)


def shift_months(day: date, months: int) -> date:
    """`day` moved by `months` calendar months (back when negative); a day the month lacks becomes its last
    day, as dateutil's relativedelta does (31 May less 3 months is 28 or 29 February)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


def notice_date(ends_on: date | None, notice_months: int | None) -> date | None:
    """The last day notice can be given: the end less the notice period (the end itself with no period)."""
    if ends_on is None:
        return None
    return shift_months(ends_on, -(notice_months or 0))


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def provider_moves(session: Session, service_id: int | None = None) -> dict[int, list[ServiceChange]]:
    """Each service's moves from one provider (named in `before`) to another or to none, oldest first.
    A provider recorded where there was none is not a move: an agreement already on record was with it."""
    query = select(ServiceChange).where(
        ServiceChange.field == "provider",
        ServiceChange.before.is_not(None),  # type: ignore[union-attr]
    )
    if service_id is not None:
        query = query.where(ServiceChange.service_id == service_id)
    moves: dict[int, list[ServiceChange]] = {}
    for change in session.exec(query.order_by(ServiceChange.id)):
        moves.setdefault(change.service_id, []).append(change)
    return moves


def moved_since(moves: list[ServiceChange], contract: ServiceContract | None) -> ServiceChange | None:
    """The first move of provider recorded after the agreement was: the agreement is with the provider the
    service moved from (the move's `before`), so it no longer counts. None when it still counts."""
    if contract is None:
        return None
    recorded = _naive(contract.recorded_at)
    return next((move for move in moves if _naive(move.recorded_at) > recorded), None)


def _date(text: str, what: str, *, happened: bool, today: date) -> date | None:
    if not text.strip():
        return None
    day = parse_date(text, what=what)
    return check_event_date(day, what, today) if happened else check_future_date(day, what, today)


def _checked(given: ContractFields, today: date) -> dict[str, object]:
    """The given values, parsed and bounded; nothing is stored before all of them pass."""
    values: dict[str, object] = {}
    if given.dpa_signed_on is not None:
        # An agreement is recorded once signed: a date in the future is a typo.
        values["dpa_signed_on"] = _date(
            given.dpa_signed_on, "agreement's signing date", happened=True, today=today
        )
    for name, what in (("dpa_reference", "agreement's reference"), ("dpa_location", "agreement's location")):
        value = getattr(given, name)
        if value is not None:
            values[name] = gate_text(value, what) or None
    if given.starts_on is not None:
        values["starts_on"] = _date(given.starts_on, "contract's start date", happened=False, today=today)
    if given.ends_on is not None:
        values["ends_on"] = _date(given.ends_on, "contract's end date", happened=False, today=today)
    if given.notice_months is not None:
        if not 0 <= given.notice_months <= MOST_NOTICE_MONTHS:
            raise InvalidInput(
                f"--notice-months {given.notice_months} is out of range: give the notice period in months, "
                f"from 0 to {MOST_NOTICE_MONTHS}."
            )
        values["notice_months"] = given.notice_months
    return values


def contracts_of(session: Session, service: Service) -> list[ServiceContract]:
    """A service's agreements, oldest first: the last is the current one."""
    return list(
        session.exec(
            select(ServiceContract)
            .where(ServiceContract.service_id == service.id)
            .order_by(ServiceContract.id)
        )
    )


def set_contract(
    session: Session,
    name: str,
    given: ContractFields,
    *,
    category: str | None = None,
    new: bool = False,
    today: date | None = None,
) -> tuple[Service, ServiceContract | None, list[str], ServiceChange | None]:
    """Correct the service's current agreement (or start its first), or with `new` record a renewal: filled
    in with the options given, or blank (for corrections to fill in) when none are.

    Returns the service, the agreement and the names of the options that changed it. A renewal with nothing
    given when the current agreement is blank, or when there is none, records nothing: the agreement is None.
    After a move to another provider a correction starts a new agreement: the fourth value is then the move
    (its `before` names the provider the earlier agreement is with), else None.
    """
    today = today or date.today()
    service = get_service(session, name, category)
    if not given.given() and not new:
        raise InvalidInput(
            "Give what to record: --dpa-signed, --dpa-reference, --dpa-location, --start, --end or "
            "--notice-months, or --new to start a renewal (see: cloudctl service contract --help)."
        )
    values = _checked(given, today)
    history = contracts_of(session, service)
    nothing = all(value is None for value in values.values())
    if new and nothing and (not history or is_blank(history[-1])):
        return service, None, [], None
    # After a move to another provider, the current agreement is the old provider's: start a new one.
    move = (
        moved_since(provider_moves(session, service.id).get(service.id, []), history[-1]) if history else None
    )
    fresh = new or not history or move is not None
    contract = ServiceContract(service_id=service.id) if fresh else history[-1]
    starts = values.get("starts_on", contract.starts_on)
    ends = values.get("ends_on", contract.ends_on)
    if starts is not None and ends is not None and ends < starts:
        raise InvalidInput(
            f"The contract's end {ends.isoformat()} is before its start {starts.isoformat()}: check the "
            "dates (--start, --end)."
        )
    changed = [OPTION_NAMES[key] for key, value in values.items() if getattr(contract, key) != value]
    if contract.id is not None and not changed:
        return service, contract, [], None
    for key, value in values.items():
        setattr(contract, key, value)
    contract.updated_at = utcnow()
    session.add(contract)
    session.flush()
    return service, contract, changed, None if new else move


def contract_record(service: Service, contract: ServiceContract, *, number: int, current: bool) -> dict:
    return {
        "service": service.name,
        "category": service.category,
        "agreement": number,
        "current": current,
        "dpa_signed_on": format_date(contract.dpa_signed_on),
        "dpa_reference": contract.dpa_reference,
        "dpa_location": contract.dpa_location,
        "starts_on": format_date(contract.starts_on),
        "ends_on": format_date(contract.ends_on),
        "notice_months": contract.notice_months,
        "notice_date": format_date(notice_date(contract.ends_on, contract.notice_months)),
    }


def contract_history(session: Session, name: str, category: str | None = None) -> list[dict]:
    """Every agreement a service has had, oldest first, the current one marked."""
    service = get_service(session, name, category)
    history = contracts_of(session, service)
    return [
        contract_record(service, contract, number=index, current=index == len(history))
        for index, contract in enumerate(history, start=1)
    ]
