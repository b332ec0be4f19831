"""Parse a school's published register of online services (the plain-text document).

The register is typed by people in a word processor, not written by a program, so the parser is tolerant
about layout (blank lines or none between an entry's lines, label case, CRLF, a BOM, stray spaces) and strict
only where guessing would file a service wrongly. The layout it reads:

    School name
    Title
    preamble paragraphs
    Section heading               (one of four kinds, see CATEGORY_HEADINGS)
    intro paragraphs
    Service name                  (a short line of its own)
    Service Provider: Company     (then more "Label: value" lines)
    Purpose: first line           (a value of several lines: the lines after the first are indented,
        second line                so that none of them can be taken for a label, a heading or a name;
                                   a blank line followed by an indented line is part of the value)

Nothing here touches the database: another layer maps a RegisterDocument to records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cloudctl.errors import InvalidInput

# The labels a register entry uses, keyed by their normalised form, with the spelling used when publishing.
FIELD_LABELS: dict[str, str] = {
    "service_provider": "Service Provider",
    "website": "Website",
    "purpose": "Purpose",
    "data_shared": "Data Shared",
    "potential_data_shared": "Potential data shared",
    "controls": "Controls",
    "service_type": "Service Type",
    "year_groups_enrolled": "Year Groups Enrolled",
    "risk_assessment_date": "Risk assessment date",
}

CATEGORY_HEADINGS: dict[str, str] = {
    "pupil": "Services for Pupils or Parents",
    "management": "Services for School Management",
    "other": "Other Online Services",
    "statutory": "Legal Requirements",
}

# A heading is recognised by its words, not its exact spelling, because schools reword them ("Pupil and
# Parent Services"). Checked in this order so "Other services for pupils" is "other", not "pupil".
_CATEGORY_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("statutory", frozenset({"legal", "legally", "statutory", "law"})),
    ("other", frozenset({"other", "additional"})),
    ("management", frozenset({"management", "administration", "admin", "office"})),
    (
        "pupil",
        frozenset(
            {
                "pupil",
                "pupils",
                "parent",
                "parents",
                "carers",
                "families",
                "student",
                "students",
                "children",
                "learners",
            }
        ),
    ),
)
# Every word of a heading must come from this vocabulary, so a short line of prose that happens to mention
# parents ("Parents can opt out at any time") is not taken for a heading.
_HEADING_WORDS: frozenset[str] = frozenset().union(*(words for _, words in _CATEGORY_WORDS)) | frozenset(
    {"services", "service", "online", "cloud", "based", "web", "internet", "providers", "provider", "systems"}
    | {"for", "and", "or", "the", "of", "to", "with", "by", "in", "our", "school", "sharing", "shared"}
    | {"requirements", "requirement", "obligations", "duties", "data", "information"}
)

# "Label: value" where the label is a few words; the first colon ends it, so "Website: <http://...>" works.
_LABEL_LINE = re.compile(r"(?P<label>[A-Za-z][A-Za-z0-9 ()/&'’-]*?)\s*:(?P<value>.*)")
_MAX_LABEL_WORDS = 5
# What `register publish --format text` puts before each line of a value after its first. Any indent deeper
# than the label's continues the value; exactly this much is taken off again, so a line's own leading spaces
# read back as they were written.
CONTINUATION_INDENT = "    "
# Entry names are short ("Times Tables Rock Stars"); prose paragraphs are long sentences.
_MAX_NAME_WORDS = 10
_MAX_NAME_CHARS = 100


@dataclass
class RegisterEntry:
    """One service: its name as written and its fields keyed by normalised label (see FIELD_LABELS)."""

    name: str
    fields: dict[str, str]
    # Where the name was found, for messages; not part of what the entry says, so not compared.
    line: int = field(default=0, compare=False)
    # The line of each field's label, and the entry's last line (where a document cut short would end).
    field_lines: dict[str, int] = field(default_factory=dict, compare=False)
    last_line: int = field(default=0, compare=False)


@dataclass
class RegisterSection:
    category: str  # one of CATEGORY_HEADINGS' keys
    heading: str  # as written in the document
    intro: list[str] = field(default_factory=list)
    entries: list[RegisterEntry] = field(default_factory=list)
    # Where the heading and each paragraph of the introduction start, for messages.
    line: int = field(default=0, compare=False)
    intro_lines: list[int] = field(default_factory=list, compare=False)


@dataclass
class RegisterDocument:
    school_name: str
    title: str
    preamble: list[str] = field(default_factory=list)
    sections: list[RegisterSection] = field(default_factory=list)
    # Where the name, the title and each opening paragraph are, and the document's last line with text.
    school_line: int = field(default=0, compare=False)
    title_line: int = field(default=0, compare=False)
    preamble_lines: list[int] = field(default_factory=list, compare=False)
    last_line: int = field(default=0, compare=False)


def normalise_label(label: str) -> str:
    """ "Data shared", "Data Shared" and "data  shared" all become "data_shared"."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def parse_register_document(text: str) -> RegisterDocument:
    """Read the register document; raise InvalidInput saying which line is wrong and how to mend it."""
    return _Parser(text).parse()


