"""Keyset cursors: their encoding and the refusal of anything the API did not issue (pure
logic), how a page after a cursor compiles (text and parameters), and paging through HTTP
against the real Neo4j while rows are written between pages."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import string
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import neo4j.time
import pytest
from neo4j import Driver

from gateway.cypher import cursors
from gateway.cypher.cursors import Cursor, Key, Order
from gateway.cypher.pieces import Expr, Param
from gateway.errors import Code, GatewayError
from gateway.graphql.context import Context
from gateway.rules.caller import PUBLIC, Caller
from tests.conftest import Client
from tests.test_compiler_unit import GS, NCB_FR, SCHEMA, compile_query

NOTICES = Order(
    "Notice",
    (Key("requestedAt", Expr("v.requestedAt"), True, "datetime"), Key("id", Expr("v.id"), False, "string")),
)
PERSONS = Order(
    "Person",
    (Key("dateOfBirth", Expr("v.dateOfBirth"), False, "date"), Key("id", Expr("v.id"), False, "string")),
)


def raw(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def bare(predicate: Any) -> str:
    """A predicate's text without its parentheses (the nesting is asserted by the proof)."""
    return str(predicate).replace("(", "").replace(")", "")


def refusal(text: str, order: Order = NOTICES) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        cursors.after(order, cursors.decode(text), text, _params({}))
    assert caught.value.code == Code.BAD_USER_INPUT
    return caught.value


def _params(into: dict[str, Any]) -> Any:
    def parameter(value: Any) -> Param:
        p = Param(f"p{len(into) + 1}")
        into[p.name] = value
        return p

    return parameter


# --- Encoding ---------------------------------------------------------------------------------


def test_a_cursor_is_opaque_text_that_decodes_to_its_order_and_values() -> None:
    instant = neo4j.time.DateTime(2024, 5, 6, 7, 8, 9, 123456789, tzinfo=UTC)
    text = cursors.encode(NOTICES.tag, [instant, "N-1"])
    assert set(text) <= set(string.ascii_letters + string.digits + "-_")  # URL-safe, no padding
    assert cursors.decode(text) == Cursor(
        "Notice:-requestedAt,id", ("2024-05-06T07:08:09.123456789+00:00", "N-1")
    )


def test_instants_keep_their_offset_and_nanoseconds_and_come_back_with_a_fixed_offset() -> None:
    """Neo4j orders equal instants by zone: the parameter must be the stored ``Z``, not the
    zone ``UTC`` the driver makes of ``+00:00`` (the row at the cursor would come again)."""
    plus_two = timezone(timedelta(hours=2))
    stored = neo4j.time.DateTime(2024, 5, 6, 9, 8, 9, 5, tzinfo=plus_two)
    shown = datetime(2024, 5, 6, 9, 8, 9, tzinfo=UTC)
    assert (
        cursors.decode(cursors.encode("t", [stored, "x"])).values[0] == "2024-05-06T09:08:09.000000005+02:00"
    )
    text = cursors.encode(NOTICES.tag, [shown, "x"])
    assert cursors.decode(text).values[0] == "2024-05-06T09:08:09.000000000+00:00"
    params: dict[str, Any] = {}
    cursors.after(NOTICES, cursors.decode(text), text, _params(params))
    instant = next(v for v in params.values() if isinstance(v, neo4j.time.DateTime))
    assert instant.tzinfo == UTC and instant.to_native() == shown
    values = (date(1980, 1, 2), None, 0.5, "x")
    assert cursors.decode(cursors.encode("t", values)).values == ("1980-01-02", None, 0.5, "x")
    assert cursors.decode(cursors.encode("t", [7, "x"])).values == (7, "x")


