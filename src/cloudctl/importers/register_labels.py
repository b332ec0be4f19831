"""The one mapping of a register's field labels and column headings to cloudctl's fields.

Schools word the same field many ways ("Purpose", "Purpose of data", "Reason"; "Data Shared", "Key
information held", "Information shared"). Every reader (the labelled document, text tables, CSV and Excel)
looks labels up here, so a label learnt once is understood in every shape. Labels match without regard to
case, spacing and punctuation: "Year groups", "YEAR-GROUPS" and "Year Groups:" are the same label.

A label that maps to no field is not an error: the reader keeps it with the service as an extra field under
its own name (see `extra_key`), and the import lists it.
"""

from __future__ import annotations

import re

# Each field: the aliases accepted (the first is how cloudctl writes it in a spreadsheet's heading row).
# The keys are the entry keys the register document uses (see register_document.FIELD_LABELS).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "service_name": (
        "Service",
        "Name",
        "Service name",
        "System",
        "System(s)",
        "Systems",
        "Application",
        "App",
        "App name",
        "Product",
        "Online service",
        "Software",
        "Resource",
    ),
    "category": ("Category", "Section", "Register section", "Service category"),
    "service_provider": (
        "Service Provider",
        "Provider",
        "Vendor",
        "Supplier",
        "Company",
        "Processor",
        "Data processor",
        "Provided by",
    ),
    "website": ("Website", "Web site", "Web address", "URL"),
    "purpose": (
        "Purpose",
        "Purpose of data",
        "Purpose of processing",
        "Purpose of use",
        "Reason",
        "Reason for use",
        "Why we use it",
        "What it is used for",
    ),
    "data_shared": (
        "Data Shared",
        "Key information held",
        "Information held",
        "Information provided",
        "Information shared",
        "Personal data",
        "Personal data shared",
        "Personal information shared",
        "Data held",
        "Data collected",
        "Data provided",
        "Pupil data shared",
        "Student data",
        "District Data",
        "School data",
        "Categories of personal data",
        "Data categories",
    ),
    "potential_data_shared": ("Potential data shared",),
    "controls": ("Controls", "Security measures", "Safeguards", "Security"),
    "service_type": ("Service Type", "Type", "Type of service", "Cost", "Funding"),
    "year_groups_enrolled": (
        "Year Groups Enrolled",
        "Year groups",
        "Year group",
        "Years",
        "Year groups using",
        "Pupils enrolled",
    ),
    "risk_assessment_date": (
        "Risk assessment date",
        "Risk assessment",
        "Date of risk assessment",
        "DPIA date",
        "Date of DPIA",
        "DPIA",
        "Date assessed",
    ),
    # A service's own interval between risk assessment reviews ("6 months"); without one, the school's.
    "review_months": (
        "Review every",
        "Review months",
        "Review interval",
        "Review interval (months)",
        "Review frequency",
        "Review period",
        "Months between reviews",
    ),
    "lawful_basis": ("Lawful basis", "Legal basis", "Lawful basis for processing", "Article 6 basis"),
    "special_category_condition": (
        "Special category condition",
        "Special category condition (Art. 9)",
        "Art. 9 condition",
        "Article 9 condition",
        "Condition for special category data",
    ),
    "storage_location": ("Storage location",),
    "storage_detail": (
        "Storage detail",
        "Location of server",
        "Server location",
        "Location of servers",
        "Where the information is stored",
        "Where data is stored",
        "Where the data is stored",
        "Data location",
        "Hosting location",
    ),
    "retention": ("Retention", "Retention period", "Data retention", "How long data is kept"),
    "owner": ("Owner", "Information asset owner", "Asset owner", "Responsible person"),
    "privacy_policy": ("Privacy Policy", "Privacy notice", "Privacy policy link", "Privacy URL", "Privacy"),
}

# Labels registers use often that have no field of their own: recognised (so a reader does not take them
# for part of another field's value) and kept with the service under this key, as written.
KNOWN_EXTRA: dict[str, tuple[str, ...]] = {
    "terms_of_use": ("Terms of use", "Terms and conditions", "Terms"),
    "vendor_data": ("Vendor Data",),
    "notes": ("Notes", "Comments"),
}

# Fields that only a table has (a document names the service on its own line, the section by a heading).
TABLE_ONLY = frozenset({"service_name", "category"})


def squash(label: str) -> str:
    """A label without case, spacing or punctuation: "Year Groups:" and "year-groups" both "yeargroups"."""
    return "".join(re.findall(r"[0-9a-z]+", label.casefold()))


def extra_key(label: str) -> str:
    """The key an unmapped label is kept under: "Data processing agreement" is "data_processing_agreement"."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


_LOOKUP: dict[str, str] = {
    squash(alias): key
    for table in (FIELD_ALIASES, KNOWN_EXTRA)
    for key, aliases in table.items()
    for alias in aliases
}
# The keys' own spellings too ("year_groups_enrolled", "privacy_policy"), as older imports kept them.
for _key in (*FIELD_ALIASES, *KNOWN_EXTRA):
    _LOOKUP.setdefault(squash(_key), _key)


def field_for(label: str) -> str | None:
    """The field a label or heading names (a key of FIELD_ALIASES), or None when it names none."""
    key = _LOOKUP.get(squash(label))
    return key if key in FIELD_ALIASES else None


def key_for(label: str) -> str:
    """The key a label is kept under: its field's, a known extra's, or its own words (extra_key)."""
    return _LOOKUP.get(squash(label)) or extra_key(label)


def is_field(key: str) -> bool:
    """Whether a key (from key_for) is one of cloudctl's fields, not a label kept as written."""
    return key in FIELD_ALIASES


def is_known(key: str) -> bool:
    """Whether a key is a field or a label registers often carry (KNOWN_EXTRA)."""
    return key in FIELD_ALIASES or key in KNOWN_EXTRA


def heading_for(key: str) -> str:
    """How cloudctl writes a field's column heading (the first alias), or an extra key in words."""
    if key in FIELD_ALIASES:
        return FIELD_ALIASES[key][0]
    if key in KNOWN_EXTRA:
        return KNOWN_EXTRA[key][0]
    return key.replace("_", " ").capitalize()
