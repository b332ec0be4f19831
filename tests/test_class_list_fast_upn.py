"""The class-list reader's quick UPN check agrees with `check_upn`: it passes only what `check_upn` passes,
as `check_upn` gives it, and passes every valid UPN (a row it let through unchecked would be a pupil with a
wrong UPN; one it sent back would only be slower)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from cloudctl.errors import InvalidInput
from cloudctl.importers.class_list import _fast_upn
from cloudctl.vocab.upn import ALPHABET, check_upn, make_upn

# Characters near the valid ones: digits, check letters, I/O/S, lower case, other scripts' digits.
NEAR = "0123456789" + ALPHABET + "IOSabcz ²٣߀"


def _checked(text: str) -> str | None:
    try:
        return check_upn(text).value
    except InvalidInput:
        return None


@given(st.text(alphabet=NEAR, min_size=11, max_size=15))
@example("H801200001001")
@example("H801200001002")  # the wrong check letter
@example("G80120000101A")
@example("G80120000101I")  # a temporary UPN may not end in I
@example("H8012000010٠1")  # an Arabic-Indic digit
def test_fast_check_passes_only_what_check_upn_passes(text: str) -> None:
    fast = _fast_upn(text)
    assert fast is None or fast == _checked(text.strip())


@given(
    st.integers(0, 999),
    st.integers(0, 9999),
    st.integers(0, 99),
    st.integers(0, 2299),
    st.booleans(),
    st.booleans(),
)
def test_fast_check_passes_every_valid_upn(
    la: int, school: int, year: int, serial: int, temporary: bool, lower: bool
) -> None:
    upn = make_upn(la, school, year, serial if temporary else serial % 1000, temporary=temporary)
    assert _fast_upn(upn.lower() if lower else upn) == upn
