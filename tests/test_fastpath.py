"""The row executor (``gateway.graphql.rows``) answers exactly as graphql-core's walk did.

Two proofs. In-process, on rows of any shape (Hypothesis draws them, well-formed or not): the
same documents through a schema with and without the row executor give the same data, the same
errors as the client sees them (message, path, locations, code, masking) in the same order, and
the same audit record. Over HTTP against the real Neo4j: two gateways, one with
``GATEWAY_ROW_EXECUTOR=false``, answer a varied set of documents and callers with the same
bytes (the masked errors' correlation ids aside) and write the same audit events.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import neo4j.time
import pytest
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    OperationDefinitionNode,
    parse,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j import Driver

from gateway.errors import client_error
from gateway.graphql.context import Context
from gateway.graphql.limits import Limits
from gateway.graphql.rows import RowExecutor, row_types
from gateway.graphql.schema import build
from gateway.rules.caller import Caller
from graph_schema.model import AgencyKind, Scope
from tests.conftest import GatewayProcess, gateway_env, token

LIMITS = Limits(max_depth=20, max_aliases=100, max_cost=10**9)
WALKED = build(LIMITS, max_tokens=5000, introspection=True, row_executor=False)
ROWS = build(LIMITS, max_tokens=5000, introspection=True, row_executor=True)

NCB_FR = Caller("u", "ncb-fr", AgencyKind.NCB, None, "FR", frozenset(Scope))
GS = Caller("u", "gs", AgencyKind.GENERAL_SECRETARIAT)

# --- in-process: any rows -----------------------------------------------------------------

CARD = """query($id: ID!, $more: Boolean!) { person(id: $id) { __typename id familyName
  name: familyName dateOfBirth aliases
  notices { id type status requestedAt requestedBy { name kind country { code } } }
  ...more @include(if: $more)
  recordedBy @skip(if: $more) { id active }
} }
fragment more on Person { nationalities { code name } travelDocuments { number status }
  aliases dna: dnaRef }"""
NOTICES = """{ notices(first: 3) { totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { id status ... on Notice { type publishedAt } subject { id dateOfBirth } } } } }"""
LINKS = '{ links(personId: "P-1", depth: 2) { truncated nodes { id aliases } edges { source target kind } } }'
SCREEN = """{ screen(input: {familyName: "Moreau"}) { outcome hit
  matches { reference kind noticeType person { id } notice { id status } identityLinks { score criteria } } } }"""
COUNTRIES = "{ countries { code name ncb { id name } } c2: countries { __typename code } }"
DOCUMENTS = [
    (CARD, {"id": "P-1", "more": True}),
    (CARD, {"id": "P-1", "more": False}),
    (NOTICES, {}),
    (LINKS, {}),
    (SCREEN, {}),
    (COUNTRIES, {}),
]
# The response keys of the documents: the keys rows are drawn from.
KEYS = sorted(set(re.findall(r"\b([a-z][A-Za-z0-9]*)\b(?!\s*[:(])", " ".join(d for d, _ in DOCUMENTS))))
TEMPORALS = st.one_of(
    st.dates(),
    st.datetimes(timezones=st.just(dt.UTC)),
    st.dates().map(neo4j.time.Date.from_native),
    st.datetimes(timezones=st.just(dt.UTC)).map(neo4j.time.DateTime.from_native),
)
SCALARS = st.one_of(
    st.none(),
    st.sampled_from(["PUBLISHED", "RED", "NCB", "HIT", "FR", "BOGUS", "", "P-1"]),
    st.text(max_size=3),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    TEMPORALS,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=10)
    ),
    max_leaves=25,
)
ROW = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=14)


def _fields(selection_set: Any, fragments: dict[str, Any]) -> list[Any]:
    """The field nodes of a selection set, fragments flattened (type conditions are all met:
    every selection here is on the one type it names)."""
    out = []
    for node in selection_set.selections:
        if isinstance(node, FieldNode):
            out.append(node)
        else:
            inner = fragments[node.name.value] if isinstance(node, FragmentSpreadNode) else node
            out += _fields(inner.selection_set, fragments)
    return out


@st.composite
def plausible(draw: Any, type_: Any, node: FieldNode, fragments: dict[str, Any]) -> Any:
    """A value for a field of a type: mostly what a compiled row holds, sometimes anything."""
    chance = draw(st.integers(0, 29))
    if chance == 0:
        return draw(VALUES)
    if chance == 1:
        return None
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        return draw(st.lists(plausible(type_.of_type, node, fragments), max_size=3))
    if isinstance(type_, GraphQLEnumType | GraphQLScalarType) and draw(st.integers(0, 4)) == 0:
        return draw(SCALARS)  # a near miss: a value of another type ("BOGUS", a number, ...)
    if isinstance(type_, GraphQLEnumType):
        return draw(st.sampled_from(sorted(type_.values)))
    if isinstance(type_, GraphQLObjectType):
        row = {}
        for field in _fields(node.selection_set, fragments):
            key = field.alias.value if field.alias else field.name.value
            if field.name.value == "__typename":
                row[key] = type_.name
            elif draw(st.integers(0, 29)):
                row[key] = draw(plausible(type_.fields[field.name.value].type, field, fragments))
        return row
    return draw(LEAVES.get(type_.name, SCALARS))


LEAVES = {
    "String": st.text(max_size=4), "ID": st.text(min_size=1, max_size=4), "Int": st.integers(-5, 5),
    "Float": st.floats(0, 1), "Boolean": st.booleans(), "Date": TEMPORALS, "DateTime": TEMPORALS,
}  # fmt: skip


@st.composite
def records(draw: Any, document: str) -> list[dict[str, Any]]:
    """What the graph answers every statement of the document, drawn from its first root field:
    the row of a single record, the node rows and total of a connection, a screening's matches."""
    parsed = parse(document)
    fragments = {d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)}
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    root = _fields(operation.selection_set, fragments)[0]
    query_type = ROWS._schema.query_type
    assert query_type is not None
    type_ = query_type.fields[root.name.value].type
    value = draw(plausible(type_, root, fragments))
    if root.name.value == "countries":
        return [{"row": row} for row in (value if isinstance(value, list) else [value])]
    if root.name.value == "screen":
        return [{"matches": value.get("matches") if isinstance(value, dict) else value}]
    if root.name.value == "notices":
        edges = value.get("edges") if isinstance(value, dict) else None
        edges = edges if isinstance(edges, list) else []  # a drawn value of another kind: no edges
        nodes = [e.get("node") if isinstance(e, dict) else e for e in edges]
        return [{"rows": nodes, "total": value.get("totalCount") if isinstance(value, dict) else value}]
    return [{"row": value}]


