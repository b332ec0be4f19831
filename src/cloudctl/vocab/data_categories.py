"""Categories of pupil data a service receives, read from a register's "Data Shared" text.

Registers are written by hand ("pupil names, DOB, Images"), so phrases are matched by alias,
ignoring case, punctuation and plurals. A phrase we do not recognise is kept exactly as written:
it is still something the school says it shares, and dropping it would under-report.

"X or Y" and "X and Y" are split only when both sides are recognised categories. So "photos or
names" becomes photographs and full name (either may be shared, so both must be recorded), while
"photos or notes synchronised using iCloud" stays one phrase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Category:
    key: str  # snake_case, stable for storage
    label: str  # the canonical name shown to people
    special: bool = False  # UK GDPR Art. 9 special category (health)
    sensitive: bool = False  # needs extra care: SEN, and every special category
    pupil_field: str | None = None  # the pupil column an export would take it from
    aliases: tuple[str, ...] = field(default=(), repr=False)


ALL_CATEGORIES: list[Category] = [
    Category(
        "full_name",
        "full name",
        pupil_field="full_name",
        aliases=(
            "name",
            "pupil name",
            "student name",
            "child name",
            "child's name",
            "children name",
            "full name of child",
            "pupil full name",
            "student full name",
            "forename and surname",
            "first name and surname",
        ),
    ),
    Category("first_name", "first name", pupil_field="forename", aliases=("forename", "given name")),
    Category(
        "surname_initial",
        "surname initial",
        pupil_field="surname_initial",
        aliases=("initial of surname", "last name initial", "initial of last name"),
    ),
    Category("upn", "UPN", pupil_field="upn", aliases=("unique pupil number",)),
    Category("date_of_birth", "date of birth", pupil_field="dob", aliases=("dob", "birth date", "birthdate")),
    Category("gender", "gender", pupil_field="gender", aliases=("sex",)),
    Category(
        "class",
        "class",
        pupil_field="class_name",
        aliases=("registration group", "reg group", "form", "form group", "tutor group", "class name"),
    ),
    Category("year_group", "year group", pupil_field="year_group", aliases=("year", "nc year")),
    Category(
        "photographs",
        "photographs",
        aliases=(
            "photo",
            "image",
            "picture",
            "photograph",
            "pupil photo",
            "student photo",
            "photos and video",
        ),
    ),
    Category("assessment_data", "assessment data", aliases=("assessment", "assessment result")),
    Category("attendance", "attendance", aliases=("attendance data", "attendance record")),
    Category(
        "medical",
        "medical",
        special=True,
        sensitive=True,
        aliases=(
            "medical information",
            "medical info",
            "medical data",
            "medical requirement",
            "medical need",
            "medical condition",
            "health",
            "health information",
            "medical and dietary needs",
            "medical and dietary information",
            "dietary need",
            "dietary requirement",
            "dietary information",
            "allergy",
            "allergies",
        ),
    ),
    Category(
        "sen",
        "SEN",
        sensitive=True,
        aliases=(
            "special educational needs",
            "send",
            "special educational needs and disabilities",
            "send information",
            "sen information",
            "send data",
            "sen data",
            "sen status",
            "special needs",
        ),
    ),
    Category(
        "contact_details",
        "contact details",
        aliases=(
            "contact information",
            "contact info",
            "contact details of parents",
            "parent contact details",
            "parents contact details",
            "parent/carer contact details",
            "contact details of parents and carers",
        ),
    ),
    Category("address", "address", aliases=("home address", "postal address")),
    Category(
        "telephone_numbers",
        "telephone numbers",
        aliases=("phone numbers", "telephone", "phone", "telephone number", "mobile number"),
    ),
    Category(
        "email_addresses",
        "email addresses",
        # Spaces and hyphens fall away in comparison, so "e mail" is "email"; the misspellings are real.
        aliases=(
            "email",
            "e-mail",
            "e-mail addresses",
            "email address",
            "emial",
            "emial address",
            "emails address",
            "email adress",
            "email adresses",
            "emai",
            "emall",
            "email addresse",
            "pupil email",
            "student email",
        ),
    ),
    Category(
        "parent_contact_names",
        "parent/contact names",
        aliases=("parent names", "contact names", "parent/carer names", "carer names"),
    ),
    Category(
        "pupil_work",
        "pupil work",
        aliases=("work", "content", "work/content", "pupil work", "student work", "schoolwork", "coursework"),
    ),
    Category(
        "location",
        "location data",
        aliases=("geolocation", "geo-location", "location", "gps location", "gps data"),
    ),
    Category("ip_addresses", "IP addresses", aliases=("ip address", "ip", "ip addresses")),
    Category(
        "bank_details",
        "bank details",
        aliases=("bank account details", "bank account", "payment details", "bank information"),
    ),
    Category(
        "pupil_identifiers",
        "pupil identifiers",
        aliases=(
            "student identifiers",
            "student identifier",
            "student id",
            "pupil id",
            "pupil identifier",
            "login",
            "username",
            "user name",
        ),
    ),
]


def _singular(word: str) -> str:
    """Crude but symmetric: applied to aliases and input alike, so "photos" meets "photo"."""
    if len(word) > 3 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 2 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _norm(text: str) -> str:
    """Comparison key: lower case, no apostrophes or dots (D.O.B), words singular, spaces and
    remaining punctuation dropped, so "parent/contact names" meets "Parent contact name"."""
    text = re.sub(r"['\u2019.\-]", "", text.lower())
    return "".join(_singular(word) for word in re.split(r"[^a-z0-9]+", text))


_BY_NAME: dict[str, Category] = {}
for _category in ALL_CATEGORIES:
    for _name in (_category.key, _category.label, *_category.aliases):
        _BY_NAME.setdefault(_norm(_name), _category)

# Written in place of a list when nothing at all is shared.
_NOTHING = {_norm(word) for word in ("none", "nothing", "nil", "n/a", "no data")}


def phrase_key(text: str) -> str:
    """How two phrases are compared: "Last names" and "last name" are the same phrase."""
    return _norm(text)


def lookup(name: str) -> Category | None:
    """The category a name, key or alias stands for, or None if it is not in the vocabulary."""
    return _BY_NAME.get(_norm(name)) if name else None


def is_special(name: str) -> bool:
    """True for Art. 9 special category data; unrecognised phrases count as not special."""
    category = lookup(name)
    return category is not None and category.special


def is_sensitive(name: str) -> bool:
    """True for data needing extra care (SEN, medical); unrecognised phrases count as not sensitive."""
    category = lookup(name)
    return category is not None and category.sensitive


def _bracket_depth(text: str) -> int:
    """How many "(" are still open at the end of text; a stray ")" is tolerated."""
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
    return depth


def _split_outside_brackets(text: str, separator: re.Pattern[str]) -> list[str]:
    """Split on separators that are not inside (...), so a bracketed note stays whole."""
    parts, start = [], 0
    for match in separator.finditer(text):
        if _bracket_depth(text[: match.start()]) == 0:
            parts.append(text[start : match.start()])
            start = match.end()
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


_LIST_SEP = re.compile(r"[,;&\n]")
# "Student: name" (a sub-line naming whose data it is): the part after the colon is the phrase.
_WHOSE = re.compile(r"^[^:]{1,40}:\s*(?P<rest>\S.*)$", re.DOTALL)
_JOIN_SEP = re.compile(r"\s+(?:and|or)\s+", re.IGNORECASE)


def _phrase_categories(phrase: str) -> list[str]:
    """One list item as category labels: itself, its and/or parts if all are known, or verbatim."""
    if category := lookup(phrase):
        return [category.label]
    if (whose := _WHOSE.match(phrase)) and (category := lookup(whose["rest"])):
        return [category.label]
    parts = _split_outside_brackets(phrase, _JOIN_SEP)
    found = [lookup(part) for part in parts]
    if len(parts) > 1 and all(found):
        return [category.label for category in found if category]
    return [phrase]


def wrapped_joint(before: str, after: str) -> str:
    """How a "Data Shared" cell that a text table wrapped onto another line joins its next line: with a
    space ("date of" / "birth"), unless the two phrases at the break are each a category and together are
    none ("full name" / "medical"): then they were two items, and ", " keeps them apart. A pasted table
    loses where the author pressed Enter, so the vocabulary is what tells a wrapped phrase from a list."""
    if not before.strip() or not after.strip() or before.rstrip()[-1] in ",;&" or _bracket_depth(before):
        return " "
    if after.lstrip()[0] in ",;&":
        return " "
    tail = _split_outside_brackets(before, _LIST_SEP)[-1]
    head = _split_outside_brackets(after, _LIST_SEP)[0]
    if lookup(f"{tail} {head}") is None and lookup(tail) and lookup(head):
        return ", "
    return " "


def parse_data_shared(text: str | None) -> list[str]:
    """The register's "Data Shared" text as category labels, in order, without duplicates."""
    if not text or _norm(text) in _NOTHING:
        return []
    result: list[str] = []
    seen: set[str] = set()
    for phrase in _split_outside_brackets(text, _LIST_SEP):
        for name in _phrase_categories(phrase):
            # "Statistical, statistical" is one category, so compare the normalised form.
            if _norm(name) not in seen:
                seen.add(_norm(name))
                result.append(name)
    return result


def unrecognised_phrases(text: str | None) -> list[str]:
    """The phrases of a "Data Shared" text that no category recognises (kept as written when imported)."""
    return [phrase for phrase in parse_data_shared(text) if lookup(phrase) is None]
