"""The four benchmark queries, each as GraphQL for the gateway and as the equivalent Cypher
written by hand (with the same access rules for an NCB caller, here Germany's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AGENCY = "ncb-de"
COUNTRY = "DE"

# The member view of one country, written out by hand (R4, R5, R8, R14, R18).
_LIVE = (
    "{n}.status = 'PUBLISHED' AND NOT coalesce({n}.blocked, false) "
    "AND ({n}.expiresAt IS NULL OR {n}.expiresAt > datetime()) "
    "AND (size(coalesce({n}.allowCountries, [])) = 0 OR $country IN {n}.allowCountries) "
    "AND NOT $country IN coalesce({n}.denyCountries, [])"
)


def _notice_ok(n: str) -> str:
    return f"({n}.sourceCountry = $country OR ({_LIVE.format(n=n)}))"


def _person_ok(p: str) -> str:
    return (
        f"(EXISTS {{ ({p})-[:RECORDED_BY]->(:Agency)-[:OF_COUNTRY]->(:Country {{code: $country}}) }} "
        f"OR EXISTS {{ MATCH (x:Notice)-[:CONCERNS]->({p}) WHERE {_notice_ok('x')} }} "
        f"OR EXISTS {{ MATCH (x:Diffusion)-[:CONCERNS]->({p}) WHERE x.sourceCountry = $country OR "
        "(NOT coalesce(x.blocked, false) AND (x.toAllMembers OR EXISTS { (x)-[:SENT_TO]->(:Country {code: $country}) }) "
        "AND (size(coalesce(x.allowCountries, [])) = 0 OR $country IN x.allowCountries) "
        "AND NOT $country IN coalesce(x.denyCountries, [])) } "
        f"OR EXISTS {{ MATCH ({p})-[:APPLIED_FOR]->(x:AsylumApplication) WHERE x.receivingCountry = $country }})"
    )


@dataclass(frozen=True)
class Case:
    name: str
    graphql: str
    cypher: str
    purpose: str = "INVESTIGATION"

    def variables(self, subject: str) -> dict[str, Any]:
        return {"id": subject, "name": "Ivanov"}


CASES = (
    Case(
        "person card, 3 levels",
        "query($id: ID!) { person(id: $id) { id familyName givenNames dateOfBirth "
        "notices { id type status requestedBy { name country { code name } } } } }",
        f"MATCH (p:Person {{id: $id}}) WHERE {_person_ok('p')} "
        "RETURN p {.id, .familyName, .givenNames, .dateOfBirth, notices: COLLECT { "
        f"MATCH (p)<-[:CONCERNS]-(n:Notice) WHERE {_notice_ok('n')} "
        "RETURN n {.id, .type, .status, requestedBy: head(COLLECT { MATCH (n)-[:REQUESTED_BY]->(a:Agency) "
        "RETURN a {.name, country: head(COLLECT { MATCH (a)-[:OF_COUNTRY]->(c:Country) RETURN c {.code, .name} })} })} "
        "} } AS person",
    ),
    Case(
        "notices list, filter + totalCount",
        "{ notices(filter: {type: RED}, first: 20) { totalCount edges { node { id status sourceCountryCode } } } }",
        f"CALL () {{ MATCH (n:Notice) WHERE n.type = 'RED' AND {_notice_ok('n')} RETURN count(n) AS total }} "
        f"CALL () {{ MATCH (n:Notice) WHERE n.type = 'RED' AND {_notice_ok('n')} "
        "WITH n ORDER BY n.requestedAt DESC, n.id LIMIT 21 RETURN collect(n {.id, .status, .sourceCountry}) AS rows } "
        "RETURN total, rows",
    ),
    Case(
        "screening by name",
        "query($name: String!) { screen(input: {familyName: $name}) { outcome matches { reference kind } } }",
        "CALL db.index.fulltext.queryNodes('person_names', '+(Ivanov OR Ivanov~2)', {limit: 200}) YIELD node AS p, score "
        "WITH p, score ORDER BY score DESC, p.id LIMIT 20 "
        "CALL (p) { MATCH (n:Notice)-[:CONCERNS]->(p) WHERE " + _LIVE.format(n="n") + " RETURN n.id AS ref "
        "UNION MATCH (n:Diffusion)-[:CONCERNS]->(p) WHERE NOT coalesce(n.blocked, false) AND (n.sourceCountry = $country "
        "OR n.toAllMembers OR EXISTS { (n)-[:SENT_TO]->(:Country {code: $country}) }) RETURN n.id AS ref } "
        "RETURN collect(ref) AS matches",
        purpose="BORDER_CHECK",
    ),
    Case(
        "links, depth 2",
        "query($id: ID!) { links(personId: $id, depth: 2) { nodes { id familyName } edges { source target kind } } }",
        f"MATCH (s:Person {{id: $id}}) WHERE {_person_ok('s')} "
        f"OPTIONAL MATCH (s) (()-[r:ASSOCIATE_OF]-(x:Person) WHERE {_person_ok('x')}){{1,2}} (o) "
        "WITH s, collect(DISTINCT o) AS others, collect(r) AS rs "
        "RETURN [n IN [s] + others | n {.id, .familyName}] AS nodes, "
        "[rel IN reduce(acc = [], l IN rs | acc + l) | {source: startNode(rel).id, target: endNode(rel).id, kind: rel.kind}] AS edges",
    ),
)
