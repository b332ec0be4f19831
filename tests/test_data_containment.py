"""Sharing a part of a category already shared (first name for full name) narrows what a service receives:
it does not outdate the risk assessment. Anything the old data did not cover still does.

The table of parts is cloudctl.vocab.data_containment.CONTAINED_IN; nothing beyond it is assumed.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudctl.domain.service_changes import OUTDATING, ServiceFacts, describe, differences
from cloudctl.vocab.data_categories import ALL_CATEGORIES
from cloudctl.vocab.data_containment import CONTAINED_IN, covered_by, key_of, not_covered


def _assessed() -> str:
    return (date.today() - timedelta(days=60)).isoformat()


# Every category's label, a surname written three ways, and phrases the vocabulary does not know.
POOL = [category.label for category in ALL_CATEGORIES] + [
    "Surname", "last name", "family name", "Notes", "voice recordings",
]  # fmt: skip
# For each part, how it may be written: what a narrowing may put in place of its whole.
PARTS = {
    "first_name": ["first name", "Forename"],
    "surname": ["Surname", "last name"],
    "surname_initial": ["surname initial"],
    "telephone_numbers": ["telephone numbers", "phone numbers"],
}
WHOLES = {
    whole: [part for part, wider in CONTAINED_IN.items() if whole in wider]
    for whole in ("full_name", "surname", "contact_details")
}


def facts(categories) -> ServiceFacts:
    return ServiceFacts(tuple(categories), "years", ("1",), "Y1", 1, "UK", "public task", "pupil")


def outdating(before, after) -> list:
    return [d for d in differences(facts(before), facts(after)) if d.effect in OUTDATING]


@st.composite
def narrowed(draw):
    """A list of categories, and the same list with some removed and some replaced by one of their parts."""
    before = draw(st.lists(st.sampled_from(POOL), unique_by=key_of, max_size=8))
    after = []
    for name in before:
        action = draw(st.sampled_from(["keep", "remove", "narrow"]))
        parts = WHOLES.get(key_of(name), [])
        if action == "keep" or (action == "narrow" and not parts):
            after.append(name)
        elif action == "narrow":
            after.append(draw(st.sampled_from(PARTS[draw(st.sampled_from(parts))])))
    return before, draw(st.permutations(after))


@given(narrowed())
def test_removing_or_narrowing_categories_never_outdates(pair):
    before, after = pair
    assert outdating(before, after) == []


@given(st.lists(st.sampled_from(POOL), unique_by=key_of, max_size=8), st.sampled_from(POOL))
def test_adding_a_category_the_old_data_does_not_cover_always_outdates(before, new):
    after = [*before, new]
    found = outdating(before, after)
    if covered_by(new, before):
        assert found == []
    else:
        assert [(d.field, d.effect) for d in found] == [("data_shared", "widening")]
        if before:
            said = describe("data_shared", ", ".join(before), ", ".join(after), "widening")
            assert said == f"data shared widened: added {new}"


def test_the_table():
    assert covered_by("first name", ["full name"]) and covered_by("Forename", ["Child's name"])
    assert covered_by("Surname", ["pupil name"]) and covered_by("surname initial", ["last name"])
    assert covered_by("phone numbers", ["contact details"])
    assert not covered_by("full name", ["first name", "surname"])  # may carry middle names
    assert not covered_by("email addresses", ["contact details"])
    assert not covered_by("address", ["contact details"])
    assert not covered_by("UPN", ["pupil identifiers"])
    assert not_covered(["first name", "date of birth"], ["full name"]) == ["date of birth"]


# --- through the commands ------------------------------------------------------------------------------


@pytest.fixture
def school(cli):
    cli.ok("init", "--school", "Hunwick Primary School")
    cli.ok(
        "service", "add", "My Maths", "-c", "pupil", "-p", "Oxford University Press", "--create-provider",
        "--data", "Full name, class, parent contact details",
    )  # fmt: skip
    cli.ok("assess", "record", "My Maths", "--date", _assessed(), "--by", "J Bloggs", "--outcome", "approved")
    return cli


def report(cli) -> list[dict]:
    return cli.json("report", "overdue-assessments", "--within", "0")


@pytest.mark.parametrize(
    "data",
    ["First name, class, contact details", "First name, Surname initial, class", "Surname, class",
     "Child's name, class, telephone numbers", "class"],
)  # fmt: skip
def test_a_narrower_part_in_place_of_the_whole_does_not_outdate(school, data):
    school.ok("service", "edit", "My Maths", "--data", data)
    assert report(school) == []
    (assessment,) = school.json("assess", "history", "My Maths")
    assert assessment["changed_since"] is None


def test_a_part_with_new_data_outdates_and_names_only_the_new_data(school):
    school.ok("service", "edit", "My Maths", "--data", "first name, class, date of birth, email addresses")
    (row,) = report(school)
    assert row["state"] == "changed-since-assessed"
    assert row["detail"].startswith("data shared widened: added date of birth, email addresses (")
