"""The statements of multiple-identity detection: the persons one record may be compared
with, and the write of candidate links. Shared by the person write hook (one person, in the
mutation's transaction) and ``gateway identity-scan`` (a batch of persons per transaction).

The look-up is exhaustive: persons sharing a family-name key
and the date of birth (the ``person_name_keys`` index of screening, migration 6), persons
holding a travel document with the same number, and persons already linked (so that a
change can retire a candidate that no longer matches). It runs over every record, whoever
asks: a link's visibility is decided when it is read (``policy.identity_link_visible``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from gateway.cypher.names import keys_query, tokens
from gateway.errors import GatewayError

# No LIMIT on the look-ups, on purpose: a cut would let records a caller cannot see push
# records it can see out of the block, so whether a visible pair is linked would tell it that
# hidden records exist (R17). A family name with a date of birth, or a document number, is
# shared by a handful of records; the write's time limit bounds a pathological graph.

PERSON_DATA = (
    "p{.id, .familyName, .givenNames, .aliases, .nameVariants, .nameOriginalScript, .dateOfBirth, .sex, "
    "documents: [(p)-[:HOLDS]->(d:TravelDocument) | d.number]}"
)

PERSONS = f"UNWIND $ids AS id MATCH (p:Person {{id: id}}) RETURN {PERSON_DATA} AS person"

# Rows ``id, others``: for each ``row`` {id, q}, the persons it may be the same as.
CANDIDATES = (
    "UNWIND $rows AS row "
    "CALL (row) { "
    "WITH row WHERE row.q IS NOT NULL "
    "CALL db.index.fulltext.queryNodes('person_name_keys', row.q) YIELD node "
    "RETURN node AS p "
    "UNION "
    "MATCH (:Person {id: row.id})-[:HOLDS]->(d:TravelDocument) "
    "MATCH (p:Person)-[:HOLDS]->(:TravelDocument {number: d.number}) RETURN p "
    "UNION "
    "MATCH (:Person {id: row.id})<-[:LINKS]-(:IdentityLink)-[:LINKS]->(p:Person) RETURN p "
    "} "
    "WITH row, p WHERE p.id <> row.id "
    f"RETURN row.id AS id, collect(DISTINCT {PERSON_DATA}) AS others"
)

# Create each link once (the key is unique), or refresh a candidate's criteria and score;
# a verified link keeps what its verifier saw. Returns the ids created or changed.
UPSERT = (
    "UNWIND $links AS l "
    "MERGE (x:IdentityLink {key: l.key}) "
    "ON CREATE SET x.id = l.id, x.status = 'CANDIDATE', x.createdAt = datetime(), x.criteria = l.criteria, "
    "x.score = l.score, x.new = true "
    "WITH x, l, coalesce(x.new, false) AS created REMOVE x.new "
    "WITH x, l, created, x.status = 'CANDIDATE' AND (x.criteria <> l.criteria OR x.score <> l.score) AS changed "
    "CALL (x, l, created) { WITH x, l, created WHERE created "
    "MATCH (a:Person {id: l.a}), (b:Person {id: l.b}) CREATE (x)-[:LINKS]->(a), (x)-[:LINKS]->(b) } "
    "CALL (x, l, changed) { WITH x, l, changed WHERE changed "
    "SET x.criteria = l.criteria, x.score = l.score, x.updatedAt = datetime() } "
    "WITH x, created OR changed AS written WHERE written RETURN x.id AS id"
)

# A change to a person retires its automatic candidates that no longer match; verified
# links stay, since a person decided them.
RETIRE = (
    "MATCH (x:IdentityLink {status: 'CANDIDATE'})-[:LINKS]->(:Person {id: $id}) "
    "WHERE NOT x.key IN $keep WITH x, x.id AS id DETACH DELETE x RETURN id"
)


def pair_key(a: str, b: str) -> str:
    return "|".join(sorted((a, b)))


def name_query(person: dict[str, Any]) -> str | None:
    """The look-up of persons sharing a family-name key and the date of birth, or None when
    the record has no date of birth or no family name: a name alone never scores a
    candidate, so it is not worth the look-up."""
    born = person.get("dateOfBirth")
    if born is None or not tokens(person.get("familyName") or ""):
        return None
    if not isinstance(born, date):
        born = born.to_native()
    try:
        return keys_query(person["familyName"], born)
    except GatewayError:  # a name beyond the caps: compare by document only
        return None
