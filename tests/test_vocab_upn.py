"""UPN check letters: the DfE's documented examples, every refusal, and the test generator."""

from __future__ import annotations

import pytest

from cloudctl.errors import InvalidInput
from cloudctl.vocab.upn import ALPHABET, Upn, check_letter, check_upn, make_upn

BAD_END = "must end in a digit, or in a letter other than I, O or S for a temporary UPN."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("H801200001001", Upn("H801200001001", False)),
        ("G80120000101A", Upn("G80120000101A", True)),
        ("B801200005001", Upn("B801200005001", False)),
        ("  h801200001001 \n", Upn("H801200001001", False)),  # trimmed and upper-cased
        ("g80120000101a", Upn("G80120000101A", True)),
    ],
)
def test_check_upn_accepts(text: str, expected: Upn) -> None:
    assert check_upn(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Z801200001001",
            'UPN "Z801200001001" has the wrong check letter: expected H. Check the UPN against the MIS.',
        ),
        (
            "A801200005001",
            'UPN "A801200005001" has the wrong check letter: expected B. Check the UPN against the MIS.',
        ),
        (
            "H80120000101A",
            'UPN "H80120000101A" has the wrong check letter: expected G. Check the UPN against the MIS.',
        ),
        ("X12", 'UPN "X12" must be 13 characters (it has 3).'),
        ("", 'UPN "" must be 13 characters (it has 0).'),
        ("H8012000010011", 'UPN "H8012000010011" must be 13 characters (it has 14).'),
        ("H801 200001001", 'UPN "H801 200001001" must be 13 characters (it has 14).'),
        ("1801200001001", 'UPN "1801200001001" must start with a check letter (A-Z, but never I, O or S).'),
        ("I801200001001", 'UPN "I801200001001" must start with a check letter (A-Z, but never I, O or S).'),
        ("O801200001001", 'UPN "O801200001001" must start with a check letter (A-Z, but never I, O or S).'),
        ("S801200001001", 'UPN "S801200001001" must start with a check letter (A-Z, but never I, O or S).'),
        ("H8012000O1001", 'UPN "H8012000O1001" must have digits in characters 2 to 12.'),
        ("H80120000100-", f'UPN "H80120000100-" {BAD_END}'),
        ("HA01200001001", 'UPN "HA01200001001" must have digits in characters 2 to 12.'),
        (
            "H80120000\u0661001",
            'UPN "H80120000\u0661001" must have digits in characters 2 to 12.',
        ),  # Arabic-Indic 1
        ("H80120000100\u00b2", f'UPN "H80120000100\u00b2" {BAD_END}'),  # superscript two is not a digit
        ("G80120000101I", f'UPN "G80120000101I" {BAD_END}'),
        ("G80120000101O", f'UPN "G80120000101O" {BAD_END}'),
        ("G80120000101S", f'UPN "G80120000101S" {BAD_END}'),
    ],
)
def test_check_upn_refuses(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_upn(text)
    assert str(caught.value) == message


def test_long_input_is_not_echoed() -> None:
    # A pasted row may hold a name or a date of birth: the message must not repeat it.
    with pytest.raises(InvalidInput) as caught:
        check_upn("H801200001001,Smith,John,03/04/2016")
    assert str(caught.value) == "The UPN must be 13 characters (it has 35)."


@pytest.mark.parametrize(
    ("body", "letter"),
    [("801200001001", "H"), ("80120000101A", "G"), ("801200005001", "B"), ("80120000101a", "G")],
)
def test_check_letter(body: str, letter: str) -> None:
    assert check_letter(body) == letter


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("80120000100", r"needs the 12 characters after it \(got 11\)"),
        ("8012000010011", r"needs the 12 characters after it \(got 13\)"),
        ("8012000A1001", r'"A" cannot appear at position 9 of a UPN'),
        ("80120000100I", r'"I" cannot appear at position 13 of a UPN'),
    ],
)
def test_check_letter_refuses(body: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_letter(body)


def test_make_upn_reproduces_the_documented_examples() -> None:
    assert make_upn(801, 2000, 1, 1) == "H801200001001"
    assert make_upn(801, 2000, 5, 1) == "B801200005001"
    assert make_upn(801, 2000, 1, 23, temporary=True) == "G80120000101A"


def test_make_upn_pads_and_checks() -> None:
    assert make_upn(0, 0, 0, 0)[1:] == "000000000000"
    upns = [make_upn(938, 9999, 99, serial) for serial in range(1000)]
    assert len(set(upns)) == 1000
    assert all(check_upn(upn).temporary is False for upn in upns)


def test_make_upn_temporary_covers_every_letter_without_clashes() -> None:
    upns = [make_upn(201, 1234, 26, serial, temporary=True) for serial in range(100 * len(ALPHABET))]
    assert len(set(upns)) == 2300
    assert {upn[-1] for upn in upns} == set(ALPHABET)
    assert all(check_upn(upn).temporary for upn in upns)


@pytest.mark.parametrize(
    ("args", "temporary", "message"),
    [
        ((1000, 0, 0, 0), False, r"LA number must be from 0 to 999 \(got 1000\)"),
        ((-1, 0, 0, 0), False, r"LA number must be from 0 to 999 \(got -1\)"),
        ((0, 10000, 0, 0), False, r"establishment number must be from 0 to 9999"),
        ((0, 0, 100, 0), False, r"year number must be from 0 to 99"),
        ((0, 0, 0, 1000), False, r"serial must be from 0 to 999 \(got 1000\)"),
        ((0, 0, 0, -1), False, r"serial must be from 0 to 999"),
        ((0, 0, 0, 2300), True, r"serial must be from 0 to 2299 \(got 2300\)"),
    ],
)
def test_make_upn_refuses(args: tuple[int, int, int, int], temporary: bool, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        make_upn(*args, temporary=temporary)
