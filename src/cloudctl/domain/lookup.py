"""Finding records by name, with the closest names suggested when a name is misspelt."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def suggestion(name: str, candidates: Iterable[str]) -> str:
    """' Did you mean X?' for the closest candidates, or '' when none is close."""
    names = sorted(set(candidates))
    lowered = {candidate.lower(): candidate for candidate in names}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.5)
    # Also offer names that contain what was typed ("google" for "Google G Suite for Education").
    close += [key for key in lowered if name.lower() in key and key not in close]
    if not close:
        return ""
    quoted = ", ".join(f"'{lowered[key]}'" for key in close[:3])
    return f" Did you mean {quoted}?"


def normalise_name(name: str) -> str:
    """Names are compared without regard to case or repeated spaces."""
    return " ".join(name.split()).casefold()
