"""The one gate for free text at the boundary: every command and every importer passes text through it.

Text that reaches the database becomes history that can never be rewritten, so what could
hide or corrupt it is refused before anything is written: NUL and other control characters
(terminal escape sequences that `consent history` would replay), Unicode line separators and
bidirectional overrides (which can make a name display as something else), line breaks in
fields that are one line, and text too long for its field. The message names the field and
says how to mend it; it never echoes the text, which may hold pupils' data.
"""

from __future__ import annotations

import re
import unicodedata

from cloudctl.errors import InvalidInput

# Length limits per kind of field, in characters. Generous for real text, small enough that a
# pasted document or a runaway script cannot land in a person's name.
NAME_LIMIT = 200  # people, services, providers, classes
SHORT_LIMIT = 500  # one-line values: a method, a reference, a website, a year-groups text
LONG_LIMIT = 10_000  # multi-line prose: a purpose, the data shared, notes, controls

# Invisible characters that reorder or hide text when it is displayed ("Trojan Source").
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = frozenset("\n\r\u2028\u2029\x85\x0b\x0c")
# The joiners some scripts need inside words (Persian, Sinhala, Malayalam names): kept, but ignored
# when names are compared (`fold_name`).
_JOINERS = frozenset("\u200c\u200d")


def _is_refused(character: str, *, multiline: bool) -> bool:
    if character == "\t":
        return False  # folded to a space in one-line fields, kept in prose
    if character == "\n":
        return not multiline
    if character in _BIDI_CONTROLS:
        return True
    if character in _JOINERS:
        return False
    # Cf: invisible format characters (zero-width space, soft hyphen, byte-order mark, tag characters),
    # which make one name two without any visible difference; Cn: unassigned and non-characters;
    # Co: private-use characters, which show as nothing or as a different glyph on every computer.
    category = unicodedata.category(character)
    return category in ("Cc", "Cf", "Cn", "Co", "Zl", "Zp", "Cs")


def _describe(character: str) -> str:
    if character == "\x00":
        return "a NUL character (U+0000)"
    if character in _LINE_BREAKS:
        return f"a line break (U+{ord(character):04X})"
    if character == "\x1b":
        return "an escape character (U+001B, the start of a terminal control sequence)"
    if character in _BIDI_CONTROLS:
        return f"an invisible direction-changing character (U+{ord(character):04X})"
    category = unicodedata.category(character)
    if category == "Cs":
        return "bytes that are not valid UTF-8 text (check the terminal's or the file's encoding)"
    if category == "Cf":
        return f"an invisible character (U+{ord(character):04X})"
    if category in ("Cn", "Co"):
        return f"a character with no agreed meaning (U+{ord(character):04X})"
    return f"a control character (U+{ord(character):04X})"


def gate_text(
    value: str | None,
    field: str,
    *,
    limit: int = SHORT_LIMIT,
    multiline: bool = False,
    required: bool = False,
    hint: str = "",
) -> str | None:
    """The text, trimmed, or an InvalidInput naming the field and what is wrong with it.

    One-line fields have runs of white space (tabs included) folded to one space; multi-line
    fields keep their lines, with Windows and old Mac line ends made plain. Empty text is None,
    or refused when `required`. `hint` is added to a refusal, e.g. how to record an opt-out
    without the text.
    """
    text = value or ""
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    for position, character in enumerate(text, start=1):
        if _is_refused(character, multiline=multiline):
            where = "" if multiline else " (it must be one line)" if character in _LINE_BREAKS else ""
            raise InvalidInput(
                f"The {field} contains {_describe(character)} at character {position}{where}, which cloudctl "
                f"does not store: retype it as plain text.{_hint(hint)}"
            )
    # One spelling per text: "Zoë" typed with a combining diaeresis is stored as the single letter ë.
    text = unicodedata.normalize("NFC", text)
    if multiline:
        lines = [line.rstrip() for line in text.strip().split("\n")]
        text = "\n".join(lines)
    else:
        text = " ".join(text.split())
    if len(text) > limit:
        raise InvalidInput(
            f"The {field} is {len(text):,} characters long, and cloudctl keeps at most {limit:,} for it: "
            f"shorten it.{_hint(hint)}"
        )
    if not text:
        if required:
            raise InvalidInput(f"The {field} is empty: give it.{_hint(hint)}")
        return None
    return text


def gate_name(value: str | None, field: str, *, required: bool = True, hint: str = "") -> str | None:
    """A one-line name (a person, a service, a provider, a class)."""
    return gate_text(value, field, limit=NAME_LIMIT, required=required, hint=hint)


def gate_prose(value: str | None, field: str, *, required: bool = False, hint: str = "") -> str | None:
    """Multi-line free text (a purpose, the data shared, notes)."""
    return gate_text(value, field, limit=LONG_LIMIT, multiline=True, required=required, hint=hint)


def fold_name(name: str | None) -> str:
    """A name as people mean it, for comparing two names: one Unicode spelling (NFC), no case, no
    invisible joiners, runs of white space as one space. "MRS  patel " and "Mrs Patel" fold alike."""
    if not name:
        return ""
    text = unicodedata.normalize("NFC", name)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(text.casefold().split())


# What is left of an apostrophe once transliterated (straight, curly, modifier letter, backtick, acute):
# dropped, so "OBrien", "O'Brien" and "O’Brien" fold alike. Any other run of punctuation or spaces
# (a hyphen, a full stop) separates words.
_APOSTROPHES = str.maketrans("", "", "'`\u00b4")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold_for_search(text: str | None) -> str:
    """A name as a keyboard types it, for searching pupils, services and providers: transliterated to
    ASCII by anyascii (Łukasz -> lukasz, Ø -> o, Æ -> ae, ß -> ss, Zoë -> zoe), no case, apostrophes
    dropped, hyphens and other punctuation as spaces, one space between words.

    Not for deciding whether two records are the same person (that is `fold_name`): "Zoë" and "Zoe" are
    found by the same search, but they may be two pupils."""
    if not text:
        return ""
    if not text.isascii():
        from anyascii import anyascii

        text = anyascii(unicodedata.normalize("NFC", text))
    return " ".join(_NOT_WORD.sub(" ", text.casefold().translate(_APOSTROPHES)).split())


def search_matches(query: str, text: str | None) -> bool:
    """Whether every word of the query (as typed) is in the text, both folded by `fold_for_search` and
    spaces ignored in the text: "obrien" finds "O’Brien", "vanderberg" finds "Van Der Berg", "smith-jones"
    finds "Smith Jones"."""
    haystack = fold_for_search(text).replace(" ", "")
    return all(word in haystack for word in fold_for_search(query).split())


def _hint(hint: str) -> str:
    return f" {hint}" if hint else ""


def for_terminal(text: str) -> str:
    """Text safe to print to a terminal: any control character a row still holds (from before the gate,
    or a file written by another program) is shown as a visible escape, never sent raw."""
    if text.isprintable() or not any(_is_refused(ch, multiline=True) for ch in text):
        return text
    return "".join(
        f"\\u{ord(ch):04x}" if ch != "\n" and _is_refused(ch, multiline=True) else ch for ch in text
    )
