"""Unit tests of screening's pure parts: name keys, the queries over them, and the caps."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
import strawberry

from gateway.cypher import names
from gateway.cypher.screening import Identity
from gateway.errors import Code, GatewayError


def meets(typed_family: str, person: dict[str, object]) -> bool:
    """What the index does with keys_query: every typed word (or their joined form) meets
    one of the person's keys."""
    stored = set(names.name_keys(person).split())
    words = names.tokens(typed_family)
    each = all(set(names.query_terms(w)) & stored for w in words)
    joined = len(words) > 1 and bool(set(names.query_terms("".join(words))) & stored)
    return each or joined


PERSON = {
    "familyName": "Šćepanović", "givenNames": "Radomir", "nameOriginalScript": "Радомир Шћепановић",
    "aliases": ["Rade Kostić"], "nameVariants": ["Radomir Scepanovic"], "dateOfBirth": date(1979, 4, 2),
}  # fmt: skip


@pytest.mark.parametrize(
    "typed",
    ["Šćepanović", "Scepanovic", "SCEPANOVIC", "Shchepanovich", "Шћепановић", "Scepanovik", "Scepnaovic",
     "Scepanovicc", "Radomir", "Kostic", "Kostić"],
    ids=["as-recorded", "no-diacritics", "upper-case", "transliteration", "original-script", "typo-changed",
         "typo-swapped", "typo-added", "given-name-as-family", "alias", "alias-diacritics"],
)  # fmt: skip
def test_variant_spellings_meet_the_recorded_name(typed: str) -> None:
    assert meets(typed, PERSON)


@pytest.mark.parametrize(
    ("recorded", "typed"),
    [("Mohammed", "Muhammad"), ("Sergey", "Serguei"), ("Yevgeniy", "Evgeny"), ("Müller", "Mueller"),
     ("de Jong", "Dejong"), ("Al-Khatib", "Alkhatib"), ("أحمد", "احمد"), ("Σοφία", "ΣΟΦΙΑ"), ("O'Brien", "OBrien")],
)  # fmt: skip
def test_transliteration_families_meet(recorded: str, typed: str) -> None:
    assert meets(typed, {"familyName": recorded})


@pytest.mark.parametrize("typed", ["Petersen", "Jovanovic", "Smith", "Scepanovicxyz"])
def test_other_names_do_not_meet(typed: str) -> None:
    assert not meets(typed, PERSON)


def test_the_date_of_birth_is_a_key_and_a_missing_one_is_kept_apart() -> None:
    assert "b_19790402" in names.name_keys(PERSON).split()
    assert "b_none" in names.name_keys({"familyName": "X"}).split()
    assert names.keys_query("Scepanovic", date(1979, 4, 2)).endswith("+(b_19790402 b_none)")


def test_keys_and_queries_hold_only_word_characters_and_markers() -> None:
    """User input cannot reach the query as Lucene syntax: the words are letters and digits."""
    query = names.keys_query('a:b (x) OR y" AND * x~10 ^2 \\ / -z +w')
    stripped = query.replace("+(", "").replace("(", "").replace(")", "")
    for term in stripped.split():
        assert term.replace("_", "").isalnum(), term
    assert "or" in stripped.split() and "OR" not in stripped.split()  # operators typed are words


@pytest.mark.parametrize(
    ("text", "escaped"),
    [("a:b", "a\\:b"), ("(x)", "\\(x\\)"), ('na"me', 'na\\"me'), ("x~10", "x\\~10"), ("a^2", "a\\^2"),
     ("a/b", "a\\/b"), ("a\\b", "a\\\\b"), ("a*", "a\\*"), ("a&&b", "a\\&&b"), ("-x", "\\-x")],
)  # fmt: skip
def test_lucene_specials_typed_in_the_name_filter_are_escaped(text: str, escaped: str) -> None:
    """Replaces test_lucene_input_is_escaped_into_terms, which asserted an identity: here a
    builder that forgot to escape would leave the bare character and fail."""
    query = names.lucene_query(text)
    assert escaped in query
    assert query.replace(escaped, "").count(text) == 0


def test_operators_typed_in_the_name_filter_are_terms() -> None:
    assert names.lucene_query("AND") == "and"
    assert names.lucene_query("a OR b").split() == ["a", "or", "b"]


@pytest.mark.parametrize(
    ("call", "field"),
    [(lambda: names.checked_name("x" * 201, "familyName"), "familyName"),
     (lambda: names.checked_name("a b c d e f g h i", "givenNames"), "givenNames"),
     (lambda: names.checked_document("9" * 41), "documentNumber"),
     (lambda: names.lucene_query("x" * 50_000), "filter.name"),
     (lambda: names.lucene_query("a,b,c,d,e,f,g,h,i"), "filter.name")],
    ids=["long-name", "nine-words", "long-document", "50k-filter", "nine-words-by-commas"],
)  # fmt: skip
def test_inputs_beyond_the_caps_are_refused_naming_the_field(call: object, field: str) -> None:
    with pytest.raises(GatewayError) as refused:
        call()  # type: ignore[operator]
    assert refused.value.code == Code.BAD_USER_INPUT
    assert refused.value.extensions["field"] == field


def test_names_at_the_caps_are_accepted_and_their_query_stays_under_the_clause_cap() -> None:
    name = " ".join(["Abcdefghijklmnopqrstuvwx"] * 8)[: names.MAX_NAME_CHARS]
    assert names.checked_name(name, "familyName") == name
    assert names.keys_query(name, date(1990, 1, 1)).count(" ") + 1 <= names.MAX_CLAUSES
    assert names.lucene_query(name, fields=("familyName", "givenNames"))


def test_identity_of_the_input_applies_the_caps() -> None:
    def data(**kw: object) -> SimpleNamespace:
        base = {"family_name": "Doe", "given_names": strawberry.UNSET, "date_of_birth": strawberry.UNSET,
                "nationality": strawberry.UNSET, "document_number": strawberry.UNSET}  # fmt: skip
        return SimpleNamespace(**{**base, **kw})

    assert Identity.of(data(document_number=" X1 ")).document_number == "X1"
    for kw, field in (({"family_name": "x" * 50_000}, "familyName"),
                      ({"given_names": "a " * 9}, "givenNames"),
                      ({"document_number": "1" * 41}, "documentNumber")):  # fmt: skip
        with pytest.raises(GatewayError) as refused:
            Identity.of(data(**kw))
        assert refused.value.extensions["field"] == field
