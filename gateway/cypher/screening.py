"""Screening (R10, R11): who among the persons the caller's country may screen against
matches an identity, as one statement.

Order of work, and why: the look-up by name keys (``gateway.cypher.names``) and by document
number is exhaustive — every person holding a key, through an index, with no top-k — so no
candidate is ever cut before the caller's predicate; then the visibility predicate (a live
notice or diffusion the country may see, from ``policy.screening_notice/diffusion``); then a
ranking computed from the person and the query alone (never from index statistics, which
hidden records would sway); only then the cut to the persons listed. Whether the answer is a
hit therefore depends on every visible record and on no hidden one. The filing check of R10
(``gateway.store.workflows.screening_refs``) runs the same candidates.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry

from gateway.cypher.compiler import REF, Compiler, Selection, Statement, country_code, sub
from gateway.cypher.names import (
    checked_document,
    checked_name,
    keys_query,
    lucene_query,
    name_keys,
    rank_keys,
    tokens,
)
from gateway.rules import policy
from gateway.rules.caller import Caller
from graph_schema.model import SAME_PERSON

__all__ = [
    "CONTACT_NCB",
    "MATCHED_PERSONS",
    "Identity",
    "lucene_query",
    "screen",
    "screening_candidates",
    "store_name_keys",
]

# Persons listed in one answer, best ranked first. The cut comes after visibility, so it
# bounds the answer's size without ever turning a hit into a no-hit.
MATCHED_PERSONS = 20
CONTACT_NCB = "Possible match: contact your NCB, quoting the reference."


@dataclass(frozen=True)
class Identity:
    """Who a screening looks for: tolerant names, narrowed by what else is known."""

    family_name: str
    given_names: str | None = None
    date_of_birth: Any = None
    nationality: str | None = None
    document_number: str | None = None
    person_id: str | None = None  # a known record of the person, always a candidate

    @classmethod
    def of(cls, data: Any) -> Identity:
        """The GraphQL input, within the caps of DECISIONS item 7 (BAD_USER_INPUT naming
        the field beyond them)."""

        def value(name: str) -> Any:
            v = getattr(data, name, None)
            return None if v is strawberry.UNSET else v

        given, document = value("given_names"), value("document_number")
        return cls(
            checked_name(data.family_name, "familyName"),
            checked_name(given, "givenNames") if given is not None else None,
            value("date_of_birth"),
            value("nationality"),
            checked_document(document) if document is not None else None,
        )


def screening_candidates(
    c: Compiler, screening_caller: Caller, who: Identity, among: list[str] | None = None,
    cut: int = MATCHED_PERSONS,
) -> str:  # fmt: skip
    """Rows ``p, items``: the persons matching ``who`` with the live notices and diffusions
    about them that the screening caller's country may see (never empty), best ranked
    first, at most ``cut``; only persons ``among`` these ids when given (live alerts). The
    visibility predicates appear once: the planner pays for each copy of them."""
    born = who.date_of_birth
    branches = []
    if tokens(who.family_name) or not who.person_id:  # a known record may have no name
        branches.append(
            f"CALL db.index.fulltext.queryNodes('person_name_keys', {c.param(keys_query(who.family_name, born))}) "
            "YIELD node RETURN node AS p"
        )
    document = who.document_number.strip() if who.document_number else ""
    if document:
        branches.append(
            f"MATCH (p:Person)-[:HOLDS]->(:TravelDocument {{number: {c.param(document)}}}) RETURN p"
        )
    if who.person_id:
        branches.append(f"MATCH (p:Person {{id: {c.param(who.person_id)}}}) RETURN p")
    conditions = ["true"] if among is None else [f"p.id IN {c.param(among)}"]
    if born is not None:  # name plus date of birth: a record without a date may be the person
        conditions.append(f"(p.dateOfBirth IS NULL OR p.dateOfBirth = {c.param(born)})")
    if who.nationality:
        code = c.param(country_code(who.nationality, "input.nationality"))
        conditions.append(f"EXISTS {{ (p)-[:NATIONAL_OF]->(:Country {{code: {code}}}) }}")
    exact, phonetic = rank_keys(who.family_name, who.given_names)
    score = [
        f"2 * size([k IN {c.param(exact)} WHERE k IN keys])",
        f"size([k IN {c.param(phonetic)} WHERE k IN keys])",
    ]
    if born is not None:
        score.append(f"CASE WHEN p.dateOfBirth = {c.param(born)} THEN 4 ELSE 0 END")
    if document:
        score.append(
            f"CASE WHEN EXISTS {{ (p)-[:HOLDS]->(:TravelDocument {{number: {c.param(document)}}}) }} THEN 100 ELSE 0 END"
        )
    if who.person_id:
        score.append(f"CASE WHEN p.id = {c.param(who.person_id)} THEN 1000 ELSE 0 END")
    return (
        "CALL () { " + " UNION ".join(branches) + " } "
        f"WITH p WHERE {' AND '.join(conditions)} "
        # Visibility before any cut: persons without a visible item yield no row here.
        "CALL (p) { "
        f"MATCH (n:Notice)-[:CONCERNS]->(p) WHERE {policy.screening_notice(screening_caller, 'n')} RETURN n "
        f"UNION MATCH (n:Diffusion)-[:CONCERNS]->(p) WHERE {policy.screening_diffusion(screening_caller, 'n')} RETURN n "
        "} "
        "WITH p, collect(n) AS items, split(coalesce(p.nameKeys, ''), ' ') AS keys "
        f"WITH p, items, {' + '.join(score)} AS score ORDER BY score DESC, p.id LIMIT {int(cut)} "
    )


def screen(
    c: Compiler, screening_caller: Caller, full: bool, who: Identity, selections: Sequence[Selection]
) -> Statement:
    """R11: a hit is a live notice or diffusion that the caller's country may see about a
    person matching the identity; ``full`` answers with the records, otherwise a reference
    and an instruction."""
    matches = sub(selections, "matches")
    if full:
        person = f"{c.projection('Person', 'p', sub(matches, 'person'))}"
        notice = f"{c.projection('Notice', 'n', sub(matches, 'notice'))}"
        diffusion = f"{c.projection('Diffusion', 'n', sub(matches, 'diffusion'))}"
        instruction = "null"
    else:
        person = notice = diffusion = "null"
        instruction = f"'{CONTACT_NCB}'"
    links = _same_person_links(c, sub(matches, "identityLinks")) if full else "[]"
    return c.statement(
        screening_candidates(c, screening_caller, who)
        + f"WITH p, items, {links} AS links "
        "UNWIND items AS n RETURN collect(CASE WHEN n:Notice "
        f"THEN {{`{REF}`: 'Notice:' + n.id, reference: n.id, kind: 'NOTICE', noticeType: n.type, sourceCountryCode: n.sourceCountry, "
        f"instruction: {instruction}, person: {person}, notice: {notice}, diffusion: null, identityLinks: links}} "
        f"ELSE {{`{REF}`: 'Diffusion:' + n.id, reference: n.id, kind: 'DIFFUSION', noticeType: null, sourceCountryCode: n.sourceCountry, "
        f"instruction: {instruction}, person: {person}, notice: null, diffusion: {diffusion}, identityLinks: links}} END) AS matches"
    )


def _same_person_links(c: Compiler, selections: Sequence[Selection]) -> str:
    """R11 with R16/R18: the verified same-person links of the person hit (``p``), those the
    caller sees (both persons visible to it), best first."""
    x = c.var("il")
    same = c.param([s.value for s in SAME_PERSON])
    return (
        f"COLLECT {{ MATCH ({x}:IdentityLink)-[:LINKS]->(p) WHERE {x}.status IN {same} "
        f"AND {c.visible('IdentityLink', x)} WITH {x} ORDER BY {x}.score DESC, {x}.id LIMIT {MATCHED_PERSONS} "
        f"RETURN {c.projection('IdentityLink', x, selections)} }}"
    )


Rows = Callable[..., Awaitable[list[dict[str, Any]]]]


async def store_name_keys(rows: Rows, person_id: str) -> None:
    """The write hook: recompute a person's ``nameKeys`` from its stored names, inside the
    transaction that created or changed them (``rows`` is ``Work.rows``)."""
    found = await rows("MATCH (p:Person {id: $id}) RETURN properties(p) AS p", id=person_id)
    if found:
        await rows(
            "MATCH (p:Person {id: $id}) SET p.nameKeys = $keys", id=person_id, keys=name_keys(found[0]["p"])
        )
