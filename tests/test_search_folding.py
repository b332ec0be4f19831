"""Search as people type names: one folding (`fold_for_search`) for pupils, services and providers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudctl.domain.lookup import normalise_name, suggestion
from cloudctl.vocab.text import fold_for_search, search_matches
from tests.helpers.class_lists import AS_OF, pupil_list, write_class_list


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("O'Brien", "obrien"),
        ("O\u2019Brien", "obrien"),  # curly apostrophe, as Word and phones type it
        ("O\u02bcBrien", "obrien"),  # modifier letter apostrophe
        ("O`Brien", "obrien"),
        ("Łukasz", "lukasz"),
        ("Søren Ødegård", "soren odegard"),
        ("Æthelred", "aethelred"),
        ("Strauß", "strauss"),
        ("Zoe\u0308", "zoe"),  # combining diaeresis
        ("Ní Bhriain-Kelly", "ni bhriain kelly"),
        ("  MARY   jane ", "mary jane"),
        ("St. John", "st john"),
        ("", ""),
        (None, ""),
    ],
)
def test_names_fold_to_what_a_keyboard_gives(name, folded):
    assert fold_for_search(name) == folded


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("obrien", "Seán O’Brien"),
        ("o'brien", "Seán O’Brien"),
        ("o’brien", "Seán O'Brien"),
        ("o brien", "Seán O'Brien"),
        ("lukasz", "Łukasz Nowak"),
        ("smith-jones", "Amy Smith Jones"),
        ("smithjones", "Amy Smith-Jones"),
        ("vanderberg anna", "Anna Van Der Berg"),
        ("SEAN", "Seán O'Brien"),
    ],
)
def test_search_matches_as_typed(query, name):
    assert search_matches(query, name)


def test_search_needs_every_word():
    assert not search_matches("lukasz smith", "Łukasz Nowak")


@given(st.text(max_size=40))
def test_folding_is_ascii_lower_and_stable(text):
    folded = fold_for_search(text)
    assert folded.isascii()
    assert folded == folded.lower() == folded.strip()
    assert fold_for_search(folded) == folded


@given(st.text(min_size=1, max_size=30))
def test_a_name_is_found_by_itself(name):
    if fold_for_search(name):
        assert search_matches(name, name)


def test_services_and_providers_fold_the_same_way():
    assert normalise_name("Łukasz’s Maths") == normalise_name("lukasz's maths") == "lukaszs maths"
    assert "'Ødegård Learning'" in suggestion("odegard", ["Ødegård Learning", "Oak National"])


@pytest.fixture
def school(cli, tmp_path):
    pupils = pupil_list(6)
    pupils[0] = replace(pupils[0], forename="Seán", surname="O'Brien")
    pupils[1] = replace(pupils[1], forename="Aoife", surname="O\u2019Brien")
    pupils[2] = replace(pupils[2], forename="Łukasz", surname="Søndergård")
    pupils[3] = replace(pupils[3], forename="Amy", surname="Smith-Jones")
    write_class_list(tmp_path / "school.csv", pupils)
    cli.ok("pupil", "import", str(tmp_path / "school.csv"), "--as-of", AS_OF.isoformat())
    return cli


def forenames(cli, text: str) -> list[str]:
    return sorted(row["forename"] for row in cli.json("pupil", "search", text))


def test_pupil_search_as_people_type(school):
    assert forenames(school, "obrien") == ["Aoife", "Seán"]
    assert forenames(school, "o'brien") == ["Aoife", "Seán"]
    assert forenames(school, "o\u2019brien") == ["Aoife", "Seán"]
    assert forenames(school, "lukasz") == ["Łukasz"]
    assert forenames(school, "sondergard") == ["Łukasz"]
    assert forenames(school, "smith jones") == ["Amy"]
    assert forenames(school, "smithjones") == ["Amy"]


def test_provider_and_service_lookups_fold_alike(cli):
    cli.ok("init", "--school", "Test School")
    cli.ok("provider", "add", "Ødegård O’Brien Ltd")
    assert cli.json("provider", "show", "odegard obrien ltd")["name"] == "Ødegård O’Brien Ltd"
    cli.ok(
        "service", "add", "Łukasz’s Maths", "--category", "pupil", "--provider", "odegard o'brien ltd",
        "--purpose", "Maths", "--data", "full name", "--type", "Purchased", "--years", "All",
    )  # fmt: skip
    assert cli.json("service", "show", "lukasz's maths")["name"] == "Łukasz’s Maths"
    # Typed alike is the same provider: a second one is refused.
    assert "already in the register" in cli.fails("provider", "add", "Odegard O'Brien Ltd").stderr