@dataclass(frozen=True)
class _Line:
    number: int  # 1-based, as an editor shows it
    text: str  # trimmed
    label: str | None  # normalised label when the line is "Label: value"
    value: str
    raw: str = ""  # as written, less trailing white space: a continuation line keeps its own indent
    indent: int = 0  # how many white-space characters the line starts with


def _split_lines(text: str) -> list[_Line]:
    text = text.removeprefix("\ufeff")  # Word and Excel save UTF-8 with a BOM
    lines = []
    # Not str.splitlines(): it also splits on form feeds and other rare separators, which would make the
    # line numbers in messages disagree with the user's editor.
    for number, raw in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        raw = raw.rstrip()
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip())
        match = _LABEL_LINE.fullmatch(stripped)
        if match and len(match["label"].split()) <= _MAX_LABEL_WORDS:
            label, value = normalise_label(match["label"]), match["value"].strip()
            lines.append(_Line(number, stripped, label, value, raw, indent))
        else:
            lines.append(_Line(number, stripped, None, "", raw, indent))
    return lines


def _quote(text: str) -> str:
    return f'"{text}"' if len(text) <= 80 else f'"{text[:77]}..."'


def _headings_hint() -> str:
    return ", ".join(f'"{heading}"' for heading in CATEGORY_HEADINGS.values())


