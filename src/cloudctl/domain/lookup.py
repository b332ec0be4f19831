"""Finding records by name, with the closest names suggested when a name is misspelt.

Names are compared as a keyboard types them (`cloudctl.vocab.text.fold_for_search`, the one folding for
pupils, services and providers): case, accents, apostrophes and letters such as Ł, Ø, Æ and ß do not stop a
name being found, so "obrien learning" finds "O’Brien Learning".
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from cloudctl.vocab.text import fold_for_search


def suggestion(name: str, candidates: Iterable[str]) -> str:
    """' Did you mean X?' for the closest candidates, or '' when none is close."""
    names = sorted(set(candidates))
    folded: dict[str, str] = {}
    for candidate in names:
        folded.setdefault(fold_for_search(candidate), candidate)
    typed = fold_for_search(name)
    close = difflib.get_close_matches(typed, list(folded), n=3, cutoff=0.5)
    # Also offer names that contain what was typed ("google" for "Google G Suite for Education").
    compact = typed.replace(" ", "")
    close += [key for key in folded if compact and compact in key.replace(" ", "") and key not in close]
    if not close:
        return ""
    quoted = ", ".join(f"'{folded[key]}'" for key in close[:3])
    return f" Did you mean {quoted}?"


def normalise_name(name: str) -> str:
    """Names are compared as typed on a keyboard: without regard to case, accents, apostrophes, hyphens
    or repeated spaces ("Łukasz O’Brien" is "lukasz obrien")."""
    return fold_for_search(name)
