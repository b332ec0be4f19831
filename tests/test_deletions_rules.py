"""The pure rules of deletions: where a pupil's deletion stands, and retention periods read from text."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudctl.domain.deletion_facts import CONFIRMED, REQUESTED, DeletionFact, pair_state
from cloudctl.domain.retention import retention_ends, retention_period

# A history of one pupil and service: sends (files that sent the pupil data) and deletion events, in time.
STEP = st.sampled_from(["send", REQUESTED, CONFIRMED])


def _history(steps: list[str]) -> tuple[str | None, list[DeletionFact]]:
    last_sent, facts = None, []
    for index, step in enumerate(steps):
        at = f"2026-01-01 00:00:{index:02d}.000000"
        if step == "send":
            last_sent = at
        else:
            facts.append(DeletionFact(index, 1, 1, step, "2026-01-01", None, None, None, at, "P", "office"))
    return last_sent, facts


@given(st.lists(STEP, max_size=12))
def test_only_a_confirmation_after_the_last_send_ends_holding(steps):
    last_sent, facts = _history(steps)
    state = pair_state(last_sent, facts)
    after_send = steps[len(steps) - steps[::-1].index("send") :] if "send" in steps else []
    assert state.held == ("send" in steps and CONFIRMED not in after_send)
    # A request is open while held, when one was made after the last send.
    assert (state.open_request is not None) == (state.held and REQUESTED in after_send)
    # Every confirmation is listed, whatever came after it.
    assert len(state.confirmed) == steps.count(CONFIRMED)


@given(st.lists(STEP, max_size=12))
def test_a_management_service_holds_until_a_confirmation(steps):
    _, facts = _history([step for step in steps if step != "send"])
    state = pair_state(None, facts, always_held=True)
    assert state.held == (CONFIRMED not in steps)


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("6 years", (6, "year")),
        ("1 year after the pupil leaves", (1, "year")),
        ("18 Months", (18, "month")),
        ("two years after leaving", (2, "year")),
        ("30 days", (30, "day")),
        ("Kept for 25 years from date of birth", (25, "year")),
        ("as long as needed", None),
        ("", None),
        (None, None),
        ("see contract v2.1", None),
    ],
)
def test_retention_periods_read_from_the_register(text, period):
    assert retention_period(text) == period


def test_retention_ends_counts_months_and_years_on_the_calendar():
    assert retention_ends(date(2024, 2, 29), (1, "year")) == date(2025, 2, 28)
    assert retention_ends(date(2026, 1, 31), (1, "month")) == date(2026, 2, 28)
    assert retention_ends(date(2026, 1, 1), (2, "week")) == date(2026, 1, 15)
