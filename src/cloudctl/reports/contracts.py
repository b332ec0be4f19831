"""The contracts report: agreements missing, contracts ended, and notice falling due.

What a school must act on, most urgent first:
- missing-agreement: a service that receives pupils' data (any category but statutory sharing, which is a
  legal duty with the local authority or the DfE, not a processor's contract) has no signed
  data-processing agreement;
- contract-ended: the current contract's end has passed while the service is still in the register;
- notice-passed: the last day to give notice has passed, the contract has not yet ended (it will run on or
  renew unless notice was given);
- notice-due: the last day to give notice falls within the window;
- contract-ending: the contract ends within the window.
Retired services are left out: nothing more is shared with them.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlmodel import Session, select

from cloudctl.db.models import Provider, Service, ServiceContract
from cloudctl.domain.contracts import moved_since, notice_date, provider_moves
from cloudctl.domain.vocabulary import CATEGORY_ORDER
from cloudctl.vocab.dates import check_as_of, check_within, format_date

STATE_ORDER = ("missing-agreement", "contract-ended", "notice-passed", "notice-due", "contract-ending")

CONTRACT_REPORT_KEYS = (
    "service", "category", "provider", "state", "date", "days_left", "dpa_signed_on", "dpa_reference",
    "ends_on", "notice_date", "action",
)  # fmt: skip


def receives_pupil_data(service: Service) -> bool:
    """Whether a processor's agreement is expected: data shared, and not statutory sharing."""
    return service.category != "statutory" and bool(json.loads(service.data_categories or "[]"))


def current_contracts(session: Session) -> dict[int, ServiceContract]:
    """Each service's current agreement: its latest."""
    current: dict[int, ServiceContract] = {}
    for contract in session.exec(select(ServiceContract).order_by(ServiceContract.id)):
        current[contract.service_id] = contract
    return current


def _services(session: Session) -> list[tuple[Service, Provider | None]]:
    # An outer join: a service whose provider is not recorded is still listed, its provider shown as missing.
    query = (
        select(Service, Provider)
        .outerjoin(Provider, Service.provider_id == Provider.id)
        .where(Service.status != "retired")
    )
    rows = session.exec(query).all()
    return sorted(rows, key=lambda row: (CATEGORY_ORDER.index(row[0].category), row[0].position, row[0].id))


def _row(
    service: Service,
    provider: Provider | None,
    contract: ServiceContract | None,
    *,
    state: str,
    when: date | None,
    action: str,
    as_of: date,
) -> dict:
    return {
        "service": service.name,
        "category": service.category,
        "provider": provider.name if provider else None,
        "state": state,
        "date": format_date(when),
        "days_left": (when - as_of).days if when else None,
        "dpa_signed_on": format_date(contract.dpa_signed_on) if contract else None,
        "dpa_reference": contract.dpa_reference if contract else None,
        "ends_on": format_date(contract.ends_on) if contract else None,
        "notice_date": format_date(notice_date(contract.ends_on, contract.notice_months))
        if contract
        else None,
        "action": action,
    }


def contracts_report(
    session: Session, *, as_of: date, within_days: int = 90, today: date | None = None
) -> list[dict]:
    check_as_of(as_of, today or date.today())
    check_within(within_days)
    horizon = as_of + timedelta(days=within_days)
    current = current_contracts(session)
    moves = provider_moves(session)
    rows: list[dict] = []
    for service, provider in _services(session):
        contract = current.get(service.id)

        def row(state: str, when: date | None, action: str, facts=(service, provider, contract)) -> dict:
            return _row(*facts, state=state, when=when, action=action, as_of=as_of)

        name = json.dumps(service.name, ensure_ascii=False)
        # An agreement recorded before the service moved to another provider is with the old provider.
        move = moved_since(moves.get(service.id, []), contract)
        if receives_pupil_data(service) and move is not None:
            action = (
                f"The agreement on record is with {move.before}, the provider before "
                f"{move.changed_on.isoformat()}: get the new provider's data-processing agreement signed, "
                f"then: cloudctl service contract {name} --dpa-signed DATE --dpa-reference REF"
            )
            rows.append(
                _row(
                    service, provider, None, state="missing-agreement", when=None, action=action, as_of=as_of
                )
            )
        elif receives_pupil_data(service) and (contract is None or contract.dpa_signed_on is None):
            rows.append(
                row(
                    "missing-agreement",
                    None,
                    f"Get the provider's data-processing agreement signed, then: cloudctl service contract "
                    f"{name} --dpa-signed DATE --dpa-reference REF",
                )
            )
        if contract is None or contract.ends_on is None:
            continue
        ends = contract.ends_on
        notice = notice_date(ends, contract.notice_months)
        if ends < as_of:
            rows.append(
                row(
                    "contract-ended",
                    ends,
                    "Renew the contract and record it (service contract --new), or retire the service.",
                )
            )
        elif notice is not None and notice < as_of:
            rows.append(row("notice-passed", notice, f"The contract ends on {ends.isoformat()}."))
        elif notice is not None and notice != ends and notice <= horizon:
            rows.append(
                row("notice-due", notice, f"Decide by then whether to renew: it ends on {ends.isoformat()}.")
            )
        elif ends <= horizon:
            rows.append(row("contract-ending", ends, "Renew it, or retire the service before it ends."))
    order = {state: index for index, state in enumerate(STATE_ORDER)}
    rows.sort(key=lambda r: (order[r["state"]], r["date"] or "", r["service"].lower()))
    return rows
