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
from dataclasses import dataclass, field, replace

from cloudctl.errors import InvalidInput
from cloudctl.importers.register_labels import TABLE_ONLY, extra_key, is_field, is_known, key_for

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
# Entry names are short ("Times Tables Rock Stars"), though some registers name a service in a whole
# phrase of ten words or more; prose paragraphs are long sentences that end with a full stop.
_MAX_NAME_WORDS = 20
_MAX_NAME_CHARS = 160
# A line of its own above a service, that is neither a service nor a section heading cloudctl knows, groups
# the services under it ("Medium Risk – Consent Required"); it is kept as text of the section and reported.
_MAX_GROUP_WORDS = 10


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
    # Each field's label as the school wrote it ("Purpose of data"), for the summary.
    written_labels: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass
class RegisterSection:
    category: str  # one of CATEGORY_HEADINGS' keys
    heading: str  # as written in the document
    intro: list[str] = field(default_factory=list)
    entries: list[RegisterEntry] = field(default_factory=list)
    # Where the heading and each paragraph of the introduction start, for messages.
    line: int = field(default=0, compare=False)
    intro_lines: list[int] = field(default_factory=list, compare=False)
    # A section the document has no heading for (its entries filed by `--category`): the import leaves the
    # stored section's heading and place alone.
    implicit: bool = field(default=False, compare=False)


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
    # How the file was read, for the summary ("a document with a heading per service ...").
    shape: str = field(default="document", compare=False)
    # Whether the document starts with the school's name and a title (so its opening text is the preamble);
    # a register that starts with its services leaves the school's name, title and opening text alone.
    has_front_matter: bool = field(default=True, compare=False)
    # What the reader noticed and the user should know (grouping headings, defaulted sections).
    notes: list[str] = field(default_factory=list, compare=False)
    # Read from rows (a spreadsheet or a text table): every entry has every column, filled or not.
    tabular: bool = field(default=False, compare=False)
    # Where in the file the register was read from (a workbook's sheet, and the sheets not read), said
    # again with any refusal, so a user who kept the register on another sheet sees why.
    read_from: str = field(default="", compare=False)


def normalise_label(label: str) -> str:
    """ "Data shared", "Data Shared" and "data  shared" all become "data_shared"."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def parse_register_document(text: str, *, default_category: str | None = None) -> RegisterDocument:
    """Read the register document; raise InvalidInput saying which line is wrong and how to mend it.

    `default_category` is the section of entries outside any section heading the parser recognises (a
    register without sections); without it such entries are refused.
    """
    return _Parser(text, default_category).parse()


@dataclass(frozen=True)
class _Line:
    number: int  # 1-based, as an editor shows it
    text: str  # trimmed
    label: str | None  # normalised label when the line is "Label: value"
    value: str
    raw: str = ""  # as written, less trailing white space: a continuation line keeps its own indent
    indent: int = 0  # how many white-space characters the line starts with
    written_label: str = ""  # the label as written


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
            label, value = _label_key(match["label"]), match["value"].strip()
            lines.append(_Line(number, stripped, label, value, raw, indent, match["label"].strip()))
        else:
            lines.append(_Line(number, stripped, None, "", raw, indent))
    return lines


def _label_key(label: str) -> str:
    """The entry key of a label, through the shared mapping; a table's own columns (the service's name, its
    category) are not fields of a document's entry, so they are kept as written."""
    key = key_for(label)
    return extra_key(label) if key in TABLE_ONLY else key


def _quote(text: str) -> str:
    return f'"{text}"' if len(text) <= 80 else f'"{text[:77]}..."'


def _headings_hint() -> str:
    return ", ".join(f'"{heading}"' for heading in CATEGORY_HEADINGS.values())