class _Parser:
    def __init__(self, text: str) -> None:
        self.lines = _split_lines(text)
        self.doc: RegisterDocument | None = None
        self.section: RegisterSection | None = None
        self.entry: RegisterEntry | None = None
        self.paragraph: list[str] = []  # lines of the prose paragraph being read
        self.paragraph_line = 0  # where it starts
        self.last_field: str | None = None  # the field a wrapped line continues; cleared by a blank line
        self.field_indent = 0  # the indent of that field's label line
        self.blank_lines = 0  # blank lines inside a value of several lines, kept if an indented line follows

    def parse(self) -> RegisterDocument:
        filled = [index for index, line in enumerate(self.lines) if line.text]
        if len(filled) < 2:
            raise InvalidInput(
                "The register is empty or has only one line. It should start with the school's name, then "
                "the document's title, each on a line of its own, followed by the sections of services."
            )
        for index in filled[:2]:
            if self._heading_category(index):
                line = self.lines[index]
                raise InvalidInput(
                    f"line {line.number}: the section heading {_quote(line.text)} comes where the school's "
                    "name and the document's title should be. Put the school's name on the first line and "
                    "the title on the next, above the first section."
                )
        school, title = (self.lines[index] for index in filled[:2])
        self.doc = RegisterDocument(
            school_name=school.text,
            title=title.text,
            school_line=school.number,
            title_line=title.number,
            last_line=self.lines[filled[-1]].number,
        )
        body = range(filled[1] + 1, len(self.lines))
        if not any(self._is_heading(index) for index in body):
            raise InvalidInput(
                "No section heading was found in the register, so cloudctl cannot tell which services are "
                f"for pupils and which are for running the school. Add headings such as {_headings_hint()}, "
                "each on a line of its own above the services it covers."
            )
        for index in body:
            self._read(index)
        self._end_paragraph()
        self._end_entry()
        return self.doc

    def _read(self, index: int) -> None:
        line = self.lines[index]
        if not line.text:
            if self._continues_after_blank(index):
                self.blank_lines += 1
                return
            self._end_paragraph()
            self.last_field = None
        elif self._continues_value(line):
            self._continue_field(line)
        elif self._starts_entry(index):
            self._start_entry(line)
        elif category := self._heading_category(index):
            self._start_section(line, category)
        elif line.label and (self.entry or line.label in FIELD_LABELS):
            self._add_field(line)
        elif self.entry and self.last_field:
            # A line straight after a field, with no blank line between, is the field's value wrapped
            # onto a second line: keep the words with the entry.
            value = self.entry.fields[self.last_field]
            self.entry.fields[self.last_field] = f"{value} {line.text}".strip()
            self.entry.last_line = line.number
        else:
            # Prose. After an entry it is a note on the section; it is kept with the intro so no text is lost.
            self._end_entry()
            if not self.paragraph:
                self.paragraph_line = line.number
            self.paragraph.append(line.text)

    def _continues_value(self, line: _Line) -> bool:
        """A line indented deeper than the label above it is the next line of that label's value."""
        return bool(self.entry and self.last_field and line.text and line.indent > self.field_indent)

    def _continues_after_blank(self, index: int) -> bool:
        following = self._next_filled(index)
        return following < len(self.lines) and self._continues_value(self.lines[following])

    def _continue_field(self, line: _Line) -> None:
        # Take off the label's indent and the continuation indent, no more: the line's own spaces stay.
        text = line.raw[min(line.indent, self.field_indent + len(CONTINUATION_INDENT)) :]
        value = self.entry.fields[self.last_field]
        self.entry.fields[self.last_field] = value + "\n" * (self.blank_lines + 1) + text
        self.entry.last_line = line.number
        self.blank_lines = 0

    def _next_filled(self, index: int) -> int:
        index += 1
        while index < len(self.lines) and not self.lines[index].text:
            index += 1
        return index

    def _starts_entry(self, index: int) -> bool:
        """A short line of its own followed by "Label: value" lines that include a register label."""
        line = self.lines[index]
        if line.label is not None or not _looks_like_name(line.text):
            return False
        following = self._next_filled(index)
        while following < len(self.lines) and self.lines[following].label:
            if self.lines[following].label in FIELD_LABELS:
                return True
            following = self._next_filled(following)
        return False

    def _heading_category(self, index: int) -> str | None:
        return _heading_category(self.lines[index])

    def _is_heading(self, index: int) -> bool:
        return self._heading_category(index) is not None and not self._starts_entry(index)

    def _start_section(self, line: _Line, category: str) -> None:
        self._end_paragraph()
        self._end_entry()
        heading = re.sub(r"[\s:]+\Z", "", line.text)  # every trailing colon, so a second reading agrees
        self.section = RegisterSection(category=category, heading=heading, line=line.number)
        self.doc.sections.append(self.section)

    def _start_entry(self, line: _Line) -> None:
        self._end_paragraph()
        self._end_entry()
        if self.section is None:
            raise InvalidInput(
                f"line {line.number}: the service {_quote(line.text)} comes before the first section "
                f"heading. Move it under one of the headings: {_headings_hint()}."
            )
        self.entry = RegisterEntry(name=line.text, fields={}, line=line.number, last_line=line.number)

    def _add_field(self, line: _Line) -> None:
        self._end_paragraph()
        if self.entry is None:
            raise InvalidInput(
                f"line {line.number}: {_quote(line.text)} comes before any service name. Each entry starts "
                "with the service's name on a line of its own."
            )
        if line.label in self.entry.fields:
            raise InvalidInput(
                f"line {line.number}: {_quote(line.text)} is a second {_quote(line.text.split(':')[0])} line "
                f"for {_quote(self.entry.name)} (line {self.entry.line}). If a new service starts here, put "
                "its name on a line of its own above this line; otherwise remove one of the two."
            )
        value = line.value
        if line.label == "website" and value.startswith("<") and value.endswith(">"):
            value = value[1:-1].strip()  # the register writes websites as <http://...>
        self.entry.fields[line.label] = value
        self.entry.field_lines[line.label] = line.number
        self.entry.last_line = line.number
        self.last_field, self.field_indent, self.blank_lines = line.label, line.indent, 0

    def _end_entry(self) -> None:
        entry, self.entry, self.last_field = self.entry, None, None
        if entry is None:
            return
        if "service_provider" not in entry.fields:
            raise InvalidInput(
                f'line {entry.line}: the service {_quote(entry.name)} has no "Service Provider:" line. Add '
                "one under the service's name saying which company provides it, e.g. "
                '"Service Provider: Renaissance Learning".'
            )
        self.section.entries.append(entry)

    def _end_paragraph(self) -> None:
        if self.paragraph:
            # A paragraph wrapped over several lines is one paragraph.
            if self.section:
                self.section.intro.append(" ".join(self.paragraph))
                self.section.intro_lines.append(self.paragraph_line)
            else:
                self.doc.preamble.append(" ".join(self.paragraph))
                self.doc.preamble_lines.append(self.paragraph_line)
            self.paragraph = []


def _heading_category(line: _Line) -> str | None:
    # "Other Online Services:" is allowed; "Legal basis: Public task" is a field, not a heading.
    if line.label is not None and (line.value or line.label in FIELD_LABELS):
        return None
    words = re.findall(r"[a-z0-9]+", line.text.lower())
    if not words or not set(words) <= _HEADING_WORDS:
        return None
    return next((category for category, keys in _CATEGORY_WORDS if keys & set(words)), None)


def reads_as_entry_name(name: str) -> bool:
    """Whether a line holding only this name, with labels under it, is read as a service's name (not as a
    label or a sentence; a name made of heading words is still a name when labels follow it)."""
    (line,) = _split_lines(" ".join(name.split()))
    return bool(line.text) and line.label is None and _looks_like_name(line.text)


def _looks_like_name(text: str) -> bool:
    words = text.split()
    if len(words) > _MAX_NAME_WORDS or len(text) > _MAX_NAME_CHARS:
        return False
    # A sentence ends with a full stop; a name rarely does, except short ones such as "Isuz Ltd.".
    return not (text.endswith((".", "?")) and len(words) > 3)
