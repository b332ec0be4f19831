"""Write a register document as plain text (the school's own layout), Markdown or a web page.

The text form is the layout the parser reads, so a published register can be edited and read back in. A
value of several lines is written with its later lines indented (CONTINUATION_INDENT), so that no line of a
purpose or of controls can be read back as a label, a heading or a service's name; and the text is read back
before it is handed over, so a register that would not read back as it is (a service whose name looks like a
label) is refused, naming the entry to rename, instead of being written.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from cloudctl.errors import InvalidInput
from cloudctl.importers.register_document import (
    CONTINUATION_INDENT,
    FIELD_LABELS,
    RegisterDocument,
    RegisterEntry,
    parse_register_document,
    reads_as_entry_name,
)
from cloudctl.importers.register_labels import heading_for

FORMATS = ("text", "markdown", "html")
# Fields beyond the published layout whose label is not their key in words: "Review every: 6 months".
_BEYOND_THE_LAYOUT = {"review_months": heading_for("review_months")}


class EntryField(NamedTuple):
    key: str
    label: str
    value: str


def entry_fields(entry: RegisterEntry) -> list[EntryField]:
    """An entry's fields in the register's order, then any extra fields in the order they were written."""
    known = [
        EntryField(key, label, entry.fields[key])
        for key, label in FIELD_LABELS.items()
        if key in entry.fields
    ]
    extra = [
        EntryField(key, _BEYOND_THE_LAYOUT.get(key) or key.replace("_", " ").title(), value)
        for key, value in entry.fields.items()
        if key not in FIELD_LABELS
    ]
    return known + extra


def render_register_document(doc: RegisterDocument, fmt: str, *, parents: list | None = None) -> str:
    """The document in `fmt`; `parents` (html only) adds the section for parents: each pupil service's
    privacy-policy link and assessment date (cloudctl.domain.register_parents)."""
    fmt = fmt.strip().lower()
    if parents is not None and fmt != "html":
        raise InvalidInput("The section for parents is published on the web page only: add --format html.")
    if fmt == "text":
        return _render_text(doc)
    if fmt in FORMATS:
        return _render_template(doc, fmt, parents)
    raise InvalidInput(
        f'"{fmt}" is not a format the register can be written in. Use one of: {", ".join(FORMATS)}.'
    )


def _render_text(doc: RegisterDocument) -> str:
    blocks = [doc.school_name, doc.title, *doc.preamble]
    for section in doc.sections:
        blocks += [section.heading, *section.intro]
        for entry in section.entries:
            blocks.append(entry.name)
            for key, label, value in entry_fields(entry):
                if key == "website" and value:
                    value = f"<{value}>"
                blocks.append(_field_text(label, value))
    text = "\n\n".join(blocks) + "\n"
    _check_reads_back(doc, text)
    return text


def _field_text(label: str, value: str) -> str:
    """ "Label: value", with each later line of the value indented and blank lines left blank."""
    first, *rest = value.split("\n")
    lines = [f"{label}: {first}".rstrip()]  # a blank field is "Year Groups Enrolled:", no trailing space
    lines += [f"{CONTINUATION_INDENT}{line}".rstrip() for line in rest]
    return "\n".join(lines)


def _words(text: str) -> str:
    return " ".join(text.split())


def _shape(doc: RegisterDocument) -> tuple:
    """What must survive the text format: every part in its place, and the words of every value."""
    return (
        _words(doc.school_name),
        _words(doc.title),
        [_words(part) for part in doc.preamble],
        [
            (section.category, _words(section.heading), [_words(part) for part in section.intro], [
                (_words(entry.name), {key: _words(value) for key, value in entry.fields.items()})
                for entry in section.entries
            ])
            for section in doc.sections
        ],
    )  # fmt: skip


def _check_reads_back(doc: RegisterDocument, text: str) -> None:
    if not doc.sections:
        return  # only the school's name and the title: nothing that could be misread
    try:
        again = parse_register_document(text)
    except InvalidInput as error:
        problem = _misread_name(doc) or f"reading it back stops at {error.message}"
    else:
        if _shape(again) == _shape(doc):
            return
        problem = _first_difference(doc, again)
    raise InvalidInput(
        f"The register cannot be written as text that reads back as it is: {problem} Publish it as markdown "
        "or html, which hold any text, or mend what is named."
    )


def _misread_name(doc: RegisterDocument) -> str | None:
    if not doc.school_name.strip():
        return "the school's name is not set (set it with: cloudctl init --school NAME)."
    for section in doc.sections:
        for entry in section.entries:
            if not reads_as_entry_name(entry.name):
                return (
                    f'the name of the entry "{entry.name}" in "{section.heading}" would be read as a label, '
                    "a heading or a sentence, not as a service's name: rename it (cloudctl service edit "
                    "NAME --name NEW)."
                )
    return None


def _first_difference(doc: RegisterDocument, again: RegisterDocument) -> str:
    if misread := _misread_name(doc):
        return misread
    ours = [(section, entry) for section in doc.sections for entry in section.entries]
    theirs = [entry for section in again.sections for entry in section.entries]
    for (section, entry), other in zip(ours, theirs, strict=False):
        if _words(entry.name) != _words(other.name) or set(entry.fields) != set(other.fields):
            return (
                f'the entry "{entry.name}" in "{section.heading}" would read back as "{other.name}" with '
                "other labels: its name, or the name of the entry after it, looks like a label, a heading "
                "or a sentence (rename it with: cloudctl service edit NAME --name NEW)."
            )
    if len(ours) != len(theirs):
        return f"it would read back with {len(theirs)} entries instead of {len(ours)}."
    return "its title, a section heading or an introduction would read back differently."


def is_web_link(value: str) -> bool:
    """Only http(s) addresses become links: a "javascript:" or "file:" address is shown, not followed."""
    return re.fullmatch(r"https?://[^\s<>\"]+", value, flags=re.IGNORECASE) is not None


# Characters with a meaning in Markdown wherever they appear. Parentheses are safe once brackets are escaped.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!~])")
# "&copy;" would show as ©; a lone "&" (as in "First name & Surname initial") is left readable.
_MARKDOWN_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
# "- ", "+ ", "= " or "1. " at the start of a paragraph would make a list or a heading underline.
_MARKDOWN_LINE_START = re.compile(r"^([-+=]|\d+(?=[.)]))")


def markdown_escape(value: str) -> str:
    text = re.sub(r"\s*[\r\n]+\s*", " ", value)  # a line break would end the list item or paragraph
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    text = _MARKDOWN_ENTITY.sub(r"\\&", text)
    return _MARKDOWN_LINE_START.sub(
        lambda match: f"{match[0]}\\" if match[0][0].isdigit() else f"\\{match[0]}", text
    )


def _markdown_link(value: str) -> str:
    return f"<{value}>" if is_web_link(value) else markdown_escape(value)


def _render_template(doc: RegisterDocument, fmt: str, parents: list | None = None) -> str:
    # Imported here so the parser and the text format work without Jinja2 loaded.
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cloudctl", "templates"),
        autoescape=fmt == "html",  # Markdown escaping is done by the md filter instead
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["entry_fields"] = entry_fields
    env.tests["web_link"] = is_web_link
    env.filters["md"] = markdown_escape
    env.filters["md_link"] = _markdown_link
    template = {"html": "register.html.j2", "markdown": "register.md.j2"}[fmt]
    return env.get_template(template).render(doc=doc, parents=parents)
