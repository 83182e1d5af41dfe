"""The benchmark's queries, each written four ways: GraphQL for the gateway, GraphQL for the
peer (the Neo4j GraphQL Library), and the Cypher a careful engineer would write by hand with
the same access rules for an NCB caller (here Germany's). Each also says how to read the ids
of the records in an answer, so that the runner can check that all systems return the same."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

AGENCY = "ncb-de"
COUNTRY = "DE"
KIND = "NCB"

Ids = tuple[Any, ...]

# The member view of one country, written out by hand (R4, R5, R8, R14, R18).
_LIVE = (
    "{n}.status = 'PUBLISHED' AND NOT coalesce({n}.blocked, false) "
    "AND ({n}.expiresAt IS NULL OR {n}.expiresAt > datetime()) "
    "AND (size(coalesce({n}.allowCountries, [])) = 0 OR $country IN {n}.allowCountries) "
    "AND NOT $country IN coalesce({n}.denyCountries, [])"
)


def _notice_ok(n: str) -> str:
    return f"({n}.sourceCountry = $country OR ({_LIVE.format(n=n)}))"


def person_ok(p: str) -> str:
    """R18 for the caller's country ($country), by hand."""
    return (
        f"(EXISTS {{ ({p})-[:RECORDED_BY]->(:Agency)-[:OF_COUNTRY]->(:Country {{code: $country}}) }} "
        f"OR EXISTS {{ MATCH (pn:Notice)-[:CONCERNS]->({p}) WHERE {_notice_ok('pn')} }} "
        f"OR EXISTS {{ MATCH (pd:Diffusion)-[:CONCERNS]->({p}) WHERE pd.sourceCountry = $country OR "
        "(NOT coalesce(pd.blocked, false) AND (pd.toAllMembers OR EXISTS { (pd)-[:SENT_TO]->(:Country {code: $country}) }) "
        "AND (size(coalesce(pd.allowCountries, [])) = 0 OR $country IN pd.allowCountries) "
        "AND NOT $country IN coalesce(pd.denyCountries, [])) } "
        f"OR EXISTS {{ MATCH ({p})-[:APPLIED_FOR]->(pa:AsylumApplication) WHERE pa.receivingCountry = $country }})"
    )


def _card_ids(person: dict[str, Any] | None) -> Ids:
    if not person:
        return ()
    return (person["id"], *sorted(n["id"] for n in person["notices"]))


def _page_ids(total: int, rows: list[dict[str, Any]]) -> Ids:
    return (total, *(r["id"] for r in rows))


def _edges_nodes(edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["node"] for e in edges]


def _peer_links(people: list[dict[str, Any]]) -> Ids:
    if not people:
        return ()
    found = {people[0]["id"]}
    for e in people[0]["associatesConnection"]["edges"]:
        found.add(e["node"]["id"])
        found.update(f["node"]["id"] for f in e["node"]["associatesConnection"]["edges"])
    return tuple(sorted(found))


@dataclass(frozen=True)
class Case:
    """One query: ``inputs`` names the input family (subjects, notice filters or names)."""

    name: str
    inputs: str
    gateway: str
    peer: str
    cypher: str
    gateway_ids: Callable[[dict[str, Any]], Ids]
    peer_ids: Callable[[dict[str, Any]], Ids]
    cypher_ids: Callable[[list[dict[str, Any]]], Ids]
    purpose: str = "INVESTIGATION"

    def gateway_variables(self, given: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in given.items() if k != "phrase"}

    def peer_variables(self, given: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in given.items() if k != "name"}


_CARD_FIELDS = "id familyName givenNames dateOfBirth notices { id type status requestedBy { name country { code name } } }"
_LINKS_PEER_LEVEL = "associatesConnection { edges { properties { kind } node { id familyName %s } } }"

