"""What the office should know before pupils' data leaves for a provider, though the export is allowed: the
service changed after its latest risk assessment (a new provider, more data, more year groups, data stored
further from the UK), or its data-processing agreement is with the provider it moved from. The consent
forms parents signed described the service as it was; the DPO decides whether to ask them again.

These are cautions, not refusals: an approved service stays approved until the school reassesses it, and
what a provider must remove (`--changes` remove rows) must always be sendable."""

from __future__ import annotations

from sqlmodel import Session

from cloudctl.db.models import Service


def export_cautions(session: Session, service: Service) -> list[str]:
    """The cautions for an export to `service` that adds or updates pupils, in plain words."""
    from cloudctl.domain.assessment_workflow import latest_assessment
    from cloudctl.domain.contracts import contracts_of, moved_since, provider_moves
    from cloudctl.domain.service_changes import describe, outdating_changes

    cautions = []
    assessment = latest_assessment(session, service)
    if assessment is not None:
        changes = outdating_changes(session, service, assessment)
        if changes:
            what = "; ".join(
                f"{describe(c.field, c.before, c.after, c.effect)} on {c.changed_on}" for c in changes
            )
            cautions.append(
                f"Caution: '{service.name}' has changed since its latest risk assessment "
                f"({assessment.assessed_on}): {what}. Parents' consent forms described it as it was. "
                f'Review it (cloudctl assess record "{service.name}" ...) before sending more pupils.'
            )
    agreements = contracts_of(session, service)
    latest = agreements[-1] if agreements else None
    move = moved_since(provider_moves(session, service.id).get(service.id, []), latest)
    if move is not None:
        cautions.append(
            f"Caution: the data-processing agreement on record for '{service.name}' is with "
            f"{move.before}, the provider before {move.changed_on}: none is recorded with the provider "
            f'it uses now (cloudctl service contract "{service.name}" ...).'
        )
    return cautions
