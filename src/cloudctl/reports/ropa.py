"""The record of processing activities (UK GDPR Art. 30(1)): one row per service in use, and its gaps.

Each service not retired (awaiting assessment included) is one processing activity. Its columns come from
the register: the purpose; whose data it is (data subjects, worked out from the category and the data
shared); the categories of data; the recipient (the provider); transfers outside the UK and the safeguard
(from the storage location and detail); retention; the security measures (the register's controls); the
lawful basis and, for special-category data, the Art. 9 condition; the state of its risk assessment (DPIA)
and its data-processing agreement.

A value the register does not hold is None here (null in JSON) and MISSING wherever people read it (a
table, CSV, a spreadsheet, a web page), never a blank cell that looks like "nothing to say".

The rows come from one plain SQL query (cloudctl.db.fast_read): on a trust's register of thousands of
services the report costs little more than the query itself (benchmarks/ropa.py).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple

from sqlmodel import Session

from cloudctl.db.fast_read import fetch_rows
from cloudctl.domain.service_changes import OUTDATING, outdates
from cloudctl.domain.vocabulary import CATEGORY_ORDER
from cloudctl.vocab.data_categories import lookup

MISSING = "MISSING"
NOT_APPLICABLE = "not applicable"
NO_AGREEMENT_NEEDED = f"{NOT_APPLICABLE}: no processor receives pupils' data"

ROPA_KEYS = (
    "service", "category", "provider", "purposes", "data_subjects", "data_categories", "recipients",
    "transfers", "retention", "security_measures", "lawful_basis", "special_category_condition", "dpia_state",
    "agreement",
)  # fmt: skip

# The DPIA states, by the overdue report's rules: never assessed; outdated by a change to the service after
# the latest assessment (cloudctl.domain.service_changes.outdates); past its review date; or current.
DPIA_STATES = ("awaiting", "changed-since-assessed", "overdue", "current")

# The main query: each service not retired, its provider (outer join: a service may have none recorded),
# its latest risk assessment and its current (latest) agreement, unless the service has moved to another
# provider since it was recorded (cloudctl.domain.contracts.moved_since: it is then the old provider's).
ROPA_SQL = """
SELECT s.id, s.name, s.category, p.name, s.purpose, s.data_categories, s.data_shared_text, s.controls,
       s.review_months, s.lawful_basis, s.special_category_condition, s.storage_location, s.storage_detail,
       s.retention, s.website, s.privacy_url, s.position,
       a.assessed_on, a.next_review, a.recorded_at,
       c.dpa_signed_on, c.dpa_reference, c.dpa_location, c.ends_on
FROM service s
LEFT JOIN provider p ON p.id = s.provider_id
LEFT JOIN risk_assessment a ON a.id = (
    SELECT r.id FROM risk_assessment r WHERE r.service_id = s.id
    ORDER BY r.assessed_on DESC, r.id DESC LIMIT 1
)
LEFT JOIN service_contract c ON c.id = (
    SELECT MAX(k.id) FROM service_contract k WHERE k.service_id = s.id
) AND NOT EXISTS (
    SELECT 1 FROM service_change m WHERE m.service_id = s.id AND m.field = ?
    AND m.before IS NOT NULL AND m.recorded_at > c.recorded_at
)
WHERE s.status <> ?
"""
# The changes that can outdate an assessment (widening or changed; see cloudctl.domain.service_changes).
CHANGES_SQL = "SELECT service_id, changed_on, recorded_at FROM service_change WHERE effect IN (?, ?)"


# --- whose data: the data subjects --------------------------------------------------------------------

# Recognised categories that are about a pupil's parents or carers rather than the pupil.
_PARENT_CATEGORIES = frozenset({"parent_contact_names", "contact_details", "telephone_numbers"})
_WORDS = {
    "pupils": re.compile(r"\b(pupil|student|child|children|learner)s?\b", re.IGNORECASE),
    "parents": re.compile(r"\b(parent|carer|guardian|family|families)s?\b", re.IGNORECASE),
    "staff": re.compile(r"\b(staff|teacher|employee|governor|volunteer)s?\b", re.IGNORECASE),
}
SUBJECT_ORDER = ("pupils", "parents", "staff")


@dataclass(frozen=True)
class DataFacts:
    """What a service's data categories say, worked out once per distinct list."""

    categories: tuple[str, ...]
    special: bool
    subjects: tuple[str, ...]
    unclear: bool  # data is shared, but whose it is cannot be told from the words


