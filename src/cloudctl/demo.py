"""The demo: the bundled Hunwick Primary School register, imported into a database."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources

from cloudctl.db.engine import Database

HUNWICK_REGISTER = "hunwick-cloud-service-providers.txt"


def bundled_text(name: str) -> str:
    return resources.files("cloudctl").joinpath("data", name).read_text(encoding="utf-8")


def run_demo(db: Database) -> Iterator[str]:
    """Import the demo data; yields a line for each step, for the CLI to show."""
    from cloudctl.domain.pupils import import_demo_pupils
    from cloudctl.domain.register import import_register
    from cloudctl.domain.settings import init_school

    with db.write() as session:
        init_school(session, school_name="Hunwick Primary School", years="R,1-6")
        changes = import_register(session, bundled_text(HUNWICK_REGISTER))
    yield f"Imported the Hunwick Primary School register: {len(changes)} services."
    pupils = import_demo_pupils(db)
    yield f"Imported the demo class list (fictional pupils, Reception to Year 6): {pupils.pupils} pupils."
