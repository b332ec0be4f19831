"""Unique Pupil Numbers (UPNs): checking the DfE check letter, and making valid ones for tests.

Layout: check letter, LA number (3 digits), establishment (4), year allocated (2), serial (3).
A temporary UPN ends in a letter instead of the last serial digit. We do not check the LA number
against a list: new councils get new numbers. Error messages show only the UPN itself, never
other pupil data, because they may be shown to anyone at the school office.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudctl.errors import InvalidInput

# A-Z without I, O and S, which are never used in a UPN (they look like 1, 0 and 5).
ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
_DIGITS = "0123456789"  # not str.isdigit(), which also accepts superscripts and other scripts
_LONGEST_SHOWN = 20  # longer input is probably not a UPN (a pasted row?), so it is not echoed


@dataclass(frozen=True)
class Upn:
    value: str
    temporary: bool


def check_letter(body12: str) -> str:
    """The check letter for characters 2-13: weights 2..13, a final letter counts as its index in ALPHABET."""
    if len(body12) != 12:
        raise InvalidInput(f"A UPN check letter needs the 12 characters after it (got {len(body12)}).")
    total = 0
    for weight, char in enumerate(body12.upper(), start=2):
        if char in _DIGITS:
            total += weight * int(char)
        elif char in ALPHABET and weight == 13:
            total += weight * ALPHABET.index(char)
        else:
            raise InvalidInput(f'"{char}" cannot appear at position {weight} of a UPN.')
    return ALPHABET[total % 23]


def check_upn(text: str) -> Upn:
    """Trim, upper-case and validate a UPN; the message says exactly what is wrong with it."""
    value = text.strip().upper()
    shown = f'UPN "{value}"' if len(value) <= _LONGEST_SHOWN else "The UPN"
    if len(value) != 13:
        raise InvalidInput(f"{shown} must be 13 characters (it has {len(value)}).")
    if value[0] not in ALPHABET:
        raise InvalidInput(f"{shown} must start with a check letter (A-Z, but never I, O or S).")
    if any(char not in _DIGITS for char in value[1:12]):
        raise InvalidInput(f"{shown} must have digits in characters 2 to 12.")
    temporary = value[12] not in _DIGITS
    if temporary and value[12] not in ALPHABET:
        raise InvalidInput(
            f"{shown} must end in a digit, or in a letter other than I, O or S for a temporary UPN."
        )
    expected = check_letter(value[1:])
    if value[0] != expected:
        raise InvalidInput(
            f"{shown} has the wrong check letter: expected {expected}. Check the UPN against the MIS."
        )
    return Upn(value, temporary)


def make_upn(la: int, establishment: int, year: int, serial: int, temporary: bool = False) -> str:
    """A valid UPN built from its parts, for tests and benchmarks.

    For a temporary UPN the serial counts 0..2299: its last place is a letter, so serial 23 ends "01A".
    """
    limit = 100 * len(ALPHABET) if temporary else 1000
    for name, number, top in (("LA", la, 1000), ("establishment", establishment, 10000), ("year", year, 100)):
        if not 0 <= number < top:
            raise InvalidInput(f"A UPN {name} number must be from 0 to {top - 1} (got {number}).")
    if not 0 <= serial < limit:
        raise InvalidInput(f"A UPN serial must be from 0 to {limit - 1} (got {serial}).")
    if temporary:
        tail = f"{serial // len(ALPHABET):02d}{ALPHABET[serial % len(ALPHABET)]}"
    else:
        tail = f"{serial:03d}"
    body = f"{la:03d}{establishment:04d}{year:02d}{tail}"
    return check_letter(body) + body