# --- Refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("garbage!", "not a cursor"),
        ("bzo5", "not a cursor"),  # the old API's offset cursor, o:9: start again from the first page
        (raw({"v": 1}), "not a cursor"),
        (raw([1, "Notice:-requestedAt,id"]), "not a cursor"),
        (raw([1, 5, None, "N-1"]), "not a cursor"),
        (raw([1, "Notice:-requestedAt,id", [1], "N-1"]), "not a cursor"),
        (raw([1, "Notice:-requestedAt,id", True, "N-1"]), "not a cursor"),
        (raw([1, "Notice:-requestedAt,id", 1, 2, 3, 4, "N-1"]), "not a cursor"),
        (raw([2, "Notice:-requestedAt,id", None, "N-1"]), "another version"),
        (raw([True, "Notice:-requestedAt,id", None, "N-1"]), "another version"),
        ("x" * (cursors.MAX_CHARS + 1), "longer than any cursor"),
    ],
)
def test_text_the_api_did_not_issue_is_bad_input_naming_the_problem(text: str, problem: str) -> None:
    with pytest.raises(GatewayError) as caught:
        cursors.decode(text)
    assert caught.value.code == Code.BAD_USER_INPUT and problem in caught.value.message


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ([1, "Notice:-publishedAt,id", None, "N-1"], "another sort order"),
        ([1, "Person:-requestedAt,id", None, "N-1"], "another sort order"),
        ([1, "Notice:-requestedAt,id", "N-1"], "another sort order"),  # a value short
        ([1, "Notice:-requestedAt,id", None, None], "not a cursor"),  # no row has a null id
        ([1, "Notice:-requestedAt,id", "2024-05-06", "N-1"], "wrong kind for requestedAt"),
        ([1, "Notice:-requestedAt,id", "2024-05-06T07:08:09Z", "N-1"], "wrong kind for requestedAt"),
        ([1, "Notice:-requestedAt,id", "2024-02-30T07:08:09.000000000+00:00", "N-1"], "wrong kind"),
        ([1, "Notice:-requestedAt,id", 1714979289, "N-1"], "wrong kind for requestedAt"),
        ([1, "Notice:-requestedAt,id", None, 17], "wrong kind for id"),
    ],
)
def test_a_forged_cursor_is_bad_input_naming_the_problem(payload: list[Any], problem: str) -> None:
    assert problem in refusal(raw(payload)).message


def test_a_refusal_quotes_only_the_start_of_what_was_sent() -> None:
    secret = "A" * 40 + "sensitive-tail"
    for text in (secret, raw([1, "Notice:-publishedAt,id", secret, "N-1"])):
        with pytest.raises(GatewayError) as caught:
            cursors.after(NOTICES, cursors.decode(text), text, _params({}))
        assert text[: cursors.ECHO] in caught.value.message
        assert "sensitive-tail" not in caught.value.message and len(caught.value.message) < 120


# --- The continuation -------------------------------------------------------------------------


def test_the_rows_after_a_cursor_are_a_predicate_on_parameters_only() -> None:
    hostile = "x') OR true //"
    params: dict[str, Any] = {}
    cursor = cursors.decode(raw([1, "Person:dateOfBirth,id", "1980-01-02", hostile]))
    predicate = str(cursors.after(PERSONS, cursor, "", _params(params)))
    assert hostile not in predicate and hostile in params.values()
    assert neo4j.time.Date(1980, 1, 2) in params.values()
    # Ascending: past the value, or at it and past the id, or null (nulls sort last).
    assert (
        bare(predicate)
        == "v.dateOfBirth >= $p2 AND v.dateOfBirth > $p2 OR v.id > $p1 OR v.dateOfBirth IS NULL"
    )


def test_nulls_sort_last_ascending_and_first_descending() -> None:
    at_null = cursors.decode(raw([1, "Person:dateOfBirth,id", None, "P-1"]))
    assert bare(cursors.after(PERSONS, at_null, "", _params({}))) == "v.dateOfBirth IS NULL AND v.id > $p1"
    at_null = cursors.decode(raw([1, "Notice:-requestedAt,id", None, "N-1"]))
    assert bare(cursors.after(NOTICES, at_null, "", _params({}))) == "v.requestedAt IS NOT NULL OR v.id > $p1"
    instant = "2024-05-06T07:08:09.000000000+00:00"
    at_value = cursors.decode(raw([1, "Notice:-requestedAt,id", instant, "N-1"]))
    assert bare(cursors.after(NOTICES, at_value, "", _params({}))) == (
        "v.requestedAt <= $p2 AND v.requestedAt < $p2 OR v.id > $p1"  # no null after a value
    )


