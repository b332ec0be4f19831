"""`cloudctl service ...`: the register's entries."""

from __future__ import annotations

from typing import Annotated

import typer

from cloudctl.cli.context import CategoryOption, FormatOption, database, say
from cloudctl.cli.render import OutputFormat, render, render_record

app = typer.Typer(no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(help='The service\'s name as in the register, e.g. "My Maths".')]
ProviderOption = Annotated[str | None, typer.Option("--provider", "-p", help="The provider's name.")]
PurposeOption = Annotated[str | None, typer.Option("--purpose", help="What the school uses it for.")]
DataOption = Annotated[
    str | None,
    typer.Option("--data", help='The data shared, as the register writes it: "full name, UPN, DOB".'),
]
TypeOption = Annotated[
    str | None, typer.Option("--type", help="Purchased, Free, Government, External, or longer text.")
]
YearsOption = Annotated[
    str | None,
    typer.Option(
        "--years", help='Year groups enrolled: "All", "Y2 - Y6", "EYFS", "Selected Students", "None".'
    ),
]
WebsiteOption = Annotated[str | None, typer.Option("--website", help="The service's web address.")]
ControlsOption = Annotated[
    str | None, typer.Option("--controls", help="Controls in place (other online services).")
]
ReviewOption = Annotated[
    int | None,
    typer.Option("--review-months", help="Months between reviews for this service (else the school's)."),
]
LawfulBasisOption = Annotated[
    str | None, typer.Option("--lawful-basis", help="UK GDPR Art. 6 basis, e.g. public task.")
]
ConditionOption = Annotated[
    str | None,
    typer.Option(
        "--special-category-condition",
        help="For special-category (health) data: the UK GDPR Art. 9 condition, e.g. 9(2)(g) substantial "
        "public interest.",
    ),
]
StorageOption = Annotated[
    str | None, typer.Option("--storage", help="Where the data is stored: UK, EEA or elsewhere.")
]
StorageDetailOption = Annotated[
    str | None, typer.Option("--storage-detail", help="Detail: the country, the safeguards for a transfer.")
]
RetentionOption = Annotated[
    str | None, typer.Option("--retention", help="How long the provider keeps the data.")
]
PrivacyOption = Annotated[str | None, typer.Option("--privacy-url", help="The provider's privacy policy.")]
OwnerOption = Annotated[str | None, typer.Option("--owner", help="Who in school owns this service.")]

TABLE_COLUMNS = [
    ("name", "Service"),
    ("category", "Category"),
    ("provider", "Provider"),
    ("data_shared", "Data shared"),
    ("year_groups_text", "Years"),
    ("status", "Status"),
    ("review_due", "Review due"),
]


def _fields(**values):
    from cloudctl.domain.services import ServiceFields

    return ServiceFields(**values)


@app.command("add")
def service_add(
    ctx: typer.Context,
    name: NameArgument,
    category: Annotated[str, typer.Option("--category", "-c", help="pupil, management, other or statutory.")],
    provider: ProviderOption = None,
    purpose: PurposeOption = None,
    data: DataOption = None,
    service_type: TypeOption = None,
    years: YearsOption = None,
    website: WebsiteOption = None,
    controls: ControlsOption = None,
    review_months: ReviewOption = None,
    lawful_basis: LawfulBasisOption = None,
    special_category_condition: ConditionOption = None,
    storage: StorageOption = None,
    storage_detail: StorageDetailOption = None,
    retention: RetentionOption = None,
    privacy_url: PrivacyOption = None,
    owner: OwnerOption = None,
    create_provider: Annotated[
        bool, typer.Option("--create-provider", help="Add the provider too if it is not in the register.")
    ] = False,
):
    """Add a service to the register. It awaits assessment until one is recorded."""
    from cloudctl.domain.services import add_service

    fields = _fields(
        provider=provider, purpose=purpose, data_shared=data, service_type=service_type, year_groups=years,
        website=website, controls=controls, review_months=review_months, lawful_basis=lawful_basis,
        special_category_condition=special_category_condition, storage_location=storage,
        storage_detail=storage_detail, retention=retention, privacy_url=privacy_url, owner=owner,
    )  # fmt: skip
    with database(ctx).write() as session:
        service = add_service(session, name, category, fields, create_provider=create_provider)
        say(
            f"Added '{service.name}' ({service.category}), awaiting assessment. "
            f'Record its risk assessment with: cloudctl assess record "{service.name}" --date ... --by ... '
            "--outcome ..."
        )


