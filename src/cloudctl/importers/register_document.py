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


@dataclass
class RegisterSection:
    category: str  # one of CATEGORY_HEADINGS' keys
    heading: str  # as written in the document
    intro: list[str] = field(default_factory=list)
    entries: list[RegisterEntry] = field(default_factory=list)


@dataclass
class RegisterDocument:
    school_name: str
    title: str
    preamble: list[str] = field(default_factory=list)
    sections: list[RegisterSection] = field(default_factory=list)


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


def _split_lines(text: str) -> list[_Line]:
    text = text.removeprefix("\ufeff")  # Word and Excel save UTF-8 with a BOM
    lines = []
    # Not str.splitlines(): it also splits on form feeds and other rare separators, which would make the
    # line numbers in messages disagree with the user's editor.
    for number, raw in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        stripped = raw.strip()
        match = _LABEL_LINE.fullmatch(stripped)
        if match and len(match["label"].split()) <= _MAX_LABEL_WORDS:
            lines.append(_Line(number, stripped, normalise_label(match["label"]), match["value"].strip()))
        else:
            lines.append(_Line(number, stripped, None, ""))
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
        self.last_field: str | None = None  # the field a wrapped line continues; cleared by a blank line

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
        school, title = (self.lines[index].text for index in filled[:2])
        self.doc = RegisterDocument(school_name=school, title=title)
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
            self._end_paragraph()
            self.last_field = None
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
        else:
            # Prose. After an entry it is a note on the section; it is kept with the intro so no text is lost.
            self._end_entry()
            self.paragraph.append(line.text)

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
        line = self.lines[index]
        # "Other Online Services:" is allowed; "Legal basis: Public task" is a field, not a heading.
        if line.label is not None and (line.value or line.label in FIELD_LABELS):
            return None
        words = re.findall(r"[a-z0-9]+", line.text.lower())
        if not words or not set(words) <= _HEADING_WORDS:
            return None
        return next((category for category, keys in _CATEGORY_WORDS if keys & set(words)), None)

    def _is_heading(self, index: int) -> bool:
        return self._heading_category(index) is not None and not self._starts_entry(index)

    def _start_section(self, line: _Line, category: str) -> None:
        self._end_paragraph()
        self._end_entry()
        self.section = RegisterSection(category=category, heading=line.text.rstrip(":").rstrip())
        self.doc.sections.append(self.section)

    def _start_entry(self, line: _Line) -> None:
        self._end_paragraph()
        self._end_entry()
        if self.section is None:
            raise InvalidInput(
                f"line {line.number}: the service {_quote(line.text)} comes before the first section "
                f"heading. Move it under one of the headings: {_headings_hint()}."
            )
        self.entry = RegisterEntry(name=line.text, fields={}, line=line.number)

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
        self.last_field = line.label

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
            target = self.section.intro if self.section else self.doc.preamble
            target.append(" ".join(self.paragraph))
            self.paragraph = []


def _looks_like_name(text: str) -> bool:
    words = text.split()
    if len(words) > _MAX_NAME_WORDS or len(text) > _MAX_NAME_CHARS:
        return False
    # A sentence ends with a full stop; a name rarely does, except short ones such as "Isuz Ltd.".
    return not (text.endswith((".", "?")) and len(words) > 3)
