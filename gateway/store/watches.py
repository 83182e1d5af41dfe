"""Watches and saved screenings: what an agency asks live alerts about.

They are stored in the graph, per agency (every gateway replica sees them at once), owned by
the agency (its users share them, as they share idempotency keys), and bounded in number per
agency. A watch names a person the caller sees when it watches; watching a person it does not
see answers exactly like watching one that does not exist (R17). The workflows here run
inside the mutation's one write transaction (``gateway.graphql.mutations._mutate``), which
audits them like every write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.cypher.compiler import country_code
from gateway.cypher.screening import Identity
from gateway.rules import policy
from gateway.store.db import Graph
from gateway.store.workflows import Work, conflict, forbidden, new_id, not_found

MAX_WATCHES = 1_000  # persons per agency
MAX_SAVED_SCREENINGS = 100  # per agency


async def _lock_agency(w: Work) -> None:
    """Serialise the agency's own watch and screening writes, so that the caps hold under
    concurrent requests (a property set and removed: no trace)."""
    await w.rows("MATCH (a:Agency {id: $agency}) SET a._lock = true REMOVE a._lock")


async def watch_person(w: Work, person_id: str) -> list[str]:
    await w.visible_person(person_id)  # NOT_FOUND, hidden or missing alike (R17)
    await _lock_agency(w)
    counts = await w.rows(
        "OPTIONAL MATCH (x:Watch {agency: $agency, personId: $id}) "
        "CALL () { MATCH (w:Watch {agency: $agency}) RETURN count(w) AS n } "
        "RETURN x IS NOT NULL AS known, n",
        id=person_id,
    )
    if not counts[0]["known"] and counts[0]["n"] >= MAX_WATCHES:
        raise conflict(f"this agency watches {MAX_WATCHES:,} persons, the most it may: unwatch some first")
    await w.rows(
        "MERGE (x:Watch {agency: $agency, personId: $id}) ON CREATE SET x.createdAt = datetime()", id=person_id
    )
    return [person_id]


async def unwatch_person(w: Work, person_id: str) -> list[str]:
    """Removes the agency's own watch, whether or not it still sees the person (nothing to
    reveal: the watch is its own); a person it does not watch is no error."""
    await w.rows("MATCH (x:Watch {agency: $agency, personId: $id}) DELETE x", id=person_id)
    return [person_id]


def _identity(inp: Any) -> dict[str, Any]:
    """The stored form of a screening input, within the caps of ``screen`` (BAD_USER_INPUT
    naming the field beyond them)."""
    who = Identity.of(inp)
    if who.nationality is not None:
        country_code(who.nationality, "input.nationality")
    return {
        "familyName": who.family_name,
        "givenNames": who.given_names,
        "dateOfBirth": who.date_of_birth,
        "nationality": who.nationality,
        "documentNumber": who.document_number,
    }


async def save_screening(w: Work, inp: Any) -> list[str]:
    if not policy.may_save_screening(w.caller):
        raise forbidden("only NCBs, agencies with the read scope, the GS and the CCF save screenings")
    fields = _identity(inp)
    await _lock_agency(w)
    count = await w.rows("MATCH (s:SavedScreening {agency: $agency}) RETURN count(s) AS n")
    if count[0]["n"] >= MAX_SAVED_SCREENINGS:
        raise conflict(
            f"this agency keeps {MAX_SAVED_SCREENINGS} saved screenings, the most it may: remove some first"
        )
    screening_id = new_id("SS")
    await w.rows(
        "CREATE (s:SavedScreening {id: $id, agency: $agency}) SET s += $fields, s.createdAt = datetime()",
        id=screening_id, fields={k: v for k, v in fields.items() if v is not None},
    )  # fmt: skip
    return [screening_id]


async def remove_saved_screening(w: Work, screening_id: str) -> list[str]:
    removed = await w.rows(
        "MATCH (s:SavedScreening {id: $id, agency: $agency}) DELETE s RETURN count(*) AS n", id=screening_id
    )
    if not removed or not removed[0]["n"]:
        raise not_found("SavedScreening", screening_id)  # another agency's reads as missing
    return [screening_id]


@dataclass(frozen=True)
class Interest:
    """What one agency asks alerts about, as stored now, each with when it was created."""

    watched: dict[str, Any]  # person id -> createdAt (graph time)
    screenings: dict[str, tuple[Identity, Any]]  # id -> (identity, createdAt)


_INTEREST = (
    "CALL () { MATCH (w:Watch {agency: $agency}) RETURN collect([w.personId, w.createdAt]) AS watched } "
    "CALL () { MATCH (s:SavedScreening {agency: $agency}) RETURN collect(properties(s)) AS screenings } "
    "RETURN watched, screenings"
)


async def interest(graph: Graph, agency: str) -> Interest:
    rows = await graph.read(_INTEREST, {"agency": agency})
    screenings = {}
    for s in rows[0]["screenings"]:
        born = s.get("dateOfBirth")
        who = Identity(
            s["familyName"], s.get("givenNames"), born.to_native() if born is not None else None,
            s.get("nationality"), s.get("documentNumber"),
        )  # fmt: skip
        screenings[s["id"]] = (who, s["createdAt"])
    return Interest({p: at for p, at in rows[0]["watched"]}, screenings)