@app.command("list")
def service_list(
    ctx: typer.Context,
    category: Annotated[str | None, typer.Option("--category", "-c", help="Only this category.")] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", "-s", help="approved, awaiting-assessment, not-approved or retired."),
    ] = None,
    include_retired: Annotated[bool, typer.Option("--all", help="Include retired services.")] = False,
    fmt: FormatOption = OutputFormat.table,
):
    """List the register's services (retired ones only with --all)."""
    from cloudctl.domain.service_records import RECORD_KEYS, list_service_records
    from cloudctl.domain.vocabulary import parse_category, parse_status

    category = parse_category(category) if category else None
    status = parse_status(status) if status else None
    with database(ctx).read() as session:
        rows = list_service_records(
            session, category=category, status=status, include_retired=include_retired
        )
    render(
        rows, fmt, columns=TABLE_COLUMNS, title="Services", empty="No services match.", all_keys=RECORD_KEYS
    )


@app.command("show")
def service_show(
    ctx: typer.Context,
    name: NameArgument,
    category: CategoryOption = None,
    fmt: FormatOption = OutputFormat.table,
):
    """Show everything the register holds about one service."""
    from cloudctl.domain.service_records import show_service_record

    with database(ctx).read() as session:
        record = show_service_record(session, name, category)
    render_record(record, fmt, title=f"Service: {record['name']}")


@app.command("edit")
def service_edit(
    ctx: typer.Context,
    name: NameArgument,
    category: CategoryOption = None,
    new_name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    new_category: Annotated[
        str | None, typer.Option("--move-to", help="Move it to another category.")
    ] = None,
    provider: ProviderOption = None,
    purpose: PurposeOption = None,
    data: DataOption = None,
    service_type: TypeOption = None,
    years: YearsOption = None,
    website: WebsiteOption = None,
    controls: ControlsOption = None,
    review_months: ReviewOption = None,
    lawful_basis: LawfulBasisOption = None,
    special_category_condition: ConditionOption = None,
    storage: StorageOption = None,
    storage_detail: StorageDetailOption = None,
    retention: RetentionOption = None,
    privacy_url: PrivacyOption = None,
    owner: OwnerOption = None,
):
    """Change a service's entry. Only the options given are changed."""
    from cloudctl.domain.services import edit_service

    fields = _fields(
        provider=provider, purpose=purpose, data_shared=data, service_type=service_type, year_groups=years,
        website=website, controls=controls, review_months=review_months, lawful_basis=lawful_basis,
        special_category_condition=special_category_condition, storage_location=storage,
        storage_detail=storage_detail, retention=retention, privacy_url=privacy_url, owner=owner,
    )  # fmt: skip
    with database(ctx).write() as session:
        service, changed = edit_service(
            session, name, fields, category=category, new_name=new_name, new_category=new_category
        )
        if changed:
            listed = ", ".join(changed)
            say(f"Updated '{service.name}' ({service.category}): {listed}.")
        else:
            say(f"Nothing changed: '{service.name}' already had those values.")


@app.command("retire")
def service_retire(ctx: typer.Context, name: NameArgument, category: CategoryOption = None):
    """Retire a service: kept with its history, hidden from lists unless --all."""
    from cloudctl.domain.services import retire_service

    with database(ctx).write() as session:
        service = retire_service(session, name, category)
        say(f"Retired '{service.name}' ({service.category}). Its history is kept: service list --all")


