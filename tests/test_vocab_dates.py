"""Dates as schools write them: accepted forms, and every kind of refusal."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudctl.errors import InvalidInput
from cloudctl.vocab.dates import format_date, parse_date

FIXTURE = Path(__file__).parent / "data" / "hunwick-cloud-service-providers.txt"
D = datetime.date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01", D(2026, 11, 1)),
        ("2026-1-5", D(2026, 1, 5)),
        ("01/11/2026", D(2026, 11, 1)),  # day first: 1 November, not 11 January
        ("1/11/26", D(2026, 11, 1)),
        ("03-04-16", D(2016, 4, 3)),
        ("03/04/2016", D(2016, 4, 3)),
        ("03.04.2016", D(2016, 4, 3)),
        ("29/02/2024", D(2024, 2, 29)),  # a leap day
        ("3 April 2016", D(2016, 4, 3)),
        ("3 Apr 2016", D(2016, 4, 3)),
        ("3rd April 2016", D(2016, 4, 3)),
        ("3 Sept 2019", D(2019, 9, 3)),
        ("November 2026", D(2026, 11, 1)),  # a month alone means the first day
        ("Nov 2026", D(2026, 11, 1)),
        ("nOVEMBER 2026", D(2026, 11, 1)),
        ("  March   2018 ", D(2018, 3, 1)),
        ("\t2026-11-01\n", D(2026, 11, 1)),
        ("1/1/00", D(2000, 1, 1)),  # two-digit years: 00-69 are 2000s
        ("1/1/69", D(2069, 1, 1)),
        ("1/1/70", D(1970, 1, 1)),  # ... 70-99 are 1900s
        ("31/12/99", D(1999, 12, 31)),
    ],
)
def test_parse_date_accepts(text: str, expected: datetime.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "31/02/2026",  # no 31 February
        "29/02/2025",  # not a leap year
        "2026-13-01",  # no month 13
        "2026-02-30",
        "00/01/2026",
        "32 January 2026",
        "2026",  # a year alone must not become today's day and month
        "hello 5",
        "5",
        "November",
        "Smarch 2026",
        "3 Smarch 2016",
        "",
        "   ",
        "01/11-2026",  # mixed separators
        "2026/11/01",  # year first is only ISO with dashes
        "11/2026",
        "2026-11-01T10:00",
        "1/11/026",
        "01/11/20261",
        "\u0661/11/2026",  # Arabic-Indic digit one
        "0000-01-01",  # no year 0
        "tomorrow",
    ],
)
def test_parse_date_refuses(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_date(text)
    message = str(caught.value)
    assert f'"{text.strip()}" is not a valid date' in message
    assert "2026-11-01" in message and "01/11/2026 (day first)" in message and "November 2026" in message


def test_parse_date_names_what_was_wanted() -> None:
    with pytest.raises(InvalidInput, match=r'^"31/02/2026" is not a valid risk assessment date: use a date'):
        parse_date("31/02/2026", what="risk assessment date")


def test_every_risk_assessment_date_in_the_register_parses() -> None:
    found = re.findall(r"^Risk assessment date: (.*)$", FIXTURE.read_text(encoding="utf-8"), re.M)
    dated = [text for text in found if not text.startswith("Awaiting")]
    assert len(found) == 19 and len(dated) == 18
    assert {parse_date(text) for text in dated} == {
        D(2016, 12, 1),
        D(2018, 3, 1),
        D(2018, 4, 1),
        D(2018, 5, 1),
        D(2019, 9, 1),
    }
    with pytest.raises(InvalidInput):
        parse_date("Awaiting Assessment (Not currently approved for use)")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(D(2026, 11, 1), "2026-11-01"), (D(1999, 1, 9), "1999-01-09"), (None, None)],
)
def test_format_date(value: datetime.date | None, expected: str | None) -> None:
    assert format_date(value) == expected


def test_format_then_parse_round_trips() -> None:
    day = D(2016, 4, 3)
    assert parse_date(format_date(day) or "") == day


@given(
    day=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2200, 12, 31)),
    months=st.integers(min_value=-1200, max_value=1200),
)
def test_add_months_is_relativedeltas_calendar_months(day, months):
    from dateutil.relativedelta import relativedelta

    from cloudctl.vocab.dates import add_months

    assert add_months(day, months) == day + relativedelta(months=months)


def test_a_moment_later_today_than_now_is_refused_with_the_time_and_how_to_mend_it():
    import datetime as dt

    from cloudctl.errors import InvalidInput
    from cloudctl.vocab.dates import check_event_moment

    now = dt.datetime(2026, 9, 12, 14, 5, 0)
    day = dt.date(2026, 9, 12)
    assert check_event_moment(day, dt.time(14, 5, 0), "submission time", now) == now
    assert check_event_moment(dt.date(2026, 9, 11), dt.time(23, 0), "submission time", now)
    with pytest.raises(InvalidInput) as refused:
        check_event_moment(day, dt.time(16, 40, 0), "submission time", now)
    message = refused.value.message
    assert "2026-09-12 16:40:00 is later than now (14:05:00" in message
    assert "computer's date, time and time zone" in message and "correct the time in the file" in message
    with pytest.raises(InvalidInput, match="in the future"):
        check_event_moment(dt.date(2026, 9, 13), dt.time(0, 0), "submission time", now)