@lru_cache(maxsize=4096)
def data_facts(stored: str, category: str) -> DataFacts:
    """Categories and data subjects of a service's data (its stored JSON list and its section).

    Pupils: a recognised pupil category (name, UPN, date of birth, SEN, ...) or a phrase naming pupils or
    children. Parents: parent/contact names, contact details or telephone numbers, or a phrase naming
    parents or carers. Staff: a phrase naming staff or teachers. A pupil service whose phrases name nobody
    is about pupils; in another section such data is "unclear" (a gap: say whose it is in --data).
    """
    categories = tuple(json.loads(stored or "[]"))
    found: set[str] = set()
    special = False
    for name in categories:
        known = lookup(name)
        if known is not None:
            special = special or known.special
            found.add("parents" if known.key in _PARENT_CATEGORIES else "pupils")
            continue
        found.update(subject for subject, words in _WORDS.items() if words.search(name))
    unclear = False
    if categories and not found:
        if category == "pupil":
            found.add("pupils")
        else:
            unclear = True
    return DataFacts(categories, special, tuple(s for s in SUBJECT_ORDER if s in found), unclear)


# --- transfers, the DPIA, the agreement --------------------------------------------------------------


def transfer_text(location: str | None, detail: str | None) -> str | None:
    """Transfers outside the UK and their safeguard, from the storage location and its detail."""
    detail = (detail or "").strip()
    if not location:
        return None
    if location == "UK":
        return "none: stored in the UK" + (f" ({detail})" if detail else "")
    if location == "EEA":
        # The UK's adequacy regulations cover the EEA: the detail says where.
        return "to the EEA under the UK's adequacy regulations" + (f": {detail}" if detail else "")
    return f"outside the UK and EEA: {detail}" if detail else f"outside the UK and EEA: safeguard {MISSING}"


def _iso(value: object) -> str | None:
    # SQLite hands dates back as ISO text, PostgreSQL as dates: compare and show them as ISO text.
    if value is None or value.__class__ is str:
        return value  # type: ignore[return-value]
    return value.isoformat()  # type: ignore[attr-defined]


def overdue_before(as_of: date, months: int) -> str:
    """An assessment made before this (ISO text) is past its review on `as_of`, with `months` between reviews.

    The overdue report's rule is "assessed_on + months (as relativedelta adds them) < as_of". Adding months
    moves the month and keeps the day, clamped to the month's last, and a clamped day is never less than
    as_of's day in the same month; so the rule holds exactly when (month of assessed_on + months, its day)
    comes before (month of as_of, its day): when assessed_on is before as_of's month less `months` with
    as_of's day kept, unclamped. Comparing ISO text against that needs no date arithmetic per service.
    """
    total = as_of.year * 12 + as_of.month - 1 - months
    year, month = divmod(total, 12)
    return f"{year:04d}-{month + 1:02d}-{as_of.day:02d}"


def _moment(value: object, kind: type) -> object:
    # SQLite hands dates and times back as ISO text, PostgreSQL as date and datetime objects.
    return kind.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[attr-defined]


def _outdated(changes: list, assessed_on: object, assessed_recorded: object, as_of: date) -> bool:
    """Whether a change up to `as_of` came after the assessment: the overdue report's rule (outdates)."""
    assessed = _moment(assessed_on, date)
    recorded = _moment(assessed_recorded, datetime)
    for changed_on, change_recorded in changes:
        day = _moment(changed_on, date)
        if day <= as_of and outdates(day, _moment(change_recorded, datetime), assessed, recorded):
            return True
    return False


# --- the record ---------------------------------------------------------------------------------------


class RopaRow(NamedTuple):
    """One processing activity: the record's columns, and the facts the gaps are judged on."""

    record: dict
    facts: DataFacts
    website: str | None
    privacy_url: str | None


def _columns_from_data(stored: str, category: str, has_text: bool) -> tuple:
    """The columns that follow from a service's data and section alone, worked out once per distinct pair."""
    facts = data_facts(stored, category)
    # () where the register says nothing is shared; None (missing) where it does not say.
    declared_none = has_text and not facts.categories
    subjects = facts.subjects if facts.subjects else () if declared_none else None
    categories = facts.categories if facts.categories or has_text else None
    needed = category != "statutory" and bool(facts.categories)
    return facts, subjects, categories, needed, facts.special


def ropa_rows(session: Session, *, as_of: date) -> list[RopaRow]:
    """The record with the facts its gaps are judged on (report ropa --gaps)."""
    return _collect(session, as_of, with_facts=True)  # type: ignore[return-value]