class _Parser:
    def __init__(self, text: str, default_category: str | None = None) -> None:
        self.default_category = default_category
        self.lines = _split_lines(text)
        self.doc: RegisterDocument | None = None
        self.section: RegisterSection | None = None
        self.entry: RegisterEntry | None = None
        self.paragraph: list[str] = []  # lines of the prose paragraph being read
        self.paragraph_line = 0  # where it starts
        self.last_field: str | None = None  # the field a wrapped line continues; cleared by a blank line
        self.field_indent = 0  # the indent of that field's label line
        self.blank_lines = 0  # blank lines inside a value of several lines, kept if an indented line follows
        # Whether the field being read had nothing after its label, so lines such as "Student: name, email"
        # under it are its value, not fields of their own.
        self.gathering = False
        # The paragraph that ended last, while nothing but blank lines has followed it.
        self.ended: tuple[list[str], int] = ([], 0)

    def parse(self) -> RegisterDocument:
        filled = [index for index, line in enumerate(self.lines) if line.text]
        if not filled:
            raise InvalidInput(nothing_read("found an empty file"))
        # The school's name and the title: the first two lines, when both come before the first service,
        # section heading or label. A register that starts with its services has neither.
        front = []
        for index in filled[:2]:
            line = self.lines[index]
            if line.label is not None or self._heading_category(index) or self._starts_entry(index):
                break
            if not _looks_like_name(line.text):  # a sentence is the opening text, not a name or a title
                break
            front.append(index)
        self.doc = RegisterDocument(school_name="", title="", last_line=self.lines[filled[-1]].number)
        if len(front) == 2:
            school, title = (self.lines[index] for index in front)
            self.doc.school_name, self.doc.title = school.text, title.text
            self.doc.school_line, self.doc.title_line = school.number, title.number
            body = range(front[1] + 1, len(self.lines))
        else:
            self.doc.has_front_matter = False
            body = range(filled[0], len(self.lines))
        headed = any(self._is_heading(index) for index in body)
        if not headed and self.default_category is None:
            entries = [self.lines[index] for index in body if self._starts_entry(index)]
            if not entries:
                raise InvalidInput(nothing_read(self._found()))
            raise InvalidInput(
                "No section heading was found in the register, so cloudctl cannot tell which services "
                "are for pupils and which are for running the school (the first service is "
                f"{_quote(entries[0].text)} on line {entries[0].number}). Say which section they all "
                "belong to with --category pupil|management|other|statutory, or add headings such as "
                f"{_headings_hint()}, each on a line of its own above the services it covers."
            )
        if not headed or not self._is_heading(body[0]):
            # Entries (and text) before the first section heading are in the section --category names.
            self._start_implicit_section()
        for index in body:
            self._read(index)
        self._end_paragraph()
        self._end_entry()
        self.doc.sections = [
            section
            for section in self.doc.sections
            if not section.implicit or section.entries or section.intro
        ]
        if not any(section.entries for section in self.doc.sections) and not headed:
            raise InvalidInput(nothing_read(self._found()))
        return self.doc

    def _found(self) -> str:
        """What the file holds, in words, for the message that says nothing could be read."""
        filled = [line for line in self.lines if line.text]
        labelled = [line for line in filled if line.label is not None]
        prose = len(filled) - len(labelled)
        parts = [f"{prose} line{'s' if prose != 1 else ''} of prose"]
        if labelled:
            parts.append(f'{len(labelled)} "Label: value" line{"s" if len(labelled) != 1 else ""}')
            known = [line for line in labelled if is_field(line.label)]
            if not known:
                parts[-1] += ' (none with a label cloudctl knows, such as "Provider:" or "Purpose:")'
        return (
            f"found {' and '.join(parts)}, and no line that looks like a service heading followed by labels"
        )

    def _start_implicit_section(self) -> None:
        if self.default_category is None:
            return
        self.section = RegisterSection(
            category=self.default_category, heading=CATEGORY_HEADINGS[self.default_category], implicit=True
        )
        self.doc.sections.append(self.section)

    def _read(self, index: int) -> None:
        line = self.lines[index]
        if not line.text:
            if self._continues_after_blank(index):
                self.blank_lines += 1
                return
            self._end_paragraph()
            self.last_field, self.gathering = None, False
        elif self._continues_value(line):
            self._continue_field(line)
        elif line.label and self.entry and self.last_field and self.gathering and not is_known(line.label):
            self._gather(line)
        elif self._value_below_label(index):
            self._wrap_value(line)
        elif self._starts_entry(index):
            self._start_entry(line)
        elif category := self._heading_category(index):
            self._start_section(line, category)
        elif line.label and (self.entry or is_field(line.label)):
            self._add_field(line)
        elif self.entry and self.last_field:
            # A line straight after a field, with no blank line between, is the field's value wrapped
            # onto a second line: keep the words with the entry.
            self._wrap_value(line)
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
        if following >= len(self.lines):
            return False
        return self._continues_value(self.lines[following]) or self._value_below_label(following)

    def _value_below_label(self, index: int) -> bool:
        """A label alone on its line ("Purpose of data:") with its value on the line below (after a blank
        line or not). The line is the value unless it reads as the next service: a name whose labels repeat
        one this entry already has, or a line that the labels do not follow at all (a grouping heading)."""
        line = self.lines[index]
        if not (self.entry and self.last_field and self.entry.fields[self.last_field] == ""):
            return False
        if line.label is not None or self._heading_category(index):
            return False
        if self._starts_entry(index):
            following = self._next_filled(index)
            while following < len(self.lines) and self.lines[following].label:
                if self.lines[following].label in self.entry.fields:
                    return False
                following = self._next_filled(following)
            return True
        return _looks_like_value_below(self.lines, index)

    def _wrap_value(self, line: _Line) -> None:
        value = self.entry.fields[self.last_field]
        self.entry.fields[self.last_field] = f"{value} {line.text}".strip()
        self.entry.last_line = line.number
        self.blank_lines = 0
        self.gathering = False

    def _gather(self, line: _Line) -> None:
        """A line such as "Student: name, email" under a label written alone: part of that field's value."""
        value = self.entry.fields[self.last_field]
        self.entry.fields[self.last_field] = f"{value}\n{line.text}" if value else line.text
        self.entry.last_line = line.number

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
            if is_field(self.lines[following].label):
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
        self.ended = ([], 0)
        heading = re.sub(r"[\s:]+\Z", "", line.text)  # every trailing colon, so a second reading agrees
        self.section = RegisterSection(category=category, heading=heading, line=line.number)
        self.doc.sections.append(self.section)

    def _start_entry(self, line: _Line) -> None:
        self._note_grouping(line)
        self._end_paragraph()
        self._end_entry()
        if self.section is None:
            raise InvalidInput(
                f"line {line.number}: the service {_quote(line.text)} comes before the first section "
                f"heading. Move it under one of the headings: {_headings_hint()}, or say which section "
                "the services outside a heading belong to with --category pupil|management|other|statutory."
            )
        self.entry = RegisterEntry(name=line.text, fields={}, line=line.number, last_line=line.number)

    def _add_field(self, line: _Line) -> None:
        self._end_paragraph()
        self.ended = ([], 0)
        if self.entry is None:
            raise InvalidInput(
                f"line {line.number}: {_quote(line.text)} comes before any service name. Each entry starts "
                "with the service's name on a line of its own."
            )
        if (
            line.label in self.entry.fields
            and self.entry.written_labels.get(line.label) != line.written_label
        ):
            # The same field under a second name ("Purpose" and "Reason"): kept as written, not merged.
            line = replace(line, label=extra_key(line.written_label))
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
        self.entry.written_labels[line.label] = line.written_label
        self.entry.last_line = line.number
        self.last_field, self.field_indent, self.blank_lines = line.label, line.indent, 0
        self.gathering = value == ""

    def _end_entry(self) -> None:
        # An entry without a provider is read: some registers name only the product. Whether that is the
        # register's layout or an entry cut short is for the completeness check, which compares entries.
        entry, self.entry, self.last_field, self.gathering = self.entry, None, None, False
        if entry is None:
            return
        self.section.entries.append(entry)

    def _note_grouping(self, line: _Line) -> None:
        """A paragraph of one short line just above a service groups the services under it; it is kept as
        text of the section, and said, so that nobody wonders where "Medium Risk" went."""
        paragraph, start = (self.paragraph, self.paragraph_line) if self.paragraph else self.ended
        self.ended = ([], 0)
        if len(paragraph) != 1 or self.section is None:
            return
        text = paragraph[0]
        if len(text.split()) > _MAX_GROUP_WORDS or text.endswith((".", "?", "!")):
            return
        self.doc.notes.append(
            f"line {start}: {_quote(text)} is read as a heading that groups the services "
            f"under it, not as a service or a section cloudctl knows: it is kept as text of "
            f"{_quote(self.section.heading)}, and the services under it are filed in that section."
        )

    def _end_paragraph(self) -> None:
        if self.paragraph:
            self.ended = (self.paragraph, self.paragraph_line)
            # A paragraph wrapped over several lines is one paragraph.
            if self.section:
                self.section.intro.append(" ".join(self.paragraph))
                self.section.intro_lines.append(self.paragraph_line)
            else:
                self.doc.preamble.append(" ".join(self.paragraph))
                self.doc.preamble_lines.append(self.paragraph_line)
            self.paragraph = []


