"""Which categories of data are a part of another: sharing the part instead of the whole is a narrowing.

A service that sent pupils' full names and now sends only their first names shares less, not more: its risk
assessment still covers it. Only the pairs in this table are parts; nothing else is assumed (an unrecognised
phrase is a part of nothing but itself):

| The part                                                      | is contained in             |
|---------------------------------------------------------------|-----------------------------|
| first name                                                    | full name                   |
| surname (written "surname", "last name", "family name" or     | full name                   |
| "legal surname"; not a category of its own, kept as written)  |                             |
| surname initial                                               | full name, surname          |
| telephone numbers                                             | contact details             |

Not in it, on purpose: email addresses and address are not parts of contact details (the vocabulary's
email addresses include pupils' own, and a home address is the pupil's data where contact details are the
parents': the record of processing tells them apart), a UPN is not a part of pupil identifiers (a national
identifier where the others are logins), and full name is not covered by first name and surname together
(it may carry middle names).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from cloudctl.vocab.data_categories import lookup, phrase_key

# Each part, by key, and the keys of the categories it is contained in.
CONTAINED_IN: dict[str, frozenset[str]] = {
    "first_name": frozenset({"full_name"}),
    "surname": frozenset({"full_name"}),
    "surname_initial": frozenset({"full_name", "surname"}),
    "telephone_numbers": frozenset({"contact_details"}),
}
_SURNAME = frozenset(phrase_key(text) for text in ("surname", "last name", "family name", "legal surname"))


# Remembered: reports describe the same few phrases for every service that changed.
@lru_cache(maxsize=4096)
def key_of(name: str) -> str:
    """A category's key ("full_name" for "Child's name"), "surname" for a surname, else the phrase itself."""
    category = lookup(name)
    if category is not None:
        return category.key
    key = phrase_key(name)
    return "surname" if key in _SURNAME else f"phrase:{key}"


def covered_by(name: str, shared: Iterable[str]) -> bool:
    """Whether `name` is already shared: itself, or a part of something shared (the table above)."""
    return _covered(key_of(name), {key_of(other) for other in shared})


def _covered(key: str, keys: set[str]) -> bool:
    return key in keys or bool(CONTAINED_IN.get(key, frozenset()) & keys)


def not_covered(after: Iterable[str], before: Iterable[str]) -> list[str]:
    """The categories of `after` that `before` does not cover: the new data, in `after`'s order."""
    keys = {key_of(other) for other in before}
    return [name for name in after if not _covered(key_of(name), keys)]


def same_data(before: Iterable[str], after: Iterable[str]) -> bool:
    """The same categories, however written ("Full name" and "pupil names" are one)."""
    return {key_of(name) for name in before} == {key_of(name) for name in after}
