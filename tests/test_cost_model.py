"""The cost model (gateway.graphql.limits): what the oversight bodies need passes, the attacks
do not, and `first` counts as given, through variables too."""

from __future__ import annotations

import time
from typing import Any

import pytest
from graphql import parse

from gateway.graphql.limits import NESTED_ROWS, TOTAL_COUNT, Limits, cost
from gateway.graphql.schema import build

LIMITS = Limits(max_depth=10, max_aliases=30, max_cost=5000)
SCHEMA = build(LIMITS, max_tokens=2000, introspection=True)

NOTIFICATIONS_PAGE = """query($first: Int!) { statusNotifications(first: $first) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { id createdAt outcome decidedAt legalBasis receivingCountryCode
                        fearedPersecutionCountryCode deniedOnCriminalGrounds } } } }"""
AUDIT_PAGE = """query($first: Int!) { auditEvents(first: $first) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { seq id at userId agencyId operation purpose ids hit outcome hash } } } }"""


def cost_of(query: str, variables: dict[str, Any] | None = None, operation: str | None = None) -> int:
    return cost(SCHEMA._schema, parse(query), operation, variables or {})


def refusal(query: str, variables: dict[str, Any] | None = None) -> str | None:
    result = SCHEMA.execute_sync(query, variable_values=variables)
    for error in result.errors or ():
        if (error.extensions or {}).get("code") == "QUERY_TOO_COMPLEX":
            return error.message
    return None


@pytest.mark.parametrize("query", [NOTIFICATIONS_PAGE, AUDIT_PAGE])
def test_the_oversight_bodies_page_a_hundred_with_a_dozen_fields(query: str) -> None:
    assert cost_of(query, {"first": 100}) <= LIMITS.max_cost
    assert refusal(query, {"first": 100}) is None


def test_scalar_properties_are_free_and_rows_are_not() -> None:
    narrow = cost_of("{ auditEvents(first: 100) { edges { node { id } } } }")
    wide = cost_of("{ auditEvents(first: 100) { edges { node { id seq at userId agencyId operation } } } }")
    assert narrow == wide
    assert cost_of("{ auditEvents(first: 50) { edges { node { id } } } }") < narrow


def test_first_counts_as_given_literal_variable_or_default() -> None:
    query = "query($n: Int!) { persons(first: $n) { edges { node { id notices { id } } } } }"
    assert cost_of(query, {"n": 10}) < cost_of(query, {"n": 50}) < cost_of(query, {"n": 100})
    literal = "{ persons(first: 10) { edges { node { id notices { id } } } } }"
    assert cost_of(literal) == cost_of(query, {"n": 10})
    defaulted = "query($n: Int = 10) { persons(first: $n) { edges { node { id notices { id } } } } }"
    assert cost_of(defaulted) == cost_of(literal)
    # The argument's own default (20) when `first` is left out.
    assert cost_of("{ persons { edges { node { id } } } }") == cost_of(
        "{ persons(first: 20) { edges { node { id } } } }"
    )


def test_a_variable_page_size_is_checked_with_its_value() -> None:
    query = "query($n: Int!) { persons(first: $n) { edges { node { id notices { subject { notices { id } } } } } } }"
    assert refusal(query, {"n": 10}) is None
    message = refusal(query, {"n": 100})
    assert message is not None and "costs" in message


def test_a_nested_list_counts_its_typical_rows() -> None:
    one = cost_of('{ person(id: "P-1") { id } }')
    with_notices = cost_of('{ person(id: "P-1") { id notices { id } } }')
    assert with_notices - one == NESTED_ROWS


def test_total_count_is_work_a_page_is_not() -> None:
    without = cost_of("{ notices(first: 1) { edges { node { id } } } }")
    assert cost_of("{ notices(first: 1) { totalCount edges { node { id } } } }") == without + TOTAL_COUNT


def test_links_and_path_cost_their_depth() -> None:
    assert cost_of('{ links(personId: "P", depth: 1) { nodes { id } } }') < cost_of(
        '{ links(personId: "P", depth: 3) { nodes { id } } }'
    )
    assert cost_of(
        'query($d: Int!) { path(fromPersonId: "a", toPersonId: "b", maxDepth: $d) { length } }', {"d": 2}
    ) < cost_of(
        'query($d: Int!) { path(fromPersonId: "a", toPersonId: "b", maxDepth: $d) { length } }', {"d": 6}
    )


def test_the_operation_named_is_the_one_costed() -> None:
    document = "query Small { countries { code } } query Big { persons(first: 100) { edges { node { notices { subject { notices { id } } } } } } }"
    assert cost_of(document, operation="Small") < LIMITS.max_cost < cost_of(document, operation="Big")


@pytest.mark.parametrize(
    "query",
    [
        # big nested lists
        "{ persons(first: 100) { edges { node { notices { subject { notices { id } } } } } } }",
        # wide aliasing of pages of persons with lists of lists
        "{ "
        + " ".join(
            f"a{i}: persons(first: 20) {{ edges {{ node {{ notices {{ subject {{ notices {{ id }} }} }} }} }} }}"
            for i in range(5)
        )
        + " }",
        # a fragment that spreads a page inside nested lists
        "{ countries { ...C } } fragment C on Country { agencies { country { agencies { id } } } }",
    ],
)
def test_the_attacks_stay_refused(query: str) -> None:
    message = refusal(query)
    assert message is not None and "costs" in message


def test_thirty_levels_of_doubled_fragments_are_refused_in_linear_time() -> None:
    levels = 30
    fragments = [f"fragment F{i} on Country {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Country {{ code agencies {{ id }} }}")
    query = "{ countries { ...F0 } } " + " ".join(fragments)
    started = time.monotonic()
    message = refusal(query)
    assert message is not None and "costs" in message
    assert time.monotonic() - started < 5  # 2^30 expansions would take hours


def test_cyclic_fragments_are_reported_not_looped_on() -> None:
    query = "{ ...A } fragment A on Query { ...B countries { code } } fragment B on Query { ...A }"
    result = SCHEMA.execute_sync(query)
    assert result.errors and "within itself" in result.errors[0].message


def test_an_investigators_card_with_nested_lists_passes() -> None:
    """A page of notices with each subject's applications, beside a screening whose matches
    carry theirs: the nested lists are costed as typical lists, not at their cap."""
    query = """{ notices(filter: {subjectId: "P-DEMO-002"}) { edges { node { id reviewFlag
      subject { asylumApplications { id } } } } }
      screen(input: {familyName: "Nurlanova"}) { matches { person { asylumApplications { id } } } } }"""
    assert refusal(query) is None
    assert refusal("{ persons(first: 100) { edges { node { id notices { id } } } } }") is None