CARD = Case(
    "person card, 3 levels",
    "subjects",
    f"query($id: ID!) {{ person(id: $id) {{ {_CARD_FIELDS} }} }}",
    f"query($id: ID!) {{ people(where: {{id: {{eq: $id}}}}) {{ {_CARD_FIELDS} }} }}",
    f"MATCH (p:Person {{id: $id}}) WHERE {person_ok('p')} "
    "RETURN p {.id, .familyName, .givenNames, .dateOfBirth, notices: COLLECT { "
    f"MATCH (p)<-[:CONCERNS]-(n:Notice) WHERE {_notice_ok('n')} "
    "RETURN n {.id, .type, .status, requestedBy: head(COLLECT { MATCH (n)-[:REQUESTED_BY]->(a:Agency) "
    "RETURN a {.name, country: head(COLLECT { MATCH (a)-[:OF_COUNTRY]->(c:Country) RETURN c {.code, .name} })} })} "
    "} } AS person",
    lambda d: _card_ids(d["person"]),
    lambda d: _card_ids(d["people"][0] if d["people"] else None),
    lambda r: _card_ids(r[0]["person"] if r else None),
)

NOTICES = Case(
    "notices list, filter + totalCount",
    "filters",
    "query($type: NoticeType!, $first: Int!) { notices(filter: {type: $type}, first: $first) "
    "{ totalCount edges { node { id status sourceCountryCode } } } }",
    "query($type: NoticeType!, $first: Int!) { noticesConnection(where: {type: {eq: $type}}, first: $first, "
    "sort: [{requestedAt: DESC}, {id: ASC}]) { totalCount edges { node { id status sourceCountry } } } }",
    # Count and page in one pass over the visible rows.
    f"MATCH (n:Notice {{type: $type}}) WHERE {_notice_ok('n')} "
    "WITH n ORDER BY n.requestedAt DESC, n.id ASC WITH collect(n) AS rows "
    "RETURN size(rows) AS total, [n IN rows[..$first] | n {.id, .status, .sourceCountry}] AS rows",
    lambda d: _page_ids(d["notices"]["totalCount"], _edges_nodes(d["notices"]["edges"])),
    lambda d: _page_ids(d["noticesConnection"]["totalCount"], _edges_nodes(d["noticesConnection"]["edges"])),
    lambda r: _page_ids(r[0]["total"], r[0]["rows"]),
)

# Like with like: every system asks the same full-text index (person_names) the same Lucene
# query, the one the gateway builds from the name (each word exact or within two edits).
NAMES = Case(
    "name search, full-text",
    "names",
    "query($name: String!) { persons(filter: {name: $name}, first: 20) "
    "{ totalCount edges { node { id familyName } } } }",
    "query($phrase: String!) { personsByName(phrase: $phrase, first: 20, "
    "sort: [{node: {familyName: ASC}}, {node: {id: ASC}}]) { totalCount edges { node { id familyName } } } }",
    "CALL db.index.fulltext.queryNodes('person_names', $phrase) YIELD node AS p "
    f"WITH p WHERE {person_ok('p')} "
    "WITH p ORDER BY p.familyName ASC, p.id ASC WITH collect(p) AS rows "
    "RETURN size(rows) AS total, [p IN rows[..20] | p {.id, .familyName}] AS rows",
    lambda d: _page_ids(d["persons"]["totalCount"], _edges_nodes(d["persons"]["edges"])),
    lambda d: _page_ids(d["personsByName"]["totalCount"], _edges_nodes(d["personsByName"]["edges"])),
    lambda r: _page_ids(r[0]["total"], r[0]["rows"]),
)

LINKS = Case(
    "links, depth 2",
    "subjects",
    "query($id: ID!) { links(personId: $id, depth: 2) { nodes { id familyName } edges { source target kind } } }",
    "query($id: ID!) { people(where: {id: {eq: $id}}) { id familyName "
    + _LINKS_PEER_LEVEL % (_LINKS_PEER_LEVEL % "")
    + " } }",
    f"MATCH (s:Person {{id: $id}}) WHERE {person_ok('s')} "
    f"OPTIONAL MATCH (s) (()-[r:ASSOCIATE_OF]-(x:Person) WHERE {person_ok('x')}){{1,2}} (o) "
    "WITH s, collect(DISTINCT o) AS others, collect(r) AS rs "
    "RETURN [n IN [s] + others | n {.id, .familyName}] AS nodes, "
    "[rel IN reduce(acc = [], l IN rs | acc + l) | {source: startNode(rel).id, target: endNode(rel).id, kind: rel.kind}] AS edges",
    lambda d: tuple(sorted({n["id"] for n in d["links"]["nodes"]})) if d["links"] else (),
    lambda d: _peer_links(d["people"]),
    lambda r: tuple(sorted({n["id"] for n in r[0]["nodes"]})) if r else (),
)

CASES = (CARD, NOTICES, NAMES, LINKS)