def ropa(session: Session, *, as_of: date) -> list[dict]:
    """The record of processing: one dict per service not retired, with exactly ROPA_KEYS.

    Lists are tuples (JSON arrays), shared between rows with the same values: the rows are read-only.
    """
    return _collect(session, as_of, with_facts=False)  # type: ignore[return-value]


def _collect(session: Session, as_of: date, *, with_facts: bool) -> list:
    school_months = fetch_rows(session, "SELECT review_months FROM school_settings WHERE id = ?", (1,))
    months_default = (school_months[0][0] if school_months else None) or 12
    when = as_of.isoformat()
    rows = fetch_rows(session, ROPA_SQL, ("provider", "retired"))
    changed: dict[int, list[tuple]] = {}
    for service_id, *change in fetch_rows(session, CHANGES_SQL, sorted(OUTDATING)):
        changed.setdefault(service_id, []).append(change)
    # The register's order: by section (grouped in the loop), then position. Rows come in id order, and
    # the sort is stable, so services with the same position stay in id order.
    rows.sort(key=itemgetter(16))
    sections: defaultdict[str, list] = defaultdict(list, {category: [] for category in CATEGORY_ORDER})
    # Plain dictionaries as caches: the same data, storage, provider and assessment dates recur across a
    # register, and a trust's register of thousands of services runs this loop (benchmarks/ropa.py).
    by_data: defaultdict[str, dict[str, tuple]] = defaultdict(dict)
    by_place: defaultdict[str | None, dict[str | None, str | None]] = defaultdict(dict)
    by_provider: dict[str | None, tuple[str, ...] | None] = {}
    thresholds: dict[int, str] = {}
    for (
        _id, name, category, provider, purpose, stored, text, controls, review_months, lawful_basis,
        condition, location, detail, retention, website, privacy_url, _position,
        assessed_on, next_review, assessed_recorded, signed, reference, dpa_location, ends,
    ) in rows:  # fmt: skip
        known = by_data[category]
        key = stored if text else ""  # no text: nothing recorded (stored JSON is never empty)
        data = known.get(key)
        if data is None:
            data = known[key] = _columns_from_data(stored, category, bool(text))
        facts, subjects, categories, needed, special = data
        places = by_place[location]
        transfers = places.get(detail, places)
        if transfers is places:
            transfers = places[detail] = transfer_text(location, detail)
        recipients = by_provider.get(provider, by_provider)
        if recipients is by_provider:
            recipients = by_provider[provider] = (provider,) if provider else None
        if assessed_on is None:
            state = "awaiting"
        elif changed and _id in changed and _outdated(changed[_id], assessed_on, assessed_recorded, as_of):
            state = "changed-since-assessed"
        else:
            # ISO text compared as text (_iso inlined: this loop runs once per service).
            if next_review is not None:
                overdue = (next_review if next_review.__class__ is str else next_review.isoformat()) < when
            else:
                months = review_months or months_default
                before = thresholds.get(months)
                if before is None:
                    before = thresholds[months] = overdue_before(as_of, months)
                overdue = (assessed_on if assessed_on.__class__ is str else assessed_on.isoformat()) < before
            state = "overdue" if overdue else "current"
        # The agreement in words: "signed D; ref R; kept at L; contract ends E".
        if signed is None:
            agreement = None if needed else NO_AGREEMENT_NEEDED
        else:
            if ends is not None and ends.__class__ is not str:
                ends = ends.isoformat()
            agreement = (
                f"signed {signed if signed.__class__ is str else signed.isoformat()}"
                f"{'; ref ' + reference if reference else ''}"
                f"{'; kept at ' + dpa_location if dpa_location else ''}"
                f"{'' if ends is None else '; contract ends ' + ends}"
            )
        record = {
            "service": name,
            "category": category,
            "provider": provider,
            "purposes": purpose or None,
            "data_subjects": subjects,
            "data_categories": categories,
            "recipients": recipients,
            "transfers": transfers,
            "retention": retention,
            "security_measures": controls,
            "lawful_basis": lawful_basis,
            "special_category_condition": (condition or None) if special else NOT_APPLICABLE,
            "dpia_state": state,
            "agreement": agreement,
        }
        sections[category].append(RopaRow(record, facts, website, privacy_url) if with_facts else record)
    return [row for section in sections.values() for row in section]


def shown(value: object) -> str:
    """A value as people read it: MISSING for what the register lacks, lists joined."""
    if value is None:
        return MISSING
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) if value else "none"
    return str(value)


def shown_record(record: dict) -> dict:
    return {
        key: shown(value) if key not in ("service", "category") else value for key, value in record.items()
    }


# --- the gaps, most serious first ----------------------------------------------------------------------

