"""Is the register document whole? Refuse one that has been cut short or damaged; warn about gaps.

A register saved half-way, copied with `head`, or with lines lost in an email does not look wrong line by
line: its last entry simply stops. What gives it away is the comparison with the entries around it. Each
section's entries are written alike, so an entry that lacks a label most of the other entries of its section
carry (all of them, when there is one other) has lost lines, and the document is refused: importing it would
write a permanent service version with no data shared, and take every pupil off the service.

A label written with nothing after it ("Year Groups Enrolled:") is the school saying the field is empty: it
imports, with a warning. A label that no entry of a section carries is the school's layout (Hunwick's other
online services have no purpose): it imports with one warning, and the value is left for the user to fill
in, never invented.

Only the end of a document can be cut off, so the last entry is held to more: alone in its section, it is
compared with the register's own layout. A document that ends with a service's name and nothing under it is
refused too. Nothing here touches the database.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from cloudctl.errors import InvalidInput, Problem
from cloudctl.importers.register_document import (
    FIELD_LABELS,
    RegisterDocument,
    RegisterEntry,
    RegisterSection,
)

# The labels of the published layout: every section's entries carry these (the other online services with
# "Potential data shared" for "Data Shared", and "Controls").
LAYOUT = (
    "service_provider",
    "website",
    "purpose",
    "data_shared",
    "service_type",
    "year_groups_enrolled",
    "risk_assessment_date",
)
OTHER_LAYOUT = ("service_provider", "website", "data_shared", "controls", "risk_assessment_date")
# The fields a section should say something about; a section that never does gets a warning.
EXPECTED = {
    "pupil": LAYOUT,
    "management": LAYOUT,
    "statutory": LAYOUT,
    "other": (*LAYOUT, "controls"),
}

# How the user fills in a field the document left empty.
_MENDS = {
    "service_provider": "--provider NAME",
    "purpose": "--purpose TEXT",
    "data_shared": "--data TEXT",
    "service_type": "--type TEXT",
    "year_groups_enrolled": "--years TEXT",
    "website": "--website ADDRESS",
    "controls": "--controls TEXT",
    "lawful_basis": "--lawful-basis TEXT",
    "storage_location": "--storage UK|EEA|elsewhere",
    "storage_detail": "--storage-detail TEXT",
    "retention": "--retention TEXT",
    "owner": "--owner NAME",
    "privacy_policy": "--privacy-url ADDRESS",
}
# What an empty field means once imported, where that is more than "empty".
_CONSEQUENCES = {
    "service_provider": "the service is imported without a provider, and nothing is exported to it until "
    "one is given",
    "data_shared": "cloudctl records no data shared, so no pupil data is exported to the provider",
    "year_groups_enrolled": "no year group is enrolled by default",
    "risk_assessment_date": "the service is imported as awaiting assessment (not approved for use)",
}


@dataclass
class Completeness:
    """What the check found: problems refuse the whole import; warnings are shown and the import goes on."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def field_key(label: str) -> str:
    """ "Potential data shared" is the other online services' "Data Shared": one field for comparing."""
    return "data_shared" if label == "potential_data_shared" else label


def check_completeness(doc: RegisterDocument) -> Completeness:
    """Refuse a document with no entries (InvalidInput); list what is cut short, and what is only missing."""
    entries = [(section, entry) for section in doc.sections for entry in section.entries]
    if not entries:
        raise InvalidInput(_no_entries(doc))
    found = Completeness()
    for section in doc.sections:
        for entry in section.entries:
            missing = _missing_beside_others(section, entry)
            if missing:
                found.problems.append(_cut_short(section, entry, missing, "the other entries of"))
    found.problems += _cut_at_the_end(doc, entries)
    found.warnings += _gaps(doc)
    found.problems.sort(key=lambda problem: problem.line)
    return found


def _fields(entry: RegisterEntry) -> set[str]:
    return {field_key(label) for label in entry.fields}


def _missing_beside_others(section: RegisterSection, entry: RegisterEntry) -> list[str]:
    """The fields this entry lacks that most other entries of its section carry (all, when there is one)."""
    others = [other for other in section.entries if other is not entry]
    if not others:
        return []
    counts = Counter(key for other in others for key in _fields(other))
    ours = _fields(entry)
    return [key for key, count in counts.items() if key not in ours and 2 * count > len(others)]


def _cut_at_the_end(
    doc: RegisterDocument, entries: list[tuple[RegisterSection, RegisterEntry]]
) -> list[Problem]:
    """Where a cut falls, at the end: a lone last entry short of the layout, or a name with nothing under it.
    (A heading with nothing under it says nothing about its section, so the import leaves that alone.)"""
    last_section, last_entry = entries[-1]
    ending = doc.sections[-1]
    if last_entry.last_line == doc.last_line and len(last_section.entries) == 1:
        layout = OTHER_LAYOUT if last_section.category == "other" else LAYOUT
        elsewhere = [_fields(entry) for _, entry in entries[:-1]]
        # The register's own style wins: a label no other entry carries is not expected of the last one.
        expected = [key for key in layout if not elsewhere or any(key in keys for keys in elsewhere)]
        missing = [key for key in expected if key not in _fields(last_entry)]
        if missing:
            return [_cut_short(last_section, last_entry, missing, "the entries of this register outside")]
    if ending.intro_lines and ending.intro_lines[-1] == doc.last_line:
        text = ending.intro[-1]
        after = max((entry.last_line for entry in ending.entries), default=ending.line)
        if ending.intro_lines[-1] > after and _looks_like_a_name(text):
            return [
                Problem(
                    doc.last_line,
                    "",
                    "",
                    f'the document ends with "{text}", which looks like the name of a service with none of '
                    "its lines under it: the document looks cut short. Import the whole document; if "
                    f'"{text}" is a note, not a service, end it with a full stop.',
                )
            ]
    return []


