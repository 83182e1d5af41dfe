"""Identity links: detection when a person is written, and the scan over the whole graph.

``detect`` runs inside the write transaction of ``createPerson``, ``updatePerson`` and
``addTravelDocument``: the person and its candidate links commit together or not at all.
``scan`` (``gateway identity-scan``) runs the same look-up and the same scoring over every
person in batches, one transaction per batch; a link is keyed by its pair of persons, so a
second scan creates nothing new. Scoring is ``gateway.store.identity_match``; the
statements are ``gateway.cypher.identity``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from neo4j import Driver, ManagedTransaction

from gateway.cypher.identity import CANDIDATES, PERSONS, RETIRE, UPSERT, name_query, pair_key
from gateway.store import audit
from gateway.store.identity_match import Match, best, compare

Rows = Callable[..., Awaitable[list[dict[str, Any]]]]

SCAN_BATCH = 1_000


def new_link_id() -> str:
    return f"IL-{uuid.uuid4().hex[:12].upper()}"


def _links(person_id: str, found: list[tuple[str, Match]]) -> list[dict[str, Any]]:
    return [
        {"key": pair_key(person_id, other), "id": new_link_id(), "a": person_id, "b": other,
         "criteria": [c.value for c in m.criteria], "score": m.score}
        for other, m in found
    ]  # fmt: skip


async def detect(rows: Rows, person_id: str) -> list[str]:
    """Compare one person with the records it may be the same as, write its candidate links
    and retire its candidates that no longer match; the ids of the links written or retired.
    ``rows`` is ``Work.rows``: the mutation's transaction."""
    found = await rows(PERSONS, ids=[person_id])
    if not found:
        return []
    person = found[0]["person"]
    candidates = await rows(CANDIDATES, rows=[{"id": person_id, "q": name_query(person)}])
    others = candidates[0]["others"] if candidates else []
    keep = [pair_key(person_id, o["id"]) for o in others if compare(person, o).candidate]
    retired = await rows(RETIRE, id=person_id, keep=keep)
    links = _links(person_id, best(person, others))
    written = await rows(UPSERT, links=links) if links else []
    return [r["id"] for r in (*written, *retired)]


@dataclass(frozen=True)
class ScanSummary:
    persons: int
    links_written: int
    links_total: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"compared {self.persons:,} persons in {self.seconds:.1f}s; "
            f"{self.links_written:,} links created or refreshed; {self.links_total:,} identity links in the graph"
        )


SCANNER = "gateway identity-scan"  # the audit's user for the links the scan writes (R15)


def _scan_batch(tx: ManagedTransaction, after: str, size: int, key: bytes) -> tuple[int, int, str]:
    ids = [r["id"] for r in tx.run(
        "MATCH (p:Person) WHERE p.id > $after RETURN p.id AS id ORDER BY p.id LIMIT $n", after=after, n=size
    )]  # fmt: skip
    if not ids:
        return 0, 0, after
    persons = [r["person"] for r in tx.run(PERSONS, ids=ids)]
    rows = [{"id": p["id"], "q": name_query(p)} for p in persons]
    others = {r["id"]: r["others"] for r in tx.run(CANDIDATES, rows=rows)}
    links: dict[str, dict[str, Any]] = {}
    for person in persons:
        for link in _links(person["id"], best(person, others.get(person["id"], []))):
            links.setdefault(link["key"], link)  # a pair is scored alike from either end
    written = [r["id"] for r in tx.run(UPSERT, links=list(links.values()))] if links else []
    if written:  # in the same transaction: no link without its event
        event = audit.event(SCANNER, None, "identityScan", None, [f"IdentityLink:{i}" for i in written], None)
        audit.append_sync(tx, [event], key)
    return len(ids), len(written), ids[-1]


def scan(
    driver: Driver, key: bytes, database: str | None = None, batch: int = SCAN_BATCH,
    advance: Callable[[int], None] = lambda n: None,
) -> ScanSummary:  # fmt: skip
    """Compare every person with the records it may be the same as, ``batch`` persons per
    transaction, in id order; ``advance`` hears how many persons each batch compared. Each
    batch that writes links records one audit event naming them, signed with ``key``."""
    started = time.perf_counter()
    after, persons, written = "", 0, 0
    with driver.session(database=database) as session:
        while True:
            done, wrote, after = session.execute_write(_scan_batch, after, batch, key)
            if not done:
                break
            persons, written = persons + done, written + wrote
            advance(done)
        total = session.run("MATCH (x:IdentityLink) RETURN count(x) AS n").single()
    return ScanSummary(persons, written, int(total["n"]) if total else 0, time.perf_counter() - started)


def count_persons(driver: Driver, database: str | None = None) -> int:
    records, _, _ = driver.execute_query("MATCH (p:Person) RETURN count(p) AS n", database_=database)
    return int(records[0]["n"])
