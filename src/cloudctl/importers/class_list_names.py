"""A class list's single "Surname Forename" column, split into surname and forenames only when that is sure.

"Smith John" is surname Smith, forename John. With more words the split is a guess ("Ní Bhriain Aoife
Máire": is the surname "Ní" or "Ní Bhriain"?), and a wrong guess puts a wrong name on every letter home,
so it is refused unless a comma marks where the surname ends ("Ní Bhriain, Aoife Máire").
"""

from __future__ import annotations

import unicodedata

# What the refusal asks for instead: the columns every MIS can export.
SEPARATE_COLUMNS = '"Legal Surname" and "Legal Forename" (or "Surname" and "Forename")'


def tidy(text: str) -> str:
    """One Unicode spelling (NFC, as the text gate stores text), runs of white space as one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def split_surname_forename(text: str) -> tuple[str, str] | str:
    """(surname, forenames), or a message saying why the name cannot be split safely."""
    text = tidy(text)
    if "," in text:
        surname, _, forename = text.partition(",")
        surname, forename = surname.strip(), forename.strip()
        if surname and forename and "," not in forename:
            return surname, forename
        return 'needs the surname, a comma, then the forenames, e.g. "Van Der Berg, Anna".'
    words = text.split(" ")
    if len(words) == 2 and all(words):
        return words[0], words[1]
    if len(words) < 2:
        return 'needs the surname then the forename, e.g. "Smith John" or "Van Der Berg, Anna".'
    return (
        f"has {len(words)} words, so where the surname ends cannot be told (a surname or a forename may have "
        f"several words). Export {SEPARATE_COLUMNS} as two columns instead, or put a comma after the "
        'surname, e.g. "Van Der Berg, Anna Marie".'
    )
