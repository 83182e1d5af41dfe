"""Query compilation, policy predicates and limits, as pure logic (no database).

Compilation is checked by executing queries against a graph stand-in that only records the
statements it is given: what is under test is the text and parameters, not their results.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from gateway.cypher import compiler, pieces
from gateway.cypher.pieces import TRUE, Var
from gateway.errors import Code, GatewayError
from gateway.graphql.context import Context
from gateway.graphql.limits import Limits
from gateway.graphql.schema import build
from gateway.rules import policy, view
from gateway.rules.caller import PUBLIC, Caller
from graph_schema.model import AgencyKind, Scope

SCHEMA = build(Limits(max_depth=10, max_aliases=30, max_cost=5000), max_tokens=2000, introspection=True)

NCB_FR = Caller("u", "ncb-fr", AgencyKind.NCB, None, "FR", frozenset(Scope))
BORDER_FR = Caller("u", "border-fr", AgencyKind.NATIONAL_ENTITY, "BORDER", "FR", frozenset({Scope.SCREEN}))
POLICE_FR = Caller(
    "u", "police-fr", AgencyKind.NATIONAL_ENTITY, "POLICE", "FR", frozenset({Scope.SCREEN, Scope.READ})
)
ASYLUM_FR = Caller(
    "u", "asylum-fr", AgencyKind.NATIONAL_ENTITY, "ASYLUM", "FR", frozenset({Scope.SCREEN, Scope.ASYLUM})
)
GS = Caller("u", "gs", AgencyKind.GENERAL_SECRETARIAT)
CCF = Caller("u", "ccf", AgencyKind.CCF)
INTL = Caller("u", "intl-europol", AgencyKind.INTERNATIONAL_ENTITY)


class RecordingGraph:
    def __init__(self) -> None:
        self.statements: list[tuple[str, dict[str, Any]]] = []

    async def read(self, cypher: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.statements.append((cypher, params))
        return []


def compile_query(
    query: str, caller: Caller, variables: dict[str, Any] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    graph = RecordingGraph()
    context = Context(caller=caller, purpose="INVESTIGATION", graph=graph, schema=SCHEMA)  # type: ignore[arg-type]
    result = asyncio.run(SCHEMA.execute(query, variable_values=variables, context_value=context))
    assert not result.errors or all(e.path for e in result.errors), result.errors
    return graph.statements


def test_a_root_field_with_nested_selections_is_one_statement() -> None:
    statements = compile_query(
        '{ person(id: "P-1") { id notices { id requestedBy { country { code } } } diffusions { id } } }',
        NCB_FR,
    )
    assert len(statements) == 1
    cypher, params = statements[0]
    assert cypher.count("COLLECT {") >= 4
    assert params["country"] == "FR"
    assert "P-1" in params.values()


def test_nested_lists_carry_their_own_visibility_predicate() -> None:
    cypher, _ = compile_query('{ person(id: "P-1") { notices { id } } }', NCB_FR)[0]
    nested = cypher[cypher.index("COLLECT {") :]
    assert "status = 'PUBLISHED'" in nested and "$country IN" in nested


def test_a_filter_on_related_notices_only_counts_visible_ones() -> None:
    cypher, _ = compile_query("{ persons(filter: {hasNoticeType: RED}) { totalCount } }", NCB_FR)[0]
    exists = cypher[cypher.index("MATCH (v)<-[:CONCERNS]-(t") :]
    where = exists[: exists.index(".type) = $")]
    assert ".status = 'PUBLISHED'" in where and ".sourceCountry = $country" in where


def test_a_count_alone_counts_and_collects_nothing() -> None:
    cypher, _ = compile_query("{ notices { totalCount } }", NCB_FR)[0]
    assert "count(v) AS total" in cypher and "collect" not in cypher
    no_total, _ = compile_query("{ notices { edges { node { id } } } }", NCB_FR)[0]
    assert "count(v)" not in no_total and "size(matched)" not in no_total


def test_a_count_with_a_page_finds_the_matches_once() -> None:
    cypher, _ = compile_query("{ notices { totalCount edges { node { id } } } }", NCB_FR)[0]
    assert cypher.count("MATCH (v:Notice)") == 1
    assert "collect(v) AS matched" in cypher and "size(matched) AS total" in cypher
    searched, _ = compile_query('{ persons(filter: {name: "Ivanov"}) { totalCount edges { node { id } } } }', NCB_FR)[0]
    assert searched.count("db.index.fulltext.queryNodes") == 1


def test_user_values_are_parameters_never_cypher_text() -> None:
    hostile = "x'}) DETACH DELETE n //"
    cypher, params = compile_query(
        "query($id: ID!) { notices(filter: {subjectId: $id}) { totalCount } }", NCB_FR, {"id": hostile}
    )[0]
    assert hostile not in cypher and hostile in params.values()


def test_aliases_become_the_projection_keys() -> None:
    cypher, _ = compile_query('{ person(id: "P-1") { a: familyName b: familyName } }', NCB_FR)[0]
    assert "`a`: v.familyName" in cypher and "`b`: v.familyName" in cypher


def test_repeated_root_response_keys_merge_their_selections() -> None:
    statements = compile_query('{ a: person(id: "P-1") { id } a: person(id: "P-1") { familyName } }', NCB_FR)
    assert len(statements) == 1
    assert "`id`: v.id" in statements[0][0] and "`familyName`: v.familyName" in statements[0][0]


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
    predicate = policy.visible(caller, label, "v")
    assert (predicate.is_true, predicate.is_false) == (expected == "true", expected == "false")


def test_the_asylum_authority_sees_only_its_own_countrys_applications() -> None:
    assert str(policy.visible(ASYLUM_FR, "AsylumApplication", "v")) == "v.receivingCountry = $country"


def read(caller: Caller, type_name: str, field: str, prop: str | None = None) -> str | None:
    expression = view.read(caller, type_name, field, Var("v"), Var("v").prop(prop or field))
    return None if expression is None else str(expression)


@pytest.mark.parametrize(
    ("caller", "masked"), [(NCB_FR, False), (GS, False), (POLICE_FR, True), (PUBLIC, True)]
)
def test_biometrics_are_for_ncbs_and_oversight_only(caller: Caller, masked: bool) -> None:
    assert (read(caller, "Person", "fingerprintRef") is None) is masked


def test_the_block_reason_reaches_oversight_and_the_source_gets_the_generic_one() -> None:
    assert "blockReason" in (read(GS, "Notice", "statusReason") or "")
    source_view = read(NCB_FR, "Notice", "statusReason") or ""
    assert "blockReason" not in source_view and "not compliant with the rules" in source_view


def test_screening_runs_against_the_country_view_and_answers_by_scope() -> None:
    assert policy.screening_view(BORDER_FR).kind == AgencyKind.NCB
    assert not policy.full_screening_answer(BORDER_FR)
    assert policy.full_screening_answer(POLICE_FR)
    assert not policy.may_screen(PUBLIC)


def test_first_is_bounded() -> None:
    for first in (0, 101):
        with pytest.raises(GatewayError):
            compiler.page(first, None)
    assert compiler.page(100, None).after is None


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
        fragments.append(
            f"fragment C{k} on Country {{ ...C{k - 1} agencies {{ country {{ ...C{k - 1} }} }} }}"
        )
    query = "query { countries { ...C5 } } " + " ".join(fragments)
    result = SCHEMA.execute_sync(query)
    assert result.errors and result.errors[0].extensions == {"code": "QUERY_TOO_COMPLEX"}


def test_aliased_introspection_counts_towards_the_alias_limit() -> None:
    query = "{ " + " ".join(f"a{i}: __schema {{ queryType {{ name }} }}" for i in range(40)) + " }"
    result = SCHEMA.execute_sync(query)
    assert result.errors and "aliases" in result.errors[0].message


def test_restricted_notices_are_never_public_or_international() -> None:
    for caller in (PUBLIC, INTL):
        predicate = str(policy.visible(caller, "Notice", "v"))
        assert "size(coalesce(v.denyCountries, [])) = 0" in predicate
        assert "size(coalesce(v.allowCountries, [])) = 0" in predicate


def test_a_blocked_diffusion_is_not_subject_to_review_for_its_source() -> None:
    expression = read(NCB_FR, "Diffusion", "subjectToReview") or ""
    assert "blocked" in expression and "NOT coalesce(v.reviewed, false)" in expression
    assert read(GS, "Diffusion", "subjectToReview") == "NOT coalesce(v.reviewed, false)"
    assert "status, 'ACTIVE') = 'ACTIVE'" in policy.screening_diffusion(NCB_FR, "v")


def test_the_subject_to_review_filter_compares_the_shown_value() -> None:
    cypher, params = compile_query("{ diffusions(filter: {subjectToReview: true}) { totalCount } }", NCB_FR)[
        0
    ]
    shown = read(NCB_FR, "Diffusion", "subjectToReview")
    assert f"({shown}) = $" in cypher and True in params.values()


@pytest.mark.parametrize("caller", [NCB_FR, POLICE_FR, ASYLUM_FR, BORDER_FR])
def test_who_recorded_a_person_is_shown_to_the_agencys_own_country_only(caller: Caller) -> None:
    condition = view.related(caller, "Person", "recordedBy", Var("t"))
    assert str(condition) == "EXISTS { (t)-[:OF_COUNTRY]->(:Country {code: $country}) }"
    cypher, _ = compile_query('{ person(id: "P-1") { recordedBy { id } } }', caller)[0]
    assert "'ASYLUM'" not in cypher  # the answer never depends on the recording agency's kind


def test_who_recorded_a_person_is_for_oversight_and_never_for_callers_without_a_country() -> None:
    assert view.related(GS, "Person", "recordedBy", Var("t")) == TRUE
    assert view.related(PUBLIC, "Person", "recordedBy", Var("t")) is None
    assert view.related(INTL, "Person", "recordedBy", Var("t")) is None


def test_the_public_searches_only_the_names_it_can_see() -> None:
    query = compiler.lucene_query("Umar", fields=view.searchable_names(PUBLIC))
    assert "familyName:" in query and "givenNames:" in query and "nameVariants" not in query
    assert view.searchable_names(NCB_FR) is None


def test_lucene_operators_typed_as_names_are_terms() -> None:
    assert compiler.lucene_query("AND") == "and"
    assert compiler.lucene_query("a OR b").split() == ["a", "or", "b"]


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


# --- The field view (allow-list) -----------------------------------------------------------

GRAPH_TYPES = ("Country", "Agency", "Person", "TravelDocument", "Notice", "Diffusion", "AsylumApplication",
               "StatusNotification", "AccessEvent")  # fmt: skip
CALLERS = (PUBLIC, INTL, NCB_FR, POLICE_FR, BORDER_FR, ASYLUM_FR, GS, CCF)


def graphql_fields(type_name: str) -> list[str]:
    return list(compiler._fields(SCHEMA, type_name))


def test_the_caller_classes_follow_kind_and_scopes() -> None:
    assert view.classes(PUBLIC) == {view.CallerClass.PUBLIC}
    assert view.classes(INTL) == {view.CallerClass.INTERNATIONAL}
    k = view.CallerClass
    assert view.classes(NCB_FR) == {k.MEMBER}
    assert view.classes(POLICE_FR) == {k.ENTITY, k.MEMBER}
    assert view.classes(BORDER_FR) == {k.ENTITY, k.SCREEN_ONLY}
    assert view.classes(ASYLUM_FR) == {k.ENTITY, k.SCREEN_ONLY, k.ASYLUM}
    # An entity whose NCB granted no known scope still reads what every caller may.
    assert view.classes(replace(BORDER_FR, scopes=frozenset())) == {k.ENTITY}
    assert view.classes(GS) == view.classes(CCF) == {view.CallerClass.OVERSIGHT}


@pytest.mark.parametrize("type_name", GRAPH_TYPES)
def test_the_view_names_only_fields_that_exist(type_name: str) -> None:
    assert set(view.VIEW[type_name]) <= set(graphql_fields(type_name))


@pytest.mark.parametrize("type_name", GRAPH_TYPES)
@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c.agency_id or "public")
def test_every_field_is_read_through_the_view_or_is_null(type_name: str, caller: Caller) -> None:
    """Each field of each type projects the view's expression for the caller, or a constant
    empty value when the view does not list it for the caller."""
    c = compiler.Compiler(SCHEMA, caller)
    fields = compiler._fields(SCHEMA, type_name)
    for name, mapping in fields.items():
        projected = project(c, type_name, name, isinstance(mapping.graph, compiler.Relation))
        if isinstance(mapping.graph, compiler.Relation):
            if view.related(caller, type_name, name, Var("t")) is None:
                assert projected in ("null", "[]"), (type_name, name, projected)
            continue
        expression = c.field(type_name, name, Var("v"))
        if expression is None:
            assert projected in ("null", "[]"), (type_name, name, projected)
        else:
            assert projected == str(expression), (type_name, name)


def project(c: compiler.Compiler, type_name: str, field: str, sub_selection: bool) -> str:
    """The projection entry of one field, compiled from a parsed selection."""
    from graphql import parse
    from strawberry.types.nodes import convert_selections

    target = compiler._fields(SCHEMA, type_name)[field].graph
    inner = "id" if not isinstance(target, compiler.Relation) else {
        "Country": "code", "TravelDocument": "number"}.get(target.target, "id")  # fmt: skip
    document = parse(f"{{ x {{ {field} {'{ ' + inner + ' }' if sub_selection else ''} }} }}")
    root = document.definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]
    selections = convert_selections(None, root.selection_set.selections)  # type: ignore[arg-type]
    text = c.projection(type_name, Var("v"), selections)
    key = f"`{field}`: "
    return text[text.index(key) + len(key) : -1]


def test_a_field_the_view_does_not_list_is_null_for_every_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """A field added to types.py is hidden until listed: drop one from the view and no
    caller, oversight included, reads it."""
    unlisted = {t: dict(fields) for t, fields in view.VIEW.items()}
    del unlisted["Person"]["familyName"]
    del unlisted["Person"]["notices"]
    monkeypatch.setattr(view, "VIEW", unlisted)
    for caller in CALLERS:
        cypher, _ = compile_query('{ person(id: "P-1") { familyName notices { id } } }', caller)[0]
        assert "`familyName`: null" in cypher and "`notices`: []" in cypher
        assert "v.familyName" not in cypher


def test_the_public_may_not_sort_notices_by_when_they_were_requested() -> None:
    result = run("{ notices(sort: REQUESTED_AT_ASC) { totalCount } }", PUBLIC)
    assert result.errors and result.errors[0].message == "you may not sort by requestedAt"
    assert result.errors[0].original_error.code == Code.BAD_USER_INPUT
    assert result.data is None or result.data.get("notices") is None


def test_default_and_nested_notice_orders_use_only_readable_fields() -> None:
    public, _ = compile_query('{ notices { edges { node { id } } } person(id: "P-1") { notices { id } } }', PUBLIC)[0]
    assert "requestedAt" not in public
    statements = compile_query("{ notices { totalCount edges { node { id } } } }", PUBLIC) + compile_query(
        '{ person(id: "P-1") { notices { id } } }', PUBLIC
    )
    for cypher, _ in statements:
        assert "requestedAt" not in cypher and "publishedAt DESC" in cypher
    member, _ = compile_query('{ person(id: "P-1") { notices { id } } }', NCB_FR)[0]
    assert "ORDER BY t" in member and ".requestedAt DESC" in member


def test_a_filter_on_a_field_the_caller_may_not_read_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    narrowed = {t: dict(fields) for t, fields in view.VIEW.items()}
    narrowed["Notice"]["type"] = view.Read(frozenset({view.CallerClass.OVERSIGHT}))
    monkeypatch.setattr(view, "VIEW", narrowed)
    result = run("{ notices(filter: {type: RED}) { totalCount } }", PUBLIC)
    assert result.errors and result.errors[0].message == "you may not filter by type"
    assert "type) = $" in compile_query("{ notices(filter: {type: RED}) { totalCount } }", GS)[0][0]


def test_a_caller_who_sees_no_row_of_a_type_gets_the_empty_page_whatever_it_asks() -> None:
    """Nothing to read, nothing a filter could tell: as for rows that do not match (R17)."""
    cypher, _ = compile_query(
        '{ diffusions(filter: {subjectToReview: true, senderCountry: "IR"}) { totalCount } }', PUBLIC
    )[0]
    assert "WHERE false" in cypher and "reviewed" not in cypher


def test_agency_scopes_compile_without_templates() -> None:
    cypher, _ = compile_query('{ agency(id: "border-fr") { scopes } }', PUBLIC)[0]
    assert "`scopes`: head(COLLECT { MATCH (v)-[v_auth:AUTHORIZED_BY]->(:Agency) RETURN v_auth.scopes })" in cypher


def test_agency_scopes_inside_a_path_do_not_capture_its_links() -> None:
    query = '{ path(fromPersonId: "a", toPersonId: "b") { nodes { recordedBy { scopes } } } }'
    cypher, _ = compile_query(query, GS)[0]
    assert "[r:ASSOCIATE_OF]" in cypher and "[r:AUTHORIZED_BY]" not in cypher


def run(query: str, caller: Caller) -> Any:
    context = Context(caller=caller, purpose="INVESTIGATION", graph=RecordingGraph(), schema=SCHEMA)  # type: ignore[arg-type]
    return asyncio.run(SCHEMA.execute(query, context_value=context))


# --- Typed pieces ----------------------------------------------------------------------------


def test_predicates_fold_their_constants() -> None:
    p = pieces.Pred("v.x = 1")
    assert (p & pieces.TRUE) == p and (p & pieces.FALSE).is_false
    assert (p | pieces.TRUE).is_true and (p | pieces.FALSE) == p
    assert (~pieces.FALSE).is_true and str(~p) == "NOT (v.x = 1)"
    assert pieces.all_of().is_true and pieces.any_of().is_false


@pytest.mark.parametrize("text", ["x' OR 1=1 //", "a}b", "`", "$p", "Robert'); DROP"])
def test_text_that_is_not_a_name_or_constant_never_becomes_cypher(text: str) -> None:
    with pytest.raises(ValueError):
        pieces.Var(text)
    with pytest.raises(ValueError):
        pieces.Projection.of([(text, pieces.NULL)])
    if not pieces.CONSTANT.match(text):
        with pytest.raises(ValueError):
            pieces.literal(text)


def test_a_comparison_binds_tighter_than_a_negated_expression() -> None:
    shown = pieces.Pred("NOT coalesce(v.reviewed, false)")
    assert str(shown.compare("=", pieces.Param("p1"))) == "(NOT coalesce(v.reviewed, false)) = $p1"


def test_patterns_render_their_hops_and_target_condition() -> None:
    ncb = pieces.pattern(pieces.into("OF_COUNTRY", "Agency"), where=[("kind", "NCB")])
    assert ncb.render(Var("v"), Var("t")) == "(v)<-[:OF_COUNTRY]-(t:Agency)"
    assert str(ncb.condition(Var("t"))) == "t.kind = 'NCB'"
    source = pieces.pattern(pieces.out("REQUESTED_BY", "Agency"), pieces.out("OF_COUNTRY", "Country"))
    assert source.render(Var("v"), Var("t")) == "(v)-[:REQUESTED_BY]->(:Agency)-[:OF_COUNTRY]->(t:Country)"
