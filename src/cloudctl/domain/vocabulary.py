"""The register's fixed vocabularies: service categories, statuses and assessment outcomes."""

from __future__ import annotations

from cloudctl.errors import InvalidInput

CATEGORIES: dict[str, str] = {
    "pupil": "Services for Pupils or Parents",
    "management": "Services for School Management",
    "other": "Other Online Services",
    "statutory": "Legal Requirements",
}
CATEGORY_ORDER = tuple(CATEGORIES)

_CATEGORY_ALIASES = {
    "pupils": "pupil",
    "parent": "pupil",
    "parents": "pupil",
    "pupils-or-parents": "pupil",
    "school-management": "management",
    "other-online": "other",
    "legal": "statutory",
}

STATUSES = ("approved", "awaiting-assessment", "not-approved", "retired")
OUTCOMES = ("approved", "approved-with-conditions", "rejected")
APPROVING_OUTCOMES = ("approved", "approved-with-conditions")
YEAR_SCOPES = ("years", "selected", "none")


def _slug(text: str) -> str:
    return "-".join(text.strip().lower().replace("_", " ").split())


def parse_category(text: str) -> str:
    slug = _slug(text)
    category = slug if slug in CATEGORIES else _CATEGORY_ALIASES.get(slug)
    if category is None:
        raise InvalidInput(
            f'"{text}" is not a service category: use one of {", ".join(CATEGORIES)} '
            "(pupil = services for pupils or parents, management = school management, "
            "other = other online services, statutory = legal requirements)."
        )
    return category


def parse_status(text: str) -> str:
    slug = _slug(text)
    if slug not in STATUSES:
        raise InvalidInput(f'"{text}" is not a service status: use one of {", ".join(STATUSES)}.')
    return slug


def parse_outcome(text: str) -> str:
    slug = _slug(text)
    if slug not in OUTCOMES:
        raise InvalidInput(f'"{text}" is not an assessment outcome: use one of {", ".join(OUTCOMES)}.')
    return slug
