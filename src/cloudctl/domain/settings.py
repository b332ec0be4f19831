"""The school's own settings: its name, the year groups it teaches, how often assessments are reviewed."""

from __future__ import annotations

from sqlmodel import Session

from cloudctl.db.models import SchoolSettings
from cloudctl.errors import InvalidInput
from cloudctl.vocab.text import gate_name
from cloudctl.vocab.year_groups import format_year_codes, parse_year_list

DEFAULT_YEARS = ("R", "1", "2", "3", "4", "5", "6")


def get_settings(session: Session) -> SchoolSettings:
    """The settings row, or the defaults (unsaved) when `cloudctl init` has not been run."""
    settings = session.get(SchoolSettings, 1)
    if settings is None:
        settings = SchoolSettings(id=1, year_groups=",".join(DEFAULT_YEARS))
    return settings


def school_years(settings: SchoolSettings) -> tuple[str, ...]:
    return tuple(code for code in settings.year_groups.split(",") if code)


def check_review_months(months: int) -> int:
    if not 1 <= months <= 120:
        raise InvalidInput(
            f"A review interval of {months} months is not accepted: give a whole number of months "
            "from 1 to 120 (12 is usual)."
        )
    return months


def check_consent_months(months: int) -> int | None:
    """How long consent lasts, in months: 1 to 120, or 0 for "until withdrawn" (None, the default)."""
    if months == 0:
        return None
    if not 1 <= months <= 120:
        raise InvalidInput(
            f"Consent lasting {months} months is not accepted: give a whole number of months from 1 to "
            "120 (12 asks again every year, 24 every two years), or 0 for consent that lasts until it is "
            "withdrawn."
        )
    return months


def check_deletion_deadline(days: int) -> int:
    if not 1 <= days <= 365:
        raise InvalidInput(
            f"A deletion deadline of {days} days is not accepted: give a whole number of days from 1 to 365 "
            "(30 is usual: the month a school has to act on a request)."
        )
    return days


def init_school(
    session: Session,
    *,
    school_name: str | None = None,
    years: str | None = None,
    review_months: int | None = None,
    consent_months: int | None = None,
    reply_code_days: int | None = None,
    sign_off_role: str | None = None,
    deletion_deadline_days: int | None = None,
) -> SchoolSettings:
    """Create or update the settings; every other row is kept."""
    from cloudctl.domain.services import refresh_year_groups

    settings = get_settings(session)
    if school_name is not None:
        settings.school_name = gate_name(
            school_name, "school's name (--school)", hint='Give it with --school "Name of school".'
        )
    years_changed = False
    if years is not None:
        years = gate_name(years, "year groups (--years)", hint='Give them like --years "R,1-6".')
        codes = parse_year_list(years)
        if not codes:
            raise InvalidInput(f'"{years}" names no year groups: give them like "R,1-6".')
        years_changed = ",".join(codes) != settings.year_groups
        if years_changed:
            from cloudctl.domain.service_years import check_services_within

            check_services_within(session, tuple(codes))
        settings.year_groups = ",".join(codes)
    if review_months is not None:
        settings.review_months = check_review_months(review_months)
    if consent_months is not None:
        settings.consent_months = check_consent_months(consent_months)
    if reply_code_days is not None:
        from cloudctl.domain.reply_codes import check_reply_code_days

        settings.reply_code_days = check_reply_code_days(reply_code_days)
    if sign_off_role is not None:
        from cloudctl.domain.assessment_workflow import parse_role

        settings.sign_off_role = parse_role(sign_off_role)
    if deletion_deadline_days is not None:
        settings.deletion_deadline_days = check_deletion_deadline(deletion_deadline_days)
    session.add(settings)
    session.flush()
    if years_changed:
        refresh_year_groups(session, school_years(settings))
    return settings


def settings_record(settings: SchoolSettings) -> dict:
    return {
        "school_name": settings.school_name,
        "year_groups": list(school_years(settings)),
        "year_groups_text": format_year_codes(school_years(settings)),
        "review_months": settings.review_months,
        "consent_months": settings.consent_months,
        "reply_code_days": settings.reply_code_days,
        "sign_off_role": settings.sign_off_role,
        "deletion_deadline_days": settings.deletion_deadline_days,
    }
