"""`python -m bench.identity_links`: how well does multiple-identity detection find the seed's
planted duplicates, and how long does `gateway identity-scan` take?

Seeds BENCH_PERSONS persons (100,000 by default; seed BENCH_SEED, 1) into a Neo4j of its own,
kept per size in .local/bench-identity-<N>, removes any identity links, runs the scan twice
(the second must write nothing) and compares the candidate links with the generator's ground
truth (``seed.generator.planted_duplicates``): precision (links that join a planted pair, out
of all links), recall (planted pairs linked, out of all), recall per kind of name change, for
moved birth dates and for shared documents, and a few unplanted links to look at.
"""

from __future__ import annotations

import os
import time
from collections import Counter

from neo4j import GraphDatabase, NotificationMinimumSeverity

from gateway.cypher.identity import pair_key
from gateway.neo4j_local import LocalNeo4j
from gateway.settings import LOCAL_DIR
from gateway.store.identity import scan
from graph_schema import migrations
from seed.generator import planted_duplicates
from seed.loader import SeedRefused, load
from tests.conftest import free_port

PERSONS = int(os.environ.get("BENCH_PERSONS", "100000"))
BENCH_AUDIT_KEY = b"bench-identity-links"  # the scan signs its audit events (R15)
SEED = int(os.environ.get("BENCH_SEED", "1"))


def main() -> None:
    server = LocalNeo4j(home=LOCAL_DIR / f"bench-identity-{PERSONS}", lib=LOCAL_DIR / "neo4j-lib",
                        bolt_port=free_port(), http_port=free_port(), heap="2g", pagecache="2g")  # fmt: skip
    server.start()
    try:
        auth = ("neo4j", server.password())
        with GraphDatabase.driver(server.bolt_uri, auth=auth, notifications_min_severity=NotificationMinimumSeverity.OFF) as driver:
            migrations.apply(driver)
            try:
                print(load(driver, PERSONS, SEED, progress=True), flush=True)
            except SeedRefused:
                print(load(driver, PERSONS, SEED, reset=True, progress=True), flush=True)
            driver.execute_query(
                "MATCH (x:IdentityLink) CALL (x) { DETACH DELETE x } IN TRANSACTIONS OF 5000 ROWS"
            )
            first = scan(driver, BENCH_AUDIT_KEY)
            print(f"first scan:  {first}", flush=True)
            second = scan(driver, BENCH_AUDIT_KEY)
            print(f"second scan: {second}", flush=True)
            records, _, _ = driver.execute_query(
                "MATCH (x:IdentityLink) RETURN x.key AS key, x.score AS score, x.criteria AS criteria"
            )
            sample = driver.execute_query(
                "MATCH (x:IdentityLink) WHERE x.key IN $keys MATCH (x)-[:LINKS]->(p:Person) "
                "RETURN x.key AS key, x.criteria AS criteria, collect(p.givenNames + ' ' + p.familyName + ' ' + "
                "toString(p.dateOfBirth)) AS persons LIMIT 8",
                keys=[r["key"] for r in records],
            )  # fmt: skip
            started = time.perf_counter()
            truth = planted_duplicates(PERSONS, SEED)
            print(f"ground truth: {len(truth):,} planted duplicates ({time.perf_counter() - started:.1f}s)")
            report(records, truth, sample.records)
    finally:
        server.stop()


def report(records: list, truth: list, sample: list) -> None:  # type: ignore[type-arg]
    """Precision counts a link as right when its two persons are records of one person: an
    original and its duplicate, or two duplicates of the same original."""
    links = {r["key"] for r in records}
    planted = {pair_key(d.original, d.duplicate): d for d in truth}
    same = {d.duplicate: d.original for d in truth}
    right = {k for k in links if len({same.get(p, p) for p in k.split("|")}) == 1}
    found = links & set(planted)
    print(f"links: {len(links):,}; right: {len(right):,}; planted pairs linked: {len(found):,} of {len(planted):,}")
    print(f"precision {len(right) / max(len(links), 1):.3f}  recall {len(found) / max(len(planted), 1):.3f}")
    for name, key in (
        ("name change", lambda d: d.change),
        ("birth date moved", lambda d: d.birth_moved),
        ("shared document", lambda d: d.shared_document),
    ):
        total = Counter(key(d) for d in truth)
        hit = Counter(key(d) for k, d in planted.items() if k in found)
        print(f"recall by {name}: " + ", ".join(f"{v}: {hit[v]}/{n} ({hit[v] / n:.2f})" for v, n in sorted(total.items())))
    criteria = Counter(tuple(sorted(r["criteria"])) for r in records if r["key"] not in right)
    print("wrong links by criteria:", criteria.most_common(6))
    for r in sample:
        if r["key"] not in right:
            print("  wrong:", r["criteria"], r["persons"])


if __name__ == "__main__":
    main()
