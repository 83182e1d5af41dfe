"""`make bench`: the gateway against hand-written Cypher on the same driver and graph.

Seeds 100,000 persons into a Neo4j of its own (kept in .local/bench-neo4j, so later runs
reuse it), starts a gateway process, and for each query and concurrency level measures p50
and p99 latency and throughput through HTTP and through the driver directly, then prints
the ratio gateway/Cypher, and gateway/(Cypher plus the one durable access record that R15
asks of any client, written by hand). Every request is checked for errors: a failing query stops the run.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from neo4j import AsyncGraphDatabase, GraphDatabase, NotificationMinimumSeverity

from bench.queries import AGENCY, CASES, COUNTRY
from gateway.http.auth import mint
from gateway.neo4j_local import LocalNeo4j
from gateway.settings import LOCAL_DIR, Settings
from graph_schema import migrations
from seed.loader import load
from tests.conftest import GatewayProcess, free_port

PERSONS = int(os.environ.get("BENCH_PERSONS", "100000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
LEVELS = (1, 4, 16)
AUDIT_INSERT = "CREATE (:BenchAccess {agency: $agency, at: $at})"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(call: Callable[[int], Awaitable[None]], concurrency: int) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, requests/s) over REQUESTS calls at the given concurrency."""
    latencies: list[float] = []
    counter = iter(range(REQUESTS))

    async def worker() -> None:
        for i in counter:
            start = time.perf_counter()
            await call(i)
            latencies.append((time.perf_counter() - start) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    return statistics.median(latencies), percentile(latencies, 0.99), REQUESTS / elapsed


async def bench(url: str, uri: str, password: str, subjects: list[str]) -> None:
    settings = Settings(GATEWAY_JWT_SECRET="bench-secret-" + "y" * 40, GATEWAY_ENV="development")  # type: ignore[call-arg]
    token = mint(settings, AGENCY, "bench", 3600)
    driver = AsyncGraphDatabase.driver(uri, auth=("neo4j", password),
                                       notifications_min_severity=NotificationMinimumSeverity.OFF)  # fmt: skip
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=64)) as http:
        print(f"{'query':36} {'conc':>4} | {'gw p50':>7} {'gw p99':>7} {'gw rps':>7} | "
              f"{'cy p50':>7} {'cy p99':>7} {'cy rps':>7} | {'cy+audit p50':>12} | "
              f"{'gw/cy':>6} {'gw/cy+audit':>11}")  # fmt: skip
        for case in CASES:

            async def via_gateway(i: int, case=case) -> None:
                r = await http.post(
                    f"{url}/graphql",
                    json={"query": case.graphql, "variables": case.variables(subjects[i % len(subjects)])},
                    headers={"Authorization": f"Bearer {token}", "X-Purpose": case.purpose},
                )
                body = r.json()
                if r.status_code != 200 or body.get("errors"):
                    raise SystemExit(f"{case.name}: {body}")

            async def via_cypher(i: int, case=case) -> None:
                params = {"country": COUNTRY, **case.variables(subjects[i % len(subjects)])}
                await driver.execute_query(case.cypher, params, routing_="r")

            async def via_cypher_audited(i: int, case=case) -> None:
                # What a hand-written client owes R15 too: a durable access record per read.
                await via_cypher(i)
                await driver.execute_query(AUDIT_INSERT, agency=AGENCY, at=time.time_ns())

            for level in LEVELS:
                await via_gateway(0), await via_cypher(0)  # warm the plan caches
                g = await measure(via_gateway, level)
                c = await measure(via_cypher, level)
                a = await measure(via_cypher_audited, level)
                print(f"{case.name:36} {level:>4} | {g[0]:7.1f} {g[1]:7.1f} {g[2]:7.0f} | "
                      f"{c[0]:7.1f} {c[1]:7.1f} {c[2]:7.0f} | {a[0]:12.1f} | "
                      f"{g[0] / c[0]:5.2f}x {g[0] / a[0]:10.2f}x", flush=True)  # fmt: skip
        await driver.execute_query("MATCH (b:BenchAccess) DELETE b")
        await side_channel(http, url, token, driver)
    await driver.close()