# Each gap: its key, what is missing in words, and how to mend it. The ORDER is the severity, most
# serious first: a lawful basis and an Art. 9 condition for health data come before everything (processing
# special-category data without them is unlawful), then data leaving the UK without a safeguard, then the
# lawful basis for ordinary data, then what a processor must be bound by (an agreement) and the
# assessment, then what the Art. 30 record must describe, and last the addresses parents are given.
GAPS: tuple[tuple[str, str, str], ...] = (
    ("special-data-without-lawful-basis", "no lawful basis for special-category data", "--lawful-basis"),
    ("special-data-without-art9-condition", "no Art. 9 condition for special-category data",
     "--special-category-condition"),
    ("transfer-without-safeguard", "data stored outside the UK and EEA with no safeguard recorded",
     "--storage-detail"),
    ("no-lawful-basis", "no lawful basis", "--lawful-basis"),
    ("no-agreement", "no signed data-processing agreement", "service contract --dpa-signed"),
    ("dpia-awaiting", "never assessed (no DPIA)", "assess record"),
    ("dpia-outdated", "DPIA outdated by a change to the service", "assess record"),
    ("dpia-overdue", "DPIA review overdue", "assess record"),
    ("no-provider", "no recipient: the provider is not recorded", "--provider"),
    ("no-data-categories", "the data shared is not recorded", "--data"),
    ("data-subjects-unclear", "whose data it is (pupils, parents, staff) is unclear", "--data"),
    ("no-storage-location", "where the data is stored is not recorded", "--storage"),
    ("no-retention", "no retention period", "--retention"),
    ("no-security-measures", "no security measures (controls) recorded", "--controls"),
    ("no-purpose", "no purpose", "--purpose"),
    ("no-privacy-policy", "no privacy policy link", "--privacy-url"),
    ("no-website", "no website", "--website"),
)  # fmt: skip
GAP_RANK = {key: rank for rank, (key, _, _) in enumerate(GAPS, start=1)}
GAP_WORDS = {key: words for key, words, _ in GAPS}
GAP_MEND = {key: mend for key, _, mend in GAPS}

GAPS_KEYS = ("service", "category", "most_serious", "gap_count", "gaps", "gap_keys", "mend")


def gaps_of(row: RopaRow) -> list[str]:
    """The keys of what the record of one service lacks, most serious first."""
    record, facts = row.record, row.facts
    found: list[str] = []
    if facts.special and not record["lawful_basis"]:
        found.append("special-data-without-lawful-basis")
    if facts.special and record["special_category_condition"] is None:
        found.append("special-data-without-art9-condition")
    if record["transfers"] is not None and record["transfers"].endswith(f"safeguard {MISSING}"):
        found.append("transfer-without-safeguard")
    if not facts.special and not record["lawful_basis"]:
        found.append("no-lawful-basis")
    if record["agreement"] is None:
        found.append("no-agreement")
    if record["dpia_state"] == "awaiting":
        found.append("dpia-awaiting")
    if record["dpia_state"] == "changed-since-assessed":
        found.append("dpia-outdated")
    if record["dpia_state"] == "overdue":
        found.append("dpia-overdue")
    if record["provider"] is None:
        found.append("no-provider")
    if record["data_categories"] is None:
        found.append("no-data-categories")
    if facts.unclear:
        found.append("data-subjects-unclear")
    if record["transfers"] is None:
        found.append("no-storage-location")
    if not record["retention"]:
        found.append("no-retention")
    if not record["security_measures"]:
        found.append("no-security-measures")
    if not record["purposes"]:
        found.append("no-purpose")
    if not row.privacy_url:
        found.append("no-privacy-policy")
    if not row.website:
        found.append("no-website")
    return sorted(found, key=GAP_RANK.__getitem__)


def ropa_gaps(session: Session, *, as_of: date) -> list[dict]:
    """Per service, what its record still lacks, most serious first; services by their most serious gap."""
    result = []
    for position, row in enumerate(ropa_rows(session, as_of=as_of)):
        keys = gaps_of(row)
        if not keys:
            continue
        result.append(
            (
                GAP_RANK[keys[0]],
                position,
                {
                    "service": row.record["service"],
                    "category": row.record["category"],
                    "most_serious": GAP_WORDS[keys[0]],
                    "gap_count": len(keys),
                    "gaps": [GAP_WORDS[key] for key in keys],
                    "gap_keys": keys,
                    "mend": [GAP_MEND[key] for key in keys],
                },
            )
        )
    result.sort(key=lambda item: (item[0], -item[2]["gap_count"], item[1]))
    return [item[2] for item in result]