CONTRACT_COLUMNS = [
    ("agreement", "No."),
    ("current", "Current"),
    ("dpa_signed_on", "Agreement signed"),
    ("dpa_reference", "Reference"),
    ("dpa_location", "Kept at"),
    ("starts_on", "Starts"),
    ("ends_on", "Ends"),
    ("notice_months", "Notice (months)"),
    ("notice_date", "Give notice by"),
]


@app.command("contract")
def service_contract(
    ctx: typer.Context,
    name: NameArgument,
    category: CategoryOption = None,
    dpa_signed: Annotated[
        str | None, typer.Option("--dpa-signed", help="When the data-processing agreement was signed.")
    ] = None,
    dpa_reference: Annotated[
        str | None, typer.Option("--dpa-reference", help="The agreement's reference or version.")
    ] = None,
    dpa_location: Annotated[
        str | None,
        typer.Option("--dpa-location", help="Where the signed agreement is kept (a path or address)."),
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="The contract's start date.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="The contract's end date.")] = None,
    notice_months: Annotated[
        int | None, typer.Option("--notice-months", help="Months of notice the contract needs (0 to 120).")
    ] = None,
    new: Annotated[
        bool,
        typer.Option(
            "--new",
            help="A new agreement (a renewal): the current one stays on record. Alone, it starts a blank "
            "one that the other options fill in later.",
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
):
    """Record a service's data-processing agreement and contract dates; with no options, list its agreements.

    The options given change the current agreement (an empty value clears one); --new records a renewal
    (filled in with the options given, or blank for them to fill in later).
    """
    from cloudctl.domain.contracts import ContractFields, contract_history, set_contract

    given = ContractFields(
        dpa_signed_on=dpa_signed, dpa_reference=dpa_reference, dpa_location=dpa_location,
        starts_on=start, ends_on=end, notice_months=notice_months,
    )  # fmt: skip
    if given.given() or new:
        with database(ctx).write() as session:
            service, contract, changed, move = set_contract(session, name, given, category=category, new=new)
            fill_in = (
                f'Fill it in as it is signed: cloudctl service contract "{service.name}" --dpa-signed DATE '
                "--dpa-reference REF --end DATE"
            )
            if new and contract is None:
                say(
                    f"Nothing recorded: '{service.name}' ({service.category}) has no agreement with anything "
                    f"on it yet (none, or a renewal already started), so there is nothing to renew. {fill_in}"
                )
            elif new and not changed:
                say(
                    f"Started a new agreement for '{service.name}' ({service.category}); the earlier one is "
                    f"kept. Until it is signed, report contracts lists it as missing-agreement. {fill_in}"
                )
            elif new:
                say(
                    f"Recorded a new agreement for '{service.name}' ({service.category}); "
                    "the earlier one is kept."
                )
            elif move is not None:
                say(
                    f"Recorded a new agreement for '{service.name}' ({service.category}): the service moved "
                    f"from {move.before} on {move.changed_on.isoformat()}, so the earlier agreement, with "
                    f"{move.before}, is kept on record but no longer counts."
                )
            elif changed:
                say(f"Updated the agreement of '{service.name}' ({service.category}): {', '.join(changed)}.")
            else:
                say(f"Nothing changed: the agreement of '{service.name}' already had those values.")
        return
    from cloudctl.domain.contracts import CONTRACT_KEYS

    with database(ctx).read() as session:
        rows = contract_history(session, name, category)
    render(
        rows,
        fmt,
        columns=CONTRACT_COLUMNS,
        title=f"Agreements: {name}",
        empty=(
            f"No agreement is recorded for '{name}'. Record one with: cloudctl service contract NAME "
            "--dpa-signed DATE --dpa-reference REF --end DATE --notice-months N"
        ),
        all_keys=CONTRACT_KEYS,
    )
