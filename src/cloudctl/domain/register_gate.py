"""The text gate over a whole register document, before anything from it is written.

Every line is checked for characters cloudctl never stores (NUL, terminal escapes, invisible direction
changes), then every part the import keeps goes through the same gate as `service add` and `provider add`,
with the same limits. Problems are collected with their lines, so one import names them all; any problem
refuses the whole import.
"""

from __future__ import annotations

import re
from dataclasses import replace

from cloudctl.domain.providers import clean_url
from cloudctl.domain.service_years import check_taught_years
from cloudctl.domain.services import gate_extra, gate_field
from cloudctl.errors import ImportRejected, InvalidInput, Problem
from cloudctl.importers.register_document import RegisterDocument, RegisterEntry, RegisterSection
from cloudctl.vocab.text import gate_name, gate_prose, gate_text
from cloudctl.vocab.year_groups import parse_year_groups

WHAT = "The register"

# The document's labels that fill a service's fields (see ServiceFields), the rest being kept as written.
LABEL_FIELDS = {
    "service_provider": "provider",
    "website": "website",
    "purpose": "purpose",
    "data_shared": "data_shared",
    "potential_data_shared": "data_shared",
    "controls": "controls",
    "service_type": "service_type",
    "year_groups_enrolled": "year_groups",
    "lawful_basis": "lawful_basis",
    "storage_location": "storage_location",
    "storage_detail": "storage_detail",
    "retention": "retention",
    "owner": "owner",
    "privacy_policy": "privacy_url",
}
# Read by the import itself (a date and an outcome; a number of months): gated as one line of text.
ONE_LINE_LABELS = {"risk_assessment_date": "risk assessment date", "review_months": "review interval"}


def refuse_control_characters(text: str) -> None:
    """Every line, as written, free of the characters the gate refuses; else the lines that are not."""
    problems = []
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text.removeprefix("\ufeff")), start=1):
        try:
            gate_text(line, "line", limit=len(line) + 1)
        except InvalidInput as error:
            problems.append(Problem(number, "", "", error.message))
    if problems:
        raise ImportRejected(WHAT, problems)


class _Gate:
    def __init__(self, years: tuple[str, ...]) -> None:
        self.years = years
        self.problems: list[Problem] = []

    def check(self, line: int, gate, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return gate(*args, **kwargs)
        except InvalidInput as error:
            self.problems.append(Problem(line, "", "", error.message))
            return None


def gate_document(doc: RegisterDocument, years: tuple[str, ...]) -> tuple[RegisterDocument, list[Problem]]:
    """The document with every value as the gate leaves it, and the problems found, each with its line."""
    gate = _Gate(years)
    if not doc.has_front_matter:
        # A register that starts with its services (a table, a spreadsheet) has no name or title to check.
        return replace(
            doc, sections=[_gate_section(gate, section) for section in doc.sections]
        ), gate.problems
    gated = replace(
        doc,
        school_name=gate.check(doc.school_line, gate_name, doc.school_name, "school's name") or "",
        title=gate.check(doc.title_line, gate_text, doc.title, "title") or "",
        preamble=[
            gate.check(line, gate_prose, part, "opening text") or ""
            for line, part in zip(doc.preamble_lines, doc.preamble, strict=True)
        ],
        sections=[_gate_section(gate, section) for section in doc.sections],
    )
    return gated, gate.problems


def _gate_section(gate: _Gate, section: RegisterSection) -> RegisterSection:
    heading = gate.check(section.line, gate_text, section.heading, "section heading") or section.heading
    return replace(
        section,
        heading=heading,
        intro=[
            gate.check(line, gate_prose, part, f'introduction of "{heading}"') or ""
            for line, part in zip(section.intro_lines, section.intro, strict=True)
        ],
        entries=[_gate_entry(gate, entry) for entry in section.entries],
    )


def _gate_entry(gate: _Gate, entry: RegisterEntry) -> RegisterEntry:
    name = gate.check(entry.line, gate_name, entry.name, "service name")
    of = f'of "{name}"' if name else ""
    fields = {}
    for label, value in entry.fields.items():
        line = entry.field_lines.get(label, entry.line)
        field = LABEL_FIELDS.get(label)
        if field is None and label not in ONE_LINE_LABELS:
            gated = gate.check(line, gate_extra, label, value, of=of)
            fields[label] = gated[1] if gated else value
            continue
        if field == "provider" and not value.strip():
            fields[label] = ""  # no provider named: imported without one, and said (register_completeness)
            continue
        if field not in ("purpose", "data_shared", "controls"):
            value = " ".join(value.split("\n"))  # a one-line value wrapped onto indented lines
        if field is None:
            gated = gate.check(line, gate_text, value, f"{ONE_LINE_LABELS[label]} {of}".strip())
        else:
            gated = gate.check(line, gate_field, field, value, of=of)
        if gated and field in ("website", "privacy_url"):
            gate.check(
                line, clean_url, gated, "privacy policy address" if field == "privacy_url" else "website"
            )
        if gated and field == "year_groups" and gate.check(line, parse_year_groups, gated, gate.years):
            gate.check(line, check_taught_years, gated, gate.years, of=of)
        fields[label] = gated or ""
    return replace(entry, name=name or entry.name, fields=fields)