def test_a_page_after_a_cursor_seeks_past_it_instead_of_skipping_rows() -> None:
    first = compile_query("{ notices(first: 5) { edges { cursor node { id } } } }", NCB_FR)[0][0]
    assert "SKIP" not in first and "collect([v.requestedAt, v.id]) AS keys" in first
    after = cursors.encode("Notice:-requestedAt,id", [datetime(2024, 5, 6, tzinfo=UTC), "N-9"])
    cypher, params = compile_query(
        f'{{ notices(first: 5, after: "{after}") {{ totalCount edges {{ node {{ id }} }} }} }}', NCB_FR
    )[0]
    assert "SKIP" not in cypher and "N-9" in params.values() and "N-9" not in cypher
    assert "UNWIND matched AS v WITH v WHERE" in cypher  # the count is of every match, the page is cut after


def test_a_page_without_a_count_reads_in_its_first_keys_order_and_nulls_only_when_short() -> None:
    """The rows with a value come in the index's order (the scan stops at the page); the
    rows without one, which come after them ascending, are read only if the page is short."""
    cypher, _ = compile_query("{ persons(first: 5) { edges { node { id } } } }", NCB_FR)[0]
    valued = cypher.index("WHERE ((v.familyName IS NOT NULL)")
    null = cypher.index("WHERE size(b0) < $")
    assert valued < null < cypher.index("v.familyName IS NULL") and "UNWIND (b0 + b1)[..$" in cypher
    # Descending, the nulls come first and finding them scans every row: a plain sort.
    cypher, _ = compile_query("{ persons(first: 5, sort: FAMILY_NAME_DESC) { edges { node { id } } } }", GS)[
        0
    ]
    assert "b0" not in cypher and "ORDER BY v.familyName DESC, v.id ASC LIMIT" in cypher
    # Past a null cursor, only the nulls are left.
    at_null = cursors.encode("Person:familyName,id", [None, "P-1"])
    cypher, _ = compile_query(
        f'{{ persons(first: 5, after: "{at_null}") {{ edges {{ node {{ id }} }} }} }}', GS
    )[0]
    assert "IS NOT NULL" not in cypher and "b1" not in cypher
    # A name search reads from the full-text index: its order is a sort.
    cypher, _ = compile_query('{ persons(filter: {name: "Ivanov"}) { edges { node { id } } } }', GS)[0]
    assert "b0" not in cypher and "ORDER BY v.familyName ASC, v.id ASC LIMIT" in cypher


def test_the_cursor_follows_the_order_the_caller_reads() -> None:
    """The public cannot read requestedAt: its default notice order is publishedAt, and a
    cursor of the requestedAt order is refused rather than compared with a hidden field."""
    requested = cursors.encode("Notice:-requestedAt,id", [None, "N-1"])
    published = cursors.encode("Notice:-publishedAt,id", [None, "N-1"])
    query = '{ notices(first: 5, after: "%s") { edges { cursor } } }'
    assert errors(query % published, PUBLIC) == []
    assert errors(query % requested, GS) == []
    assert "another sort order" in errors(query % requested, PUBLIC)[0]


def errors(query: str, caller: Caller) -> list[str]:
    """The error messages of a query compiled for ``caller`` against an empty answer."""

    class Empty:
        async def read(self, cypher: str, params: dict[str, Any]) -> list[dict[str, Any]]:
            return [{"rows": [], "keys": [], "total": 0}]

    context = Context(caller=caller, purpose="INVESTIGATION", graph=Empty(), schema=SCHEMA)  # type: ignore[arg-type]
    result = asyncio.run(SCHEMA.execute(query, context_value=context))
    return [e.message for e in result.errors or ()]


# --- Through HTTP -----------------------------------------------------------------------------

PAGE = """query($after: String, $sort: PersonSort) {
  persons(first: 3, after: $after, sort: $sort, filter: {bornAfter: "1851-01-01", bornBefore: "1851-12-31"}) {
    pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id familyName } } } }"""


