"""A service's retention period, read from the register's free text when it can be read as a period.

Registers write retention as "6 years", "1 year after the pupil leaves", "12 months", "30 days",
"two years". The first number (digits, or a word from one to twelve) followed by days, weeks, months
or years is the period; anything else ("until no longer needed", "see contract") is not a period, and
the service produces no retention deletions until the register says one.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "a": 1, "an": 1,
}  # fmt: skip
_PERIOD = re.compile(
    r"(?<![\w.])(\d{1,3}|" + "|".join(_WORDS) + r")\s*(day|week|month|year)s?\b", re.IGNORECASE | re.ASCII
)


def retention_period(text: str | None) -> tuple[int, str] | None:
    """(amount, unit) with unit day/week/month/year, or None when the text is not a period."""
    if not text:
        return None
    match = _PERIOD.search(text)
    if match is None:
        return None
    amount_text = match[1].lower()
    amount = int(amount_text) if amount_text.isdigit() else _WORDS[amount_text]
    return amount, match[2].lower()


def retention_ends(start: date, period: tuple[int, str]) -> date:
    """The day the retention period that began on `start` has passed."""
    from dateutil.relativedelta import relativedelta

    amount, unit = period
    if unit == "day":
        return start + timedelta(days=amount)
    if unit == "week":
        return start + timedelta(weeks=amount)
    if unit == "month":
        return start + relativedelta(months=amount)
    return start + relativedelta(years=amount)


def describe_period(period: tuple[int, str]) -> str:
    amount, unit = period
    return f"{amount} {unit}{'' if amount == 1 else 's'}"
