"""Reply codes: the short code printed on each pupil's consent form, which identifies the pupil and the
form when the answer comes back (typed from paper, or entered in an online form).

A code is 7 random characters and a check character, printed in two groups of four ("K7QM-4XPB").
The alphabet leaves out what is misread or misheard: 0 and O, 1, I and L, U (read as V) and S
(read as 5). That leaves 29 characters, a prime, so a weighted check sum modulo 29 catches every
single wrong character and every swap of two neighbouring characters (the two mistakes people make
copying a code). The characters come from `secrets`, so a code says nothing about the pupil's UPN or
name and cannot be guessed from them: 29**7 (17 billion) codes, against a few thousand a school issues.
"""

from __future__ import annotations

import re
import secrets

from cloudctl.errors import InvalidInput

# 2-9 and A-Z without I, L, O, S, U: 29 characters (a prime, which the check sum needs).
ALPHABET = "23456789ABCDEFGHJKMNPQRTVWXYZ"
BODY_LENGTH = 7
LENGTH = BODY_LENGTH + 1
_MODULUS = len(ALPHABET)
_VALUE = {char: index for index, char in enumerate(ALPHABET)}
_LONGEST_SHOWN = 16


def check_character(body: str) -> str:
    """The check character for a code's body.

    Character i (from 1) of a code of n characters has weight n + 1 - i, so the check character has
    weight 1, and the weighted sum of the whole code is 0 modulo 29. Every weight is 1..28, not 0
    modulo 29: a wrong character changes the sum by weight x difference, never a multiple of 29; a
    swap of neighbours changes it by the difference of the two characters, never a multiple of 29.
    """
    total = 0
    length = len(body) + 1
    for position, char in enumerate(body, start=1):
        total += (length + 1 - position) * _VALUE[char]
    return ALPHABET[(-total) % _MODULUS]


def is_valid(code: str) -> bool:
    """Whether `code` (compact: no hyphen, upper case) has the right length, alphabet and check character."""
    if len(code) != LENGTH or any(char not in _VALUE for char in code):
        return False
    return check_character(code[:-1]) == code[-1]


def new_reply_code() -> str:
    """A fresh random code, compact (as stored)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + check_character(body)


def format_reply_code(code: str) -> str:
    """How a code is printed and read aloud: two groups of four."""
    return f"{code[:4]}-{code[4:]}"


def parse_reply_code(text: str) -> str:
    """A code as typed (any case, spaces or hyphens between groups) in its compact stored form.

    The message says what is wrong: the length, a character the codes never use, or a check
    character that does not match (one character mistyped, or two swapped).
    """
    # Phones and word processors turn a typed hyphen into a dash: every dash between groups is a hyphen.
    value = re.sub(r"[-\u2010-\u2015\u2212]", "", "".join(text.split())).upper()
    shown = f'Reply code "{value}"' if len(value) <= _LONGEST_SHOWN else "The reply code"
    if not value:
        raise InvalidInput('The reply code is empty: copy it from the form, after "Reply code:".')
    if len(value) != LENGTH:
        raise InvalidInput(
            f"{shown} must have {LENGTH} characters (it has {len(value)}): copy it from the form, "
            'after "Reply code:", e.g. K7QM-4XPB.'
        )
    strange = sorted({char for char in value if char not in _VALUE})
    if strange:
        listed = ", ".join(strange)
        raise InvalidInput(
            f"{shown} has characters reply codes never use ({listed}): codes use the digits 2-9 and "
            "the letters A-Z without I, L, O, S and U. Check the form again."
        )
    if not is_valid(value):
        raise InvalidInput(
            f"{shown} is not a code cloudctl printed: its last character does not match the others, "
            "so one character was misread or two were swapped. Check it against the form."
        )
    return value