class RowsGraph:
    """A graph stand-in: every statement answers the drawn records (the compiled statement
    is beside the point here; what is under test is how rows complete)."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records

    async def read(
        self, cypher: str, params: dict[str, Any], timeout: float | None = None
    ) -> list[dict[str, Any]]:
        return self.records


def _answer(
    schema: Any, document: str, variables: dict[str, Any], caller: Caller, records: list[dict[str, Any]]
) -> Any:
    context = Context(caller=caller, purpose="INVESTIGATION", graph=RowsGraph(records), schema=schema)  # type: ignore[arg-type]
    result = asyncio.run(schema.execute(document, variable_values=variables, context_value=context))
    # As the client sees them, and as the server logs them (messages of masked errors too).
    errors = [
        (client_error(e, "cid"), e.formatted, type(e.original_error).__name__) for e in result.errors or ()
    ]
    record = (context.record.fields, sorted(context.record.ids), context.record.hit)
    return json.dumps({"data": result.data, "errors": errors}, default=repr), record


# Anything at all, for rows far from any compiled shape.
RECORD = st.fixed_dictionaries(
    {"row": ROW, "rows": st.lists(ROW, max_size=4), "total": VALUES, "matches": st.lists(ROW, max_size=3)}
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), document=st.sampled_from(DOCUMENTS))
def test_rows_of_any_shape_answer_as_graphql_cores_walk(
    data: st.DataObject, document: tuple[str, dict[str, Any]]
) -> None:
    query, variables = document
    drawn = data.draw(st.one_of(records(query), st.lists(RECORD, min_size=1, max_size=3)), label="records")
    caller = NCB_FR if "screen" in query else GS
    assert _answer(ROWS, query, variables, caller, drawn) == _answer(WALKED, query, variables, caller, drawn)


def test_well_formed_rows_complete_with_temporals_enums_and_aliases() -> None:
    row = {
        "__typename": "Person", "id": "P-1", "familyName": "Moreau", "name": "Moreau",
        "dateOfBirth": neo4j.time.Date(1980, 2, 29), "aliases": ["J. M."],
        "notices": [{"id": "N-1", "type": "YELLOW", "status": "PUBLISHED",
                     "requestedAt": neo4j.time.DateTime(2024, 5, 1, 9, 30, 0, 123456789, tzinfo=dt.UTC),
                     "requestedBy": {"name": "NCB Paris", "kind": "NCB", "country": {"code": "FR"}}}],
        "recordedBy": {"id": "ncb-fr", "active": True},
    }  # fmt: skip
    answered, _ = _answer(ROWS, CARD, {"id": "P-1", "more": False}, GS, [{"row": row}])
    assert json.loads(answered) == {
        "data": {"person": {
            "__typename": "Person", "id": "P-1", "familyName": "Moreau", "name": "Moreau",
            "dateOfBirth": "1980-02-29", "aliases": ["J. M."],
            "notices": [{"id": "N-1", "type": "YELLOW", "status": "PUBLISHED",
                         "requestedAt": "2024-05-01T09:30:00.123456+00:00",
                         "requestedBy": {"name": "NCB Paris", "kind": "NCB", "country": {"code": "FR"}}}],
            "recordedBy": {"id": "ncb-fr", "active": True},
        }},
        "errors": [],
    }  # fmt: skip
    assert answered == _answer(WALKED, CARD, {"id": "P-1", "more": False}, GS, [{"row": row}])[0]


def test_a_bad_value_deep_in_a_row_nulls_the_nearest_nullable_parent_with_a_masked_error() -> None:
    row = {"id": "P-1", "notices": [{"id": "N-1", "type": "NOT_A_TYPE", "status": "PUBLISHED"}, {"id": None}]}
    answered, _ = _answer(ROWS, CARD, {"id": "P-1", "more": False}, GS, [{"row": row}])
    body = json.loads(answered)
    body["errors"] = [shown for shown, _logged, _kind in body["errors"]]
    # Notice.type and Notice.id are non-null and a person's notices are [Notice!]!: the whole
    # list cannot be null either, so the person is.
    assert body["data"] == {"person": None}
    assert [e["path"] for e in body["errors"]] == [["person", "notices", 0, "type"]]
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert answered == _answer(WALKED, CARD, {"id": "P-1", "more": False}, GS, [{"row": row}])[0]


def test_every_object_type_of_the_api_is_a_row_type() -> None:
    schema = ROWS._schema
    roots = {schema.query_type, schema.mutation_type, schema.subscription_type}
    objects = {
        t
        for n, t in schema.type_map.items()
        if not n.startswith("__") and t not in roots and hasattr(t, "is_type_of")
    }
    assert objects - row_types(schema) == set()


def test_mutations_and_subscriptions_keep_graphql_cores_walk() -> None:
    for text, fast in (
        ("query { countries { code } }", True),
        ('mutation { cancelNotice(id: "N-1", reason: "x") { id } }', False),
        ("subscription { alerts { reasons } }", False),
    ):
        executor = RowExecutor.build(ROWS._schema, parse(text), raw_variable_values={})
        assert isinstance(executor, RowExecutor)
        assert bool(executor._rows) is fast, text


def test_a_middleware_that_resolves_nested_fields_turns_the_row_executor_off() -> None:
    from graphql.execution import MiddlewareManager

    from gateway.observability.tracing import TracingExtension

    class Nested:
        def resolve(self, _next: Any, root: Any, info: Any, **kwargs: Any) -> Any:
            return _next(root, info, **kwargs)

    document = parse("{ countries { code } }")
    traced = RowExecutor.build(ROWS._schema, document, middleware=MiddlewareManager(TracingExtension()))
    other = RowExecutor.build(ROWS._schema, document, middleware=MiddlewareManager(Nested()))
    assert isinstance(traced, RowExecutor) and isinstance(other, RowExecutor)
    assert traced._rows and not other._rows


# --- over HTTP, against the real Neo4j --------------------------------------------------------

HTTP_DOCUMENTS: list[tuple[str, dict[str, Any]]] = [
    (
        """query($id: ID!) { person(id: $id) { __typename id familyName givenNames aliases dateOfBirth
        fingerprintRef dnaRef recordedBy { id name kind country { code name } }
        nationalities { code } travelDocuments { number type status issuingCountryCode }
        notices { id type status statusReason requestedAt publishedAt expiresAt blocked blockReason
                  reviewFlag allowCountries denyCountries sourceCountryCode requestedBy { name } }
        diffusions { id purpose status sentAt subjectToReview recipients { code } }
        asylumApplications { id status lodgedAt legalBasis feared: fearedPersecutionCountryCode }
        identityLinks { id status colour score persons { id } } } }""",
        {"id": "P-DEMO-001"},
    ),
    (
        'query($id: ID!) { a: person(id: $id) { ...P } b: person(id: "P-DEMO-002") { ...P n: id } } '
        "fragment P on Person { id familyName notices { ... on Notice { id status } } }",
        {"id": "P-DEMO-003"},
    ),
    (
        'query($skip: Boolean!) { person(id: "P-DEMO-004") { id familyName @skip(if: $skip) '
        "recordedBy @include(if: $skip) { id } } }",
        {"skip": True},
    ),
    ('{ person(id: "P-NOBODY") { id } }', {}),
    (
        """{ notices(first: 7, filter: {type: RED}) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { __typename id type status sourceCountryCode subject { id familyName } } } } }""",
        {},
    ),
    ('{ notices(first: 3, after: "bm90IGEgY3Vyc29y") { totalCount } }', {}),
    ("{ notices(first: 500) { totalCount } }", {}),
    (
        "{ persons(first: 5, sort: DATE_OF_BIRTH_DESC) { edges { node { id dateOfBirth nationalities { code } } } } }",
        {},
    ),
    ('{ persons(first: 4, filter: {name: "Seitkali"}) { totalCount edges { node { id familyName } } } }', {}),
    (
        "{ diffusions(first: 4) { edges { node { id purpose toAllMembers subjectToReview sentBy { id } } } } }",
        {},
    ),
    (
        "{ asylumApplications(first: 3) { totalCount edges { node { id status applicant { id } notifications { id outcome } } } } }",
        {},
    ),
    (
        '{ links(personId: "P-DEMO-003", depth: 2) { truncated nodes { id familyName } edges { source target kind } } }',
        {},
    ),
    (
        '{ path(fromPersonId: "P-DEMO-003", toPersonId: "P-DEMO-002") { length nodes { id } edges { kind } } }',
        {},
    ),
    (
        """{ screen(input: {familyName: "Seitkali", givenNames: "Arman"}) { outcome hit
        matches { reference kind noticeType sourceCountryCode instruction person { id } notice { id status }
                  diffusion { id } identityLinks { id } } } }""",
        {},
    ),
    (
        "{ me { user countryCode scopes public agency { id name kind subtype scopes } } countries { code ncb { id } } }",
        {},
    ),
    (
        '{ country(code: "FR") { code name region agencies { id kind } } agency(id: "ncb-fr") { id authorizedBy { id } } }',
        {},
    ),
    (
        "{ statusNotifications(first: 2) { totalCount edges { node { id outcome decidedAt legalBasis } } } }",
        {},
    ),
    # Another agency's events: the request's own event (written before the second path runs)
    # would change the count.
    (
        '{ auditEvents(first: 2, filter: {agencyId: "ncb-jp"}) { totalCount edges { node { agencyId operation ids } } } }',
        {},
    ),
    (
        "{ identityLinks(first: 3) { totalCount edges { node { id status colour criteria score persons { id } } } } }",
        {},
    ),
    ("{ noticesDueForReview(first: 2) { totalCount edges { node { id reviewDueAt } } } }", {}),
    ("{ watchedPersons { id } savedScreenings { id familyName } }", {}),
    ('{ person(id: "P-DEMO-001") { id } notices(first: 2) { edges { node { id } } } }', {}),
    ("{ person(id: 5) { id } }", {}),  # variables and literals coerced by graphql-core
    ("{ person { id } }", {}),  # a validation error
    ("{ __typename countries { __typename } }", {}),
    ("{ __schema { queryType { name } } }", {}),  # introspection
]
CALLERS = [
    None,
    "ncb-fr",
    "ncb-kz",
    "ncb-jp",
    "gs",
    "ccf",
    "border-fr",
    "police-fr",
    "asylum-nl",
    "intl-europol",
]
CHAINS = {"rows": "fastpath-rows", "walked": "fastpath-walked"}


@pytest.fixture(scope="module")
def pair(seeded: Driver, neo4j_auth: tuple[str, str, str]) -> Iterator[dict[str, GatewayProcess]]:
    """The two gateways: with the row executor (the default) and without it."""
    started: dict[str, GatewayProcess] = {}
    try:
        for name, switch in (("rows", "true"), ("walked", "false")):
            started[name] = GatewayProcess(
                gateway_env(neo4j_auth, GATEWAY_ROW_EXECUTOR=switch, GATEWAY_AUDIT_CHAIN=CHAINS[name],
                            GATEWAY_ABSENT_FLOOR_MS="0",
                            # A cold server plans the larger statements slowly: no refusal for time.
                            GATEWAY_QUERY_TIMEOUT_SECONDS="60")
            )  # fmt: skip
        yield started
    finally:
        for process in started.values():
            process.stop()


def _post(url: str, query: str, variables: dict[str, Any], agency: str | None, purpose: str | None) -> bytes:
    headers = {"X-Purpose": purpose} if purpose else {}
    if agency:
        headers["Authorization"] = f"Bearer {token(agency)}"
    r = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, headers=headers, timeout=30
    )
    # A masked error names the request's own correlation id: the only part that may differ.
    correlation = r.headers.get("x-correlation-id", "")
    return f"{r.status_code} ".encode() + r.content.replace(correlation.encode(), b"<correlation>")


def _last_event(driver: Driver, chain: str) -> dict[str, Any] | None:
    records, _, _ = driver.execute_query(
        "MATCH (a:AccessEvent {chain: $chain}) RETURN a ORDER BY a.seq DESC LIMIT 1", chain=chain
    )
    if not records:
        return None
    event = dict(records[0]["a"])
    return {
        k: event.get(k)
        for k in ("seq", "userId", "agencyId", "operation", "purpose", "ids", "hit", "outcome")
    }


def test_both_paths_answer_every_document_with_the_same_bytes_and_audit(
    pair: dict[str, GatewayProcess], seeded: Driver
) -> None:
    compared = with_data = audited = 0
    for query, variables in HTTP_DOCUMENTS:
        for agency in CALLERS:
            for purpose in ("INVESTIGATION", None) if agency == "ncb-fr" else ("INVESTIGATION",):
                before = {n: _last_event(seeded, c) for n, c in CHAINS.items()}
                answers = {n: _post(p.url, query, variables, agency, purpose) for n, p in pair.items()}
                after = {n: _last_event(seeded, c) for n, c in CHAINS.items()}
                context = f"{agency} {purpose} {query[:80]}"
                assert answers["rows"] == answers["walked"], context
                # The event each request wrote, if any, without its place in its own chain.
                recorded = {
                    n: {k: v for k, v in (after[n] or {}).items() if k != "seq"}
                    if after[n] != before[n]
                    else None
                    for n in CHAINS
                }
                audited += recorded["rows"] is not None
                assert recorded["rows"] == recorded["walked"], context
                compared += 1
                with_data += b'"data":{' in answers["rows"]
    # The comparison covered answers with data and audited reads, not only refusals.
    assert compared == len(HTTP_DOCUMENTS) * (len(CALLERS) + 1)
    assert with_data > compared // 2 and audited > 50


@pytest.fixture
def broken_notice(seeded: Driver) -> Iterator[str]:
    """A notice whose stored values break the API's types (an unknown status, no type, a
    string for a boolean), concerning a person whose aliases are no list: what a bad import
    could leave (in properties the statements only project: a predicate would fail in Cypher)."""
    seeded.execute_query(
        "MATCH (a:Agency {id: 'ncb-fr'}) "
        "CREATE (p:Person {id: 'P-FASTPATH-1', familyName: 'Broken', aliases: 'not a list'})-[:RECORDED_BY]->(a) "
        "CREATE (n:Notice {id: 'N-FASTPATH-1', status: 'MISPLACED', reviewFlag: 'yes', sourceCountry: 'FR', "
        "requestedAt: datetime('2024-01-02T03:04:05.123456789Z')})-[:CONCERNS]->(p) "
        "CREATE (n)-[:REQUESTED_BY]->(a)"
    )
    try:
        yield "P-FASTPATH-1"
    finally:
        seeded.execute_query("MATCH (x) WHERE x.id IN ['P-FASTPATH-1', 'N-FASTPATH-1'] DETACH DELETE x")


def test_bad_stored_values_give_the_same_errors_at_the_same_paths(
    pair: dict[str, GatewayProcess], broken_notice: str
) -> None:
    query = """query($id: ID!) { person(id: $id) { id aliases familyName
        notices { id requestedAt reviewFlag sourceCountryCode } n2: notices { id status } } }"""
    for agency in ("gs", "ncb-fr"):
        answers = {
            n: _post(p.url, query, {"id": broken_notice}, agency, "INVESTIGATION") for n, p in pair.items()
        }
        assert answers["rows"] == answers["walked"], agency
    body = json.loads(answers["rows"].split(b" ", 1)[1])  # the NCB's: it may not read `reviewFlag`
    # A string is no list of aliases (null, an error); an unknown status breaks a non-null
    # Notice in the non-null list of a person's notices: the person is null.
    assert body["data"] == {"person": None}
    assert [e["path"] for e in body["errors"]] == [["person", "aliases"], ["person", "n2", 0, "status"]]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"INTERNAL_SERVER_ERROR"}
