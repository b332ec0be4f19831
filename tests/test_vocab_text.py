"""The text gate: what it lets into history, what it refuses, and that what it lets in is stable."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudctl.errors import InvalidInput
from cloudctl.vocab.text import (
    LONG_LIMIT,
    NAME_LIMIT,
    fold_name,
    for_terminal,
    gate_name,
    gate_prose,
    gate_text,
)

REFUSED_EVERYWHERE = [
    "\x00",  # NUL
    "\x1b",  # escape: the start of a terminal control sequence
    "\x07",
    "\x7f",
    "\x85",  # C1 next line
    "\u2028",  # line separator
    "\u2029",
    "\u202e",  # right-to-left override ("Trojan Source")
    "\u2066",
    "\u200b",  # zero-width space: one name that looks like another
    "\u00ad",  # soft hyphen
    "\ufeff",  # byte-order mark inside text
    "\U000e0041",  # tag character
    "\ufffe",  # non-character
    "\ue000",  # private use
    "\udc9b",  # a lone surrogate: bytes that were not UTF-8
]


@pytest.mark.parametrize("character", REFUSED_EVERYWHERE)
@pytest.mark.parametrize("gate", [gate_name, gate_prose])
def test_control_and_invisible_characters_are_refused_with_the_field_named(gate, character):
    with pytest.raises(InvalidInput) as refused:
        gate(f"Mrs{character} Patel", "given-by name")
    message = refused.value.message
    assert "given-by name" in message
    assert f"U+{ord(character):04X}" in message or "not valid UTF-8" in message
    assert character not in message  # the text is named, never echoed


def test_a_line_break_is_refused_in_a_one_line_field_and_kept_in_prose():
    with pytest.raises(InvalidInput, match="must be one line"):
        gate_name("Mrs Patel\nStorage location: elsewhere", "given-by name")
    assert gate_prose("first line\r\nsecond line\rthird", "note") == "first line\nsecond line\nthird"


def test_white_space_folds_in_one_line_fields():
    assert gate_name("  Mrs \t Patel  ", "name") == "Mrs Patel"


def test_the_joiners_some_scripts_need_are_kept():
    assert gate_name("می\u200cخواهم", "name") == "می\u200cخواهم"


def test_length_limits_are_stated():
    assert gate_name("a" * NAME_LIMIT, "name") == "a" * NAME_LIMIT
    with pytest.raises(InvalidInput, match=f"at most {NAME_LIMIT}"):
        gate_name("a" * (NAME_LIMIT + 1), "name")
    with pytest.raises(InvalidInput, match=f"at most {LONG_LIMIT:,}"):
        gate_prose("a" * (LONG_LIMIT + 1), "note")


def test_a_refusal_carries_the_hint():
    with pytest.raises(InvalidInput, match="record it again without --note"):
        gate_prose("\x1b[2J", "note", hint="record it again without --note")


def test_empty_text_is_none_or_refused_when_required():
    assert gate_text("   ", "note") is None
    assert gate_text(None, "note") is None
    with pytest.raises(InvalidInput, match="is empty"):
        gate_name("  ", "service name")


def test_text_is_stored_in_one_unicode_spelling():
    assert gate_name("Zoe\u0308", "forename") == "Zoë"


def test_names_fold_as_people_mean_them():
    assert fold_name(" MRS  patel ") == fold_name("Mrs Patel")
    assert fold_name("Zoe\u0308") == fold_name("Zoë")
    assert fold_name("Mum") != fold_name("Dad")
    assert fold_name(None) == fold_name("") == ""


def test_tables_never_replay_a_control_sequence():
    shown = for_terminal("x\x1b]0;PWNED\x07\x1b[2Jy\nz")
    assert "\x1b" not in shown and "\x07" not in shown
    assert "\\u001b" in shown
    assert shown.endswith("y\nz")


# --- properties --------------------------------------------------------------------------------------

texts = st.text(max_size=60)


@given(texts)
def test_whatever_the_gate_lets_in_passes_it_again_unchanged(value):
    for gate in (gate_name, gate_prose):
        try:
            kept = gate(value, "field", required=False)
        except InvalidInput:
            continue
        assert gate(kept, "field", required=False) == kept


@given(texts)
def test_nothing_the_gate_lets_in_can_drive_a_terminal(value):
    try:
        kept = gate_prose(value, "field")
    except InvalidInput:
        return
    if kept is None:
        return
    assert unicodedata.is_normalized("NFC", kept)
    for character in kept:
        category = unicodedata.category(character)
        assert character in "\n\t" or category not in ("Cc", "Cs", "Cn", "Co", "Zl", "Zp")
        assert category != "Cf" or character in "\u200c\u200d"


@given(texts)
def test_a_one_line_field_is_one_line(value):
    try:
        kept = gate_name(value, "field", required=False)
    except InvalidInput:
        return
    assert kept is None or ("\n" not in kept and kept == kept.strip())


@given(st.text(max_size=80))
def test_for_terminal_output_holds_no_control_character_but_line_breaks(value):
    shown = for_terminal(value)
    assert all(ch == "\n" or unicodedata.category(ch) != "Cc" or ch == "\t" for ch in shown)