@pytest.fixture
def people(driver: Driver) -> Iterator[Any]:
    """Persons of the test's own, born in 1851 (no other person is), removed afterwards."""
    tag = "".join(random.choices(string.ascii_lowercase, k=6))

    def add(family: str, pid: str) -> None:
        driver.execute_query(
            "CREATE (:Person {id: $id, familyName: $family, dateOfBirth: date('1851-06-01'), tag: $tag})",
            id=f"KS-{tag}-{pid}", family=f"Kzq{tag}{family}", tag=tag,
        )  # fmt: skip

    add.tag = tag  # type: ignore[attr-defined]
    try:
        yield add
    finally:
        driver.execute_query("MATCH (p:Person {tag: $tag}) DETACH DELETE p", tag=tag)


def _pages(client: Client, sort: str, between: Any) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = client.data(PAGE, {"after": after, "sort": sort}, agency="gs")["persons"]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        seen += [e["node"]["id"] for e in page["edges"]]
        if page["edges"]:
            assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]
        between(len(seen))


@pytest.mark.parametrize("sort", ["FAMILY_NAME_ASC", "FAMILY_NAME_DESC"])
def test_paging_sees_every_row_once_in_order_while_rows_are_inserted(
    client: Client, people: Any, sort: str
) -> None:
    """Rows written behind the position a client has reached are not shown (and do not shift
    what follows, as they would with offsets: the row at the page boundary would come twice);
    rows written ahead of it are, in their place."""
    for i in range(10, 19):
        people(f"m{i}", f"{i}")
    behind, ahead = ("z", "a") if sort.endswith("DESC") else ("a", "z")

    def write(seen: int) -> None:
        people(f"{behind}{seen}", f"behind-{seen}")
        people(f"{ahead}{seen}", f"ahead-{seen}")

    seen = _pages(client, sort, write)
    everything = client.data(PAGE.replace("first: 3", "first: 100"), {"sort": sort}, agency="gs")["persons"]
    now = [e["node"]["id"] for e in everything["edges"]]
    assert any("behind" in pid for pid in now) and any("ahead" in pid for pid in now)
    assert seen == [pid for pid in now if "behind" not in pid]


def test_ties_are_broken_by_id_across_page_boundaries(client: Client, people: Any) -> None:
    """Every one of these persons has the same date of birth: only the id orders them."""
    for i in range(10, 18):
        people("same", f"{i}")
    seen = _pages(client, "DATE_OF_BIRTH_ASC", lambda _seen: people("same", f"0{_seen}"))
    assert seen == [f"KS-{people.tag}-{i}" for i in range(10, 18)]


def test_a_cursor_of_another_order_or_list_is_refused(client: Client, people: Any) -> None:
    people("m1", "1")
    cursor = client.data(PAGE, {"after": None, "sort": "FAMILY_NAME_ASC"}, agency="gs")["persons"]["edges"][
        0
    ]["cursor"]
    for query, variables in (
        (PAGE, {"after": cursor, "sort": "DATE_OF_BIRTH_ASC"}),
        ("query($a: String) { notices(after: $a) { totalCount } }", {"a": cursor}),
    ):
        body = client.post(query, variables, agency="gs").json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "another sort order" in body["errors"][0]["message"]
    body = client.post(PAGE, {"after": "bzo5", "sort": None}, agency="gs").json()  # an old offset cursor
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


NOTICE_PAGE = """query($first: Int!, $after: String) { notices(first: $first, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { id requestedAt } } } }"""


def test_paging_by_instants_neither_repeats_nor_skips_a_row(client: Client) -> None:
    """Notices newest first: the keys are instants, compared with the stored offset (an
    instant sent with another zone orders apart from an equal stored one)."""
    whole = client.data(NOTICE_PAGE, {"first": 100, "after": None}, agency="gs")["notices"]
    expected = [e["node"]["id"] for e in whole["edges"]]
    seen: list[str] = []
    after = None
    while len(seen) < len(expected):
        page = client.data(NOTICE_PAGE, {"first": 7, "after": after}, agency="gs")["notices"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(expected) > 7
    assert seen[: len(expected)] == expected
