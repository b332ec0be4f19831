"""The parent's last word (the policy's order of a day's decisions): properties of `consent_policy.decide`.

- Decisions with a time of day (online form submissions), recorded in ANY order (files imported out of
  turn): the decision that stands is the latest by time.
- Decisions without a time (paper forms, phone calls), recorded day by day in any order within a day: an
  opt-out on the latest day stands, since which came later that day is unknown (the safe side).
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cloudctl.domain import consent_policy as policy

TOLD = frozenset({"full name", "class"})
RULE = policy.ServiceRule.build(1, "My Maths", "pupil", "approved", "years", "3", '["full name", "class"]')
PUPIL = policy.PupilFacts("H801200001001", True, "3", date(2018, 1, 1))
FIRST_DAY = date(2026, 9, 1)
GIVERS = ("Jane Smith", "JANE  smith", "Tom Smith")


def _record(requests: list[policy.Request]) -> list[policy.PairEvent]:
    """Apply each request as `apply_decision` does: decide on the history so far, keep what it writes."""
    events: list[policy.PairEvent] = []
    for request in requests:
        verdict = policy.decide(RULE, PUPIL, events, request)
        assert verdict.kind != policy.REFUSE, verdict.message
        if verdict.writes:
            events.append(
                policy.PairEvent(len(events) + 1, request.decision, request.effective_on.isoformat(),
                                 request.given_by, verdict.bulk, verdict.selects, request.told, request.at)
            )  # fmt: skip
    return events


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02}:{seconds // 60 % 60:02}:{seconds % 60:02}"


TIMED = st.lists(
    st.tuples(
        st.integers(0, 2),  # day
        st.integers(0, 86_399),  # second of the day
        st.sampled_from((policy.OPT_IN, policy.OPT_OUT)),
        st.sampled_from(GIVERS),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda event: (event[0], event[1]),
)


@settings(max_examples=300, deadline=None)
@given(events=TIMED, data=st.data())
def test_timed_decisions_the_latest_by_time_stands_in_whatever_order_they_are_recorded(events, data):
    order = data.draw(st.permutations(events))
    requests = [
        policy.Request(decision, FIRST_DAY + timedelta(days=day), giver, policy.SINGLE, TOLD, _clock(second))
        for day, second, decision, giver in order
    ]
    standing = policy.standing_of(_record(requests))
    last = max(events, key=lambda event: (event[0], event[1]))
    assert standing is not None and standing.decision == last[2]


UNTIMED = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from((policy.OPT_IN, policy.OPT_OUT)), st.sampled_from(GIVERS)),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(events=UNTIMED, data=st.data())
def test_untimed_decisions_an_opt_out_on_the_latest_day_stands(events, data):
    # Day by day, in any order within a day (their order that day is what is unknown).
    order = data.draw(st.permutations(events))
    order = sorted(order, key=lambda event: event[0])
    requests = [
        policy.Request(decision, FIRST_DAY + timedelta(days=day), giver, policy.SINGLE, TOLD)
        for day, decision, giver in order
    ]
    standing = policy.standing_of(_record(requests))
    latest_day = max(day for day, _, _ in events)
    on_latest = {decision for day, decision, _ in events if day == latest_day}
    expected = policy.OPT_OUT if policy.OPT_OUT in on_latest else policy.OPT_IN
    assert standing is not None and standing.decision == expected


def test_an_untimed_opt_out_outlasts_a_timed_opt_in_of_its_day_and_a_timed_one_of_the_same_second_too():
    day = FIRST_DAY.isoformat()
    timed_in = policy.PairEvent(1, policy.OPT_IN, day, "Jane Smith", False, False, TOLD, "23:59:59")
    untimed_out = policy.PairEvent(2, policy.OPT_OUT, day, "Jane Smith", False, False, TOLD)
    assert policy.fold([untimed_out, timed_in]).standing.decision == policy.OPT_OUT
    untimed_in = policy.PairEvent(3, policy.OPT_IN, day, "Jane Smith", False, False, TOLD)
    timed_out = policy.PairEvent(4, policy.OPT_OUT, day, "Jane Smith", False, False, TOLD, "00:00:01")
    assert policy.fold([timed_out, untimed_in]).standing.decision == policy.OPT_OUT
    same_second_out = policy.PairEvent(5, policy.OPT_OUT, day, "Tom", False, False, TOLD, "10:00:00")
    same_second_in = policy.PairEvent(6, policy.OPT_IN, day, "Jane", False, False, TOLD, "10:00:00")
    assert policy.fold([same_second_out, same_second_in]).standing.decision == policy.OPT_OUT
