"""Dates as schools write them.

Registers and MIS exports mix ISO dates, UK day-first dates and bare months ("March 2018").
We parse each accepted shape with an explicit pattern rather than a guessing parser, so a
partial value ("2026", "hello 5") is refused instead of being completed from today's date.
US month-first dates are never tried: 03/04/2016 is 3 April, as in every English school.
"""

from __future__ import annotations

import datetime
import re

from cloudctl.errors import InvalidInput

MONTHS: dict[str, int] = {}
for _number, _name in enumerate(
    (
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ),
    start=1,
):
    MONTHS[_name] = _number
    MONTHS[_name[:3]] = _number
MONTHS["sept"] = 9  # "Sept 2019" is common in school paperwork

# re.ASCII so that only 0-9 count as digits (int() would accept other scripts' digits too).
_FLAGS = re.IGNORECASE | re.ASCII
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", _FLAGS)
# Same separator both times (the backreference), so "01/11-2026" is refused as a typo.
_DAY_FIRST = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})", _FLAGS)
_DAY_MONTH_NAME = re.compile(r"(\d{1,2})(?:st|nd|rd|th)? ([a-z]+)\.?,? (\d{4}|\d{2})", _FLAGS)
_MONTH_NAME = re.compile(r"([a-z]+)\.?,? (\d{4}|\d{2})", _FLAGS)


def _year(digits: str) -> int:
    """Expand a two-digit year: 00-69 are this century, 70-99 the last (a pupil born in '98)."""
    if len(digits) == 4:
        return int(digits)
    short = int(digits)
    return 2000 + short if short < 70 else 1900 + short


def _invalid(text: str, what: str) -> InvalidInput:
    return InvalidInput(
        f'"{text}" is not a valid {what}: '
        "use a date such as 2026-11-01, 01/11/2026 (day first) or November 2026."
    )


def parse_date(text: str, *, what: str = "date") -> datetime.date:
    """Read a date written in any of the forms schools use; refuse anything else with a plain message."""
    shown = text.strip() if isinstance(text, str) else str(text)
    cleaned = " ".join(shown.split())
    try:
        if match := _ISO.fullmatch(cleaned):
            year, month, day = (int(part) for part in match.groups())
        elif match := _DAY_FIRST.fullmatch(cleaned):
            day, month, year = int(match[1]), int(match[3]), _year(match[4])
        elif (match := _DAY_MONTH_NAME.fullmatch(cleaned)) and match[2].lower() in MONTHS:
            day, month, year = int(match[1]), MONTHS[match[2].lower()], _year(match[3])
        elif (match := _MONTH_NAME.fullmatch(cleaned)) and match[1].lower() in MONTHS:
            # A month alone means the first day of that month (risk assessment dates such as "March 2018").
            day, month, year = 1, MONTHS[match[1].lower()], _year(match[2])
        else:
            raise _invalid(shown, what)
        return datetime.date(year, month, day)
    except ValueError:
        # datetime.date refuses impossible days and months (31/02, month 13, year 0).
        raise _invalid(shown, what) from None


def format_date(d: datetime.date | None) -> str | None:
    """ISO form for storage and output; None stays None (an unknown date is not today)."""
    return d.isoformat() if d is not None else None


# --- the bounds of the dates cloudctl records ------------------------------------------------------
# History is kept for ever, so a typo such as 0001-01-01 or 01/11/0026 must be refused, not stored.

EARLIEST_EVENT = datetime.date(2000, 1, 1)
MOST_YEARS_AHEAD = 10
# Reports look this far either side of today at most (`--as-of`, `--within`).
MOST_DAYS_WITHIN = 3660


def years_after(day: datetime.date, years: int) -> datetime.date:
    from dateutil.relativedelta import relativedelta

    return day + relativedelta(years=years)


def check_event_date(day: datetime.date, what: str, today: datetime.date) -> datetime.date:
    """A date something happened (consent given, an assessment made): from 2000 to today."""
    if day < EARLIEST_EVENT:
        raise InvalidInput(
            f"The {what} {day.isoformat()} is before {EARLIEST_EVENT.year}: check the year (a two-digit "
            "year such as 26 means 2026; write the year in full)."
        )
    if day > today:
        raise InvalidInput(
            f"The {what} {day.isoformat()} is in the future: record it once it has happened, with the "
            "date it happened."
        )
    return day


def check_event_moment(
    day: datetime.date, time_of_day: datetime.time, what: str, now: datetime.datetime
) -> datetime.datetime:
    """A moment something happened (a form submitted at 10:31:22): from 2000 up to now, the computer's
    clock. A time later today is refused as a date after today is (`check_event_date`)."""
    check_event_date(day, what, now.date())
    moment = datetime.datetime.combine(day, time_of_day)
    if moment > now.replace(tzinfo=None):
        raise InvalidInput(
            f"The {what} {day.isoformat()} {time_of_day.isoformat(timespec='seconds')} is later than now "
            f"({now.strftime('%H:%M:%S')} by this computer's clock): check the computer's date, time and "
            "time zone, or correct the time in the file, then import it again."
        )
    return moment


def check_future_date(day: datetime.date, what: str, today: datetime.date) -> datetime.date:
    """A date planned ahead (a next review): no earlier than 2000 and at most ten years from today."""
    latest = years_after(today, MOST_YEARS_AHEAD)
    if day < EARLIEST_EVENT or day > latest:
        raise InvalidInput(
            f"The {what} {day.isoformat()} is out of range: give a date between {EARLIEST_EVENT.isoformat()} "
            f"and {latest.isoformat()} (at most {MOST_YEARS_AHEAD} years ahead)."
        )
    return day


def check_as_of(day: datetime.date, today: datetime.date) -> datetime.date:
    """The day a report is worked out for: from 2000 to ten years ahead."""
    return check_future_date(day, "as-of date", today)


def check_within(days: int) -> int:
    """How many days ahead a report looks: 0 to about ten years."""
    if not 0 <= days <= MOST_DAYS_WITHIN:
        raise InvalidInput(
            f"--within {days} is out of range: give a number of days from 0 to {MOST_DAYS_WITHIN} "
            "(ten years)."
        )
    return days


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Calendar months after (or before) `day`, a short month's end clamped (31 January + 1 month is
    28 or 29 February): what dateutil's relativedelta(months=N) gives, at a fraction of its cost, for
    reports that add months to every row."""
    month_index = day.month - 1 + months
    year, month, day_of_month = day.year + month_index // 12, month_index % 12 + 1, day.day
    if day_of_month > 28:  # every month has 28 days: only a later day may need clamping
        day_of_month = min(day_of_month, _days_in(year, month))
    return _date(year, month, day_of_month)


_date = datetime.date


def _days_in(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31