def _looks_like_value_below(lines: list[_Line], index: int) -> bool:
    """Whether the line at index reads as the value of a label above it, not as a new paragraph: it is
    followed by a label, a blank line and a label, or the end (so it is not a service's name either)."""
    following = index + 1
    while following < len(lines) and not lines[following].text:
        following += 1
    return following >= len(lines) or lines[following].label is not None


def _heading_category(line: _Line) -> str | None:
    # "Other Online Services:" is allowed; "Legal basis: Public task" is a field, not a heading.
    if line.label is not None and (line.value or is_field(line.label)):
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


# The shapes `register import` reads, for the message that says none was found.
ACCEPTED_SHAPES = (
    "a document with a heading (the service's name) on a line of its own for each service, followed by "
    '"Label: value" lines such as "Provider: ...", "Purpose: ...", "Data shared: ..." (with or without '
    'section headings such as "Services for Pupils or Parents"); a text table with a heading row, its cells '
    "separated by | or tabs; or a spreadsheet (.csv or .xlsx) with a heading row (Service, Provider, "
    "Purpose, Data shared, ...) and one row per service"
)


def nothing_read(found: str) -> str:
    """The message for a file in which nothing could be read as a service."""
    return (
        f"Nothing in the file could be read as a service, so nothing was imported: cloudctl {found}. "
        f"It reads {ACCEPTED_SHAPES}."
    )
