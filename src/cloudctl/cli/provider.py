"""`cloudctl provider ...`: the companies and bodies behind the services."""

from __future__ import annotations

from typing import Annotated

import typer

from cloudctl.cli.context import FormatOption, database, say
from cloudctl.cli.render import OutputFormat, render, render_record

app = typer.Typer(no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(help='The provider\'s name, e.g. "Renaissance Learning".')]
WebsiteOption = Annotated[str | None, typer.Option("--website", help="The provider's web address.")]
NotesOption = Annotated[
    str | None, typer.Option("--notes", help="Anything worth knowing: contacts, contracts.")
]


@app.command("add")
def provider_add(
    ctx: typer.Context, name: NameArgument, website: WebsiteOption = None, notes: NotesOption = None
):
    """Add a provider to the register."""
    from cloudctl.domain.providers import add_provider

    with database(ctx).write() as session:
        provider = add_provider(session, name, website=website, notes=notes)
        say(f"Added provider '{provider.name}'.")


@app.command("list")
def provider_list(ctx: typer.Context, fmt: FormatOption = OutputFormat.table):
    """List the providers and how many services each provides."""
    from cloudctl.domain.providers import list_providers

    with database(ctx).read() as session:
        rows = list_providers(session)
    render(
        rows,
        fmt,
        columns=[("name", "Provider"), ("services", "Services"), ("website", "Website")],
        title="Providers",
        empty="No providers yet. Add one with: cloudctl provider add NAME",
        all_keys=["name", "website", "notes", "services"],
    )


@app.command("show")
def provider_show(ctx: typer.Context, name: NameArgument, fmt: FormatOption = OutputFormat.table):
    """Show one provider and the services it provides."""
    from sqlmodel import select

    from cloudctl.db.models import Service
    from cloudctl.domain.providers import get_provider, provider_record

    with database(ctx).read() as session:
        provider = get_provider(session, name)
        services = session.exec(
            select(Service.name, Service.category, Service.status).where(Service.provider_id == provider.id)
        ).all()
        record = provider_record(provider)
        record["services"] = [f"{service} ({category}, {status})" for service, category, status in services]
    render_record(record, fmt, title=f"Provider: {record['name']}")


@app.command("edit")
def provider_edit(
    ctx: typer.Context,
    name: NameArgument,
    new_name: Annotated[str | None, typer.Option("--name", help="A new name for the provider.")] = None,
    website: WebsiteOption = None,
    notes: NotesOption = None,
):
    """Change a provider's name, website or notes."""
    from cloudctl.domain.providers import edit_provider
    from cloudctl.errors import InvalidInput

    if new_name is None and website is None and notes is None:
        raise InvalidInput("Nothing to change: give --name, --website or --notes.")
    with database(ctx).write() as session:
        provider = edit_provider(session, name, new_name=new_name, website=website, notes=notes)
        say(f"Updated provider '{provider.name}'.")


@app.command("remove")
def provider_remove(ctx: typer.Context, name: NameArgument):
    """Remove a provider that no service uses."""
    from cloudctl.domain.providers import remove_provider

    with database(ctx).write() as session:
        provider = remove_provider(session, name)
        say(f"Removed provider '{provider.name}'.")
