"""Query compilation, policy predicates and limits, as pure logic (no database).

Compilation is checked by executing queries against a graph stand-in that only records the
statements it is given: what is under test is the text and parameters, not their results.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.cypher import compiler
from gateway.errors import GatewayError
from gateway.graphql.context import Context
from gateway.graphql.limits import Limits
from gateway.graphql.schema import build
from gateway.rules import policy
from gateway.rules.caller import PUBLIC, Caller
from graph_schema.model import AgencyKind, Scope

SCHEMA = build(Limits(max_depth=10, max_aliases=30, max_cost=5000), max_tokens=2000, introspection=True)

NCB_FR = Caller("u", "ncb-fr", AgencyKind.NCB, None, "FR", frozenset(Scope))
BORDER_FR = Caller("u", "border-fr", AgencyKind.NATIONAL_ENTITY, "BORDER", "FR", frozenset({Scope.SCREEN}))
POLICE_FR = Caller("u", "police-fr", AgencyKind.NATIONAL_ENTITY, "POLICE", "FR", frozenset({Scope.SCREEN, Scope.READ}))
ASYLUM_FR = Caller("u", "asylum-fr", AgencyKind.NATIONAL_ENTITY, "ASYLUM", "FR", frozenset({Scope.SCREEN, Scope.ASYLUM}))
GS = Caller("u", "gs", AgencyKind.GENERAL_SECRETARIAT)
CCF = Caller("u", "ccf", AgencyKind.CCF)
INTL = Caller("u", "intl-europol", AgencyKind.INTERNATIONAL_ENTITY)


class RecordingGraph:
    def __init__(self) -> None:
        self.statements: list[tuple[str, dict[str, Any]]] = []

    async def read(self, cypher: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.statements.append((cypher, params))
        return []


def compile_query(query: str, caller: Caller, variables: dict[str, Any] | None = None) -> list[tuple[str, dict[str, Any]]]:
    graph = RecordingGraph()
    context = Context(caller=caller, purpose="INVESTIGATION", graph=graph, schema=SCHEMA)  # type: ignore[arg-type]
    result = asyncio.run(SCHEMA.execute(query, variable_values=variables, context_value=context))
    assert not result.errors or all(e.path for e in result.errors), result.errors
    return graph.statements


def test_a_root_field_with_nested_selections_is_one_statement() -> None:
    statements = compile_query(
        '{ person(id: "P-1") { id notices { id requestedBy { country { code } } } diffusions { id } } }', NCB_FR
    )
    assert len(statements) == 1
    cypher, params = statements[0]
    assert cypher.count("COLLECT {") >= 4
    assert params["country"] == "FR"
    assert "P-1" in params.values()


def test_nested_lists_carry_their_own_visibility_predicate() -> None:
    cypher, _ = compile_query('{ person(id: "P-1") { notices { id } } }', NCB_FR)[0]
    nested = cypher[cypher.index("COLLECT {"):]
    assert "status = 'PUBLISHED'" in nested and "$country IN" in nested


def test_a_filter_on_related_notices_only_counts_visible_ones() -> None:
    cypher, _ = compile_query("{ persons(filter: {hasNoticeType: RED}) { totalCount } }", NCB_FR)[0]
    exists = cypher[cypher.index("n.type ="):]
    assert "n.status = 'PUBLISHED'" in exists.split("}")[0] or "n.sourceCountry = $country" in exists


def test_total_count_counts_rather_than_collects() -> None:
    cypher, _ = compile_query("{ notices { totalCount } }", NCB_FR)[0]
    assert "count(v) AS total" in cypher
    no_total, _ = compile_query("{ notices { edges { node { id } } } }", NCB_FR)[0]
    assert "count(v)" not in no_total


def test_user_values_are_parameters_never_cypher_text() -> None:
    hostile = "x'}) DETACH DELETE n //"
    cypher, params = compile_query(
        "query($id: ID!) { notices(filter: {subjectId: $id}) { totalCount } }", NCB_FR, {"id": hostile}
    )[0]
    assert hostile not in cypher and hostile in params.values()


def test_aliases_become_the_projection_keys() -> None:
    cypher, _ = compile_query('{ person(id: "P-1") { a: familyName b: familyName } }', NCB_FR)[0]
    assert "`a`: v.familyName" in cypher and "`b`: v.familyName" in cypher


@pytest.mark.parametrize(
    ("caller", "label", "expected"),
    [
        (PUBLIC, "Diffusion", "false"),
        (PUBLIC, "AsylumApplication", "false"),
        (PUBLIC, "TravelDocument", "false"),
        (INTL, "Diffusion", "false"),
        (BORDER_FR, "Notice", "false"),
        (POLICE_FR, "AsylumApplication", "false"),
        (GS, "AsylumApplication", "true"),
        (CCF, "Notice", "true"),
        (NCB_FR, "StatusNotification", "false"),
        (NCB_FR, "AccessEvent", "false"),
    ],
)
def test_predicates_that_are_settled_by_the_caller_alone(caller: Caller, label: str, expected: str) -> None:
    assert policy.visible(caller, label, "v") == expected


def test_the_asylum_authority_sees_only_its_own_countrys_applications() -> None:
    assert policy.visible(ASYLUM_FR, "AsylumApplication", "v") == "v.receivingCountry = $country"


@pytest.mark.parametrize(("caller", "masked"), [(NCB_FR, False), (GS, False), (POLICE_FR, True), (PUBLIC, True)])
def test_biometrics_are_for_ncbs_and_oversight_only(caller: Caller, masked: bool) -> None:
    expression = policy.field_expression(caller, "Person", "fingerprintRef", "v", "fingerprintRef")
    assert (expression == "null") is masked


def test_the_block_reason_reaches_oversight_and_the_source_gets_the_generic_one() -> None:
    assert "blockReason" in policy.field_expression(GS, "Notice", "statusReason", "v", "statusReason")
    source_view = policy.field_expression(NCB_FR, "Notice", "statusReason", "v", "statusReason")
    assert "blockReason" not in source_view and "not compliant with the rules" in source_view


def test_screening_runs_against_the_country_view_and_answers_by_scope() -> None:
    assert policy.screening_view(BORDER_FR).kind == AgencyKind.NCB
    assert not policy.full_screening_answer(BORDER_FR)
    assert policy.full_screening_answer(POLICE_FR)
    assert not policy.may_screen(PUBLIC)


def test_cursors_round_trip_and_foreign_ones_are_refused() -> None:
    assert compiler.decode_cursor(compiler.encode_cursor(41)) == 41
    with pytest.raises(GatewayError):
        compiler.decode_cursor("not-ours")
    with pytest.raises(GatewayError):
        compiler.page(101, None)
    assert compiler.page(10, compiler.encode_cursor(9)).offset == 10


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("{ countries { " + "ncb { country { " * 6 + "code" + " } }" * 6 + " } }", "nests"),
        ("{ " + " ".join(f"a{i}: countries {{ code }}" for i in range(31)) + " }", "aliases"),
        ("{ persons(first: 100) { edges { node { notices { subject { notices { id } } } } } } }", "costs"),
    ],
)
def test_limits_refuse_before_anything_runs(query: str, fragment: str) -> None:
    small = build(Limits(max_depth=8, max_aliases=30, max_cost=5000), max_tokens=2000, introspection=True)
    result = small.execute_sync(query)
    assert result.errors and fragment in result.errors[0].message
    assert result.errors[0].extensions == {"code": "QUERY_TOO_COMPLEX"}


def test_fragments_count_towards_depth_and_cost() -> None:
    small = build(Limits(max_depth=3, max_aliases=30, max_cost=5000), max_tokens=2000, introspection=True)
    query = "{ countries { ...C } } fragment C on Country { ncb { country { code } } }"
    result = small.execute_sync(query)
    assert result.errors and "nests" in result.errors[0].message


def test_the_standard_introspection_query_passes_the_limits() -> None:
    """GraphiQL sends it on load; introspection is governed by its own switch."""
    from graphql import get_introspection_query

    small = build(Limits(max_depth=5, max_aliases=30, max_cost=5000), max_tokens=2000, introspection=True)
    result = small.execute_sync(get_introspection_query())
    assert not result.errors and result.data and result.data["__schema"]["queryType"]["name"] == "Query"


# --- Regressions from the security review -------------------------------------------------


def test_a_fragment_spread_again_by_siblings_counts_every_time() -> None:
    """Reusing one fragment under many siblings used to cost nothing after its first use."""
    fragments = ["fragment C1 on Country { code agencies { id country { code } } }"]
    for k in range(2, 6):
        fragments.append(f"fragment C{k} on Country {{ ...C{k - 1} agencies {{ country {{ ...C{k - 1} }} }} }}")
    query = "query { countries { ...C5 } } " + " ".join(fragments)
    result = SCHEMA.execute_sync(query)
    assert result.errors and result.errors[0].extensions == {"code": "QUERY_TOO_COMPLEX"}


def test_aliased_introspection_counts_towards_the_alias_limit() -> None:
    query = "{ " + " ".join(f"a{i}: __schema {{ queryType {{ name }} }}" for i in range(40)) + " }"
    result = SCHEMA.execute_sync(query)
    assert result.errors and "aliases" in result.errors[0].message


def test_restricted_notices_are_never_public_or_international() -> None:
    for caller in (PUBLIC, INTL):
        predicate = policy.visible(caller, "Notice", "v")
        assert "size(coalesce(v.denyCountries, [])) = 0" in predicate
        assert "size(coalesce(v.allowCountries, [])) = 0" in predicate


def test_a_blocked_diffusion_is_not_subject_to_review_for_its_source() -> None:
    expression = policy.field_expression(NCB_FR, "Diffusion", "subjectToReview", "v", "reviewed")
    assert "blocked" in expression and expression.startswith("NOT coalesce(v.reviewed, false)")
    assert "status, 'ACTIVE') = 'ACTIVE'" in policy.screening_diffusion(NCB_FR, "v")


def test_who_recorded_a_person_hides_asylum_authorities_from_others() -> None:
    assert "'ASYLUM'" in policy.relation_condition(POLICE_FR, "Person", "recordedBy", "t")
    assert policy.relation_condition(GS, "Person", "recordedBy", "t") == "true"
    cypher, _ = compile_query('{ person(id: "P-1") { recordedBy { id } } }', POLICE_FR)[0]
    assert "<> 'ASYLUM'" in cypher


def test_the_public_searches_only_the_names_it_can_see() -> None:
    query = compiler.lucene_query("Umar", fields=policy.searchable_names(PUBLIC))
    assert "familyName:" in query and "givenNames:" in query and "nameVariants" not in query
    assert policy.searchable_names(NCB_FR) is None


def test_lucene_operators_typed_as_names_are_terms() -> None:
    assert compiler.lucene_query("AND") == "and"
    assert compiler.lucene_query("a OR b").split() == ["a", "or", "b"]


def test_an_oversized_cursor_is_bad_input() -> None:
    with pytest.raises(GatewayError):
        compiler.decode_cursor(compiler.encode_cursor(10**20))


def test_a_look_up_that_finds_nothing_waits_out_the_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    """R17 in time: hidden and missing both answer at the floor (the wait is recorded, not timed)."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("gateway.graphql.context.asyncio.sleep", record)
    fresh = Context(caller=NCB_FR, purpose=None, graph=None, schema=SCHEMA, absent_floor=0.025)  # type: ignore[arg-type]
    asyncio.run(fresh.answer_absent())
    late = Context(caller=NCB_FR, purpose=None, graph=None, schema=SCHEMA, absent_floor=0.025, started=0.0)  # type: ignore[arg-type]
    asyncio.run(late.answer_absent())
    assert len(waits) == 1 and 0 < waits[0] <= 0.025  # the late one is past the floor: no wait