def _looks_like_a_name(text: str) -> bool:
    return len(text.split()) <= 10 and len(text) <= 100 and not text.endswith((".", "?", "!", ":"))


def _label(key: str, section: RegisterSection) -> str:
    if key == "data_shared" and section.category == "other":
        return FIELD_LABELS["potential_data_shared"]
    return FIELD_LABELS.get(key) or key.replace("_", " ").capitalize()


def _listed(labels: list[str]) -> str:
    quoted = [f'"{label}:"' for label in labels]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _in_layout_order(keys: list[str]) -> list[str]:
    order = [field_key(label) for label in FIELD_LABELS]
    return sorted(keys, key=lambda key: (order.index(key) if key in order else len(order), key))


def _cut_short(section: RegisterSection, entry: RegisterEntry, missing: list[str], compared: str) -> Problem:
    labels = [_label(key, section) for key in _in_layout_order(missing)]
    return Problem(
        entry.line,
        "",
        "",
        f'the entry "{entry.name}" has no {_listed(labels)} line, which {compared} "{section.heading}" '
        "carry: the document looks cut short or damaged here. Import the complete "
        "document; if the entry really says nothing there, write the label with nothing after it "
        f'(e.g. "{labels[0]}:").',
    )


def _gaps(doc: RegisterDocument) -> list[str]:
    warnings = []
    said: set[str] = set()  # the columns a table lacks, said once for the whole file
    for section in doc.sections:
        if not section.entries:
            continue
        present = set().union(*(_fields(entry) for entry in section.entries))
        for key in EXPECTED[section.category]:
            if key in present:
                continue
            first = section.entries[0]
            if doc.tabular:
                if key not in said:
                    said.add(key)
                    count = sum(len(each.entries) for each in doc.sections)
                    warnings.append(
                        f'the file has no "{_column(key)}" column, so that field is left empty for its '
                        f"{count} service(s){_consequence(key)}; a service already in the register keeps "
                        f"what it has. Fill it in when you know it{_mend(key, first, section)}."
                    )
                continue
            warnings.append(
                f'line {section.line}: no entry of "{section.heading}" has a "{_label(key, section)}:" line '
                f"({len(section.entries)} entries), so that field is left empty{_consequence(key)}; an entry "
                "already in the register keeps what it has. Fill it in when you know it"
                f"{_mend(key, first, section)}."
            )
        for entry in section.entries:
            ours = _fields(entry)
            for key in EXPECTED[section.category]:
                if key in present and key not in ours and not _missing_beside_others(section, entry):
                    warnings.append(
                        f'line {entry.line}: the entry "{entry.name}" has no "{_label(key, section)}:" line, '
                        f"so that field is left empty{_consequence(key)}; an entry already in the register "
                        f"keeps what it has. Fill it in when you know it{_mend(key, entry, section)}."
                    )
            for label, value in entry.fields.items():
                if doc.tabular and field_key(label) not in EXPECTED[section.category]:
                    continue  # an empty cell of a column beyond the register's own fields says nothing
                if not value.strip():
                    key = field_key(label)
                    if key == "review_months":
                        continue  # empty leaves the service's interval as it is: nothing is emptied
                    line = entry.field_lines.get(label, entry.line)
                    where = (
                        f'an empty "{entry.written_labels.get(label) or _column(key)}" cell'
                        if doc.tabular
                        else f'nothing after "{entry.written_labels.get(label) or _label(key, section)}:"'
                    )
                    warnings.append(
                        f'line {line}: the entry "{entry.name}" has {where}, '
                        f"so that field is imported empty{_consequence(key)}. Fill it in when you know it"
                        f"{_mend(key, entry, section)}."
                    )
    return warnings


def _column(key: str) -> str:
    from cloudctl.importers.register_labels import heading_for

    return heading_for(key)


def _consequence(key: str) -> str:
    return f" ({_CONSEQUENCES[key]})" if key in _CONSEQUENCES else ""


def _mend(key: str, entry: RegisterEntry, section: RegisterSection) -> str:
    if key == "risk_assessment_date":
        return f' (cloudctl assess record "{entry.name}" --category {section.category} --date ... --by ...)'
    if key in _MENDS:
        return f' (cloudctl service edit "{entry.name}" --category {section.category} {_MENDS[key]})'
    return ""


def _no_entries(doc: RegisterDocument) -> str:
    headings = ", ".join(f'"{section.heading}" (line {section.line})' for section in doc.sections)
    paragraphs = len(doc.preamble) + sum(len(section.intro) for section in doc.sections)
    return (
        "The register has no entries, so nothing was imported. cloudctl found the school's name "
        f'("{doc.school_name}"), the title ("{doc.title}"), {len(doc.sections)} section heading(s) '
        f"({headings}) and {paragraphs} paragraph(s) of text, but no service. Each entry is the service's "
        'name on a line of its own, under its section\'s heading, followed by its "Label: value" lines, for '
        "example:\n"
        "  Accelerated Reader\n"
        "  Service Provider: Renaissance Learning\n"
        "  Website: <http://www.renlearn.co.uk/accelerated-reader/>\n"
        "  Purpose: Reading assessment\n"
        "  Data Shared: full name, UPN, DOB, Gender, assessment data\n"
        "  Service Type: Purchased\n"
        "  Year Groups Enrolled: Y2 - Y6\n"
        "  Risk assessment date: March 2018\n"
        "If the file is a shortened copy, import the whole register."
    )