async def side_channel(http: httpx.AsyncClient, url: str, token: str, driver: Any) -> None:
    """R17 in time: a look-up of a record hidden from the caller against one of a missing id."""
    hidden_ids = [r["id"] for r in (await driver.execute_query(
        "MATCH (p:Person)-[:RECORDED_BY]->(:Agency)-[:OF_COUNTRY]->(c:Country) WHERE c.code <> $country "
        "AND NOT EXISTS { (p)<-[:CONCERNS]-() } AND NOT EXISTS { (p)-[:APPLIED_FOR]->() } "
        "RETURN p.id AS id LIMIT 100", country=COUNTRY)).records]  # fmt: skip
    query = "query($id: ID!) { person(id: $id) { id familyName notices { id } } }"

    async def look_up(ids: list[str]) -> list[float]:
        times = []
        for person in ids:
            began = time.perf_counter()
            r = await http.post(f"{url}/graphql", json={"query": query, "variables": {"id": person}},
                                headers={"Authorization": f"Bearer {token}", "X-Purpose": "INVESTIGATION"})  # fmt: skip
            times.append((time.perf_counter() - began) * 1000)
            if r.json()["data"]["person"] is not None:
                raise SystemExit(f"{person} was expected to be hidden or missing")
        return times

    missing_ids = [f"P-NONE-{i:06d}" for i in range(len(hidden_ids))]
    await look_up(hidden_ids[:10]), await look_up(missing_ids[:10])
    hidden, missing = [], []
    for _ in range(3):  # interleaved rounds, so that drift hits both alike
        hidden += await look_up(hidden_ids)
        missing += await look_up(missing_ids)
    print(f"\nR17 look-ups answering null (n={len(hidden)} each): hidden p50 {statistics.median(hidden):.1f} ms, "
          f"p99 {percentile(hidden, 0.99):.1f} ms; missing p50 {statistics.median(missing):.1f} ms, "
          f"p99 {percentile(missing, 0.99):.1f} ms")  # fmt: skip


def main() -> None:
    server = LocalNeo4j(home=LOCAL_DIR / "bench-neo4j", lib=LOCAL_DIR / "neo4j-lib",
                        bolt_port=free_port(), http_port=free_port(), heap="3g", pagecache="3g")  # fmt: skip
    server.start()
    try:
        with GraphDatabase.driver(server.bolt_uri, auth=("neo4j", server.password())) as driver:
            migrations.apply(driver)
            summary = load(driver, PERSONS, 1, progress=True)
            print(summary)
            rows = driver.execute_query(
                "MATCH (p:Person)<-[:CONCERNS]-(:Notice) WITH DISTINCT p LIMIT 500 RETURN p.id AS id"
            ).records
        subjects = [r["id"] for r in rows]
        random.Random(1).shuffle(subjects)
        env = {**os.environ, "NEO4J_URI": server.bolt_uri, "NEO4J_PASSWORD": server.password(),
               "GATEWAY_JWT_SECRET": "bench-secret-" + "y" * 40, "GATEWAY_PLAYGROUND": "false",
               # HS256 bench tokens need development mode; one client address needs no limits.
               "GATEWAY_ENV": "development", "GATEWAY_RATE_PER_ADDRESS": "0", "GATEWAY_RATE_PER_AGENCY": "0"}  # fmt: skip
        gateway = GatewayProcess(env)
        try:
            print(f"{PERSONS:,} persons; {REQUESTS} requests per query and level; caller {AGENCY}")
            asyncio.run(bench(gateway.url, server.bolt_uri, server.password(), subjects))
        finally:
            gateway.stop()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
