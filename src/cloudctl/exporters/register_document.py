"""Write a register document as plain text (the school's own layout), Markdown or a web page.

The text form is the layout the parser reads, so a published register can be edited and read back in.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from cloudctl.errors import InvalidInput
from cloudctl.importers.register_document import FIELD_LABELS, RegisterDocument, RegisterEntry

FORMATS = ("text", "markdown", "html")


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
        EntryField(key, key.replace("_", " ").title(), value)
        for key, value in entry.fields.items()
        if key not in FIELD_LABELS
    ]
    return known + extra


def render_register_document(doc: RegisterDocument, fmt: str) -> str:
    fmt = fmt.strip().lower()
    if fmt == "text":
        return _render_text(doc)
    if fmt in FORMATS:
        return _render_template(doc, fmt)
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
                # rstrip: a blank field is written "Year Groups Enrolled:" with no trailing space.
                blocks.append(f"{label}: {value}".rstrip())
    return "\n\n".join(blocks) + "\n"


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


def _render_template(doc: RegisterDocument, fmt: str) -> str:
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
    return env.get_template(template).render(doc=doc)
