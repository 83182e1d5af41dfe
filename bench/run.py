"""`make bench`: the gateway, the peer (the Neo4j GraphQL Library on Apollo Server), the
hand-written Cypher and the hand-written Cypher plus one durable access record per request
(what R15 asks of any client), side by side on one Neo4j, in interleaved rounds.

1. Seeds BENCH_PERSONS persons (default 100,000) into a Neo4j kept per size in
   .local/bench-neo4j-N, and picks the inputs: subjects visible to the caller and subjects
   hidden from it (reported apart: the gateway answers a hidden one no sooner than R17's
   floor), notice filters and family names.
2. Checks that every system returns the same records (ids) for BENCH_CHECK inputs per
   query; an input on which they differ is reported and left out of the timing.
3. PROFILEs one request of each query per system: the db hits of every read statement it
   sent (captured on the wire for the two GraphQL servers).
4. Times each query at concurrency 1, 4 and 16, every system for BENCH_SECONDS per round,
   in BENCH_ROUNDS rounds ordered A B B A …; CPU per request of each server process and of
   Neo4j comes from /proc.
5. Prints the tables and writes bench/results.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
from neo4j import AsyncDriver, AsyncGraphDatabase, GraphDatabase, NotificationMinimumSeverity

from bench import stats, tables
from bench.processes import REPO_ROOT, GatewayProcess, PeerProcess, bench_neo4j, cpu_seconds, rss_mb
from bench.profile import profile_cypher, profile_server
from bench.queries import AGENCY, CASES, COUNTRY, KIND, Case, Ids, person_ok
from gateway.cypher.names import lucene_query
from gateway.http.auth import mint
from gateway.settings import Settings
from graph_schema import migrations
from graph_schema.model import NoticeType
from seed.loader import load

PERSONS = int(os.environ.get("BENCH_PERSONS", "100000"))
ROUNDS = max(1, int(os.environ.get("BENCH_ROUNDS", "3")))
SECONDS = float(os.environ.get("BENCH_SECONDS", "2.5"))
CHECK = int(os.environ.get("BENCH_CHECK", "20"))
LEVELS = tuple(int(x) for x in os.environ.get("BENCH_LEVELS", "1,4,16").split(","))
ALL_SYSTEMS = ("gateway", "gateway+journal", "peer", "cypher", "cypher+audit", "cypher+journal")
# The gateway always runs: the others are checked against it (e.g. BENCH_SYSTEMS=gateway,cypher
# for a scaling curve).
SYSTEMS = tuple(
    s
    for s in ALL_SYSTEMS
    if s == "gateway" or s in os.environ.get("BENCH_SYSTEMS", ",".join(ALL_SYSTEMS)).split(",")
)
RESULTS = Path(os.environ.get("BENCH_RESULTS", REPO_ROOT / "bench" / "results.json")).resolve()
SECRET = "bench-secret-" + "y" * 40
AUDIT_INSERT = (
    "CREATE (:BenchAccess {agency: $agency, user: 'bench', at: datetime(), operation: $operation, "
    "purpose: $purpose, ids: $ids, hit: size($ids) > 0})"
)

EXPIRE = (
    "MATCH (n:Notice {status: 'PUBLISHED'}) WHERE n.expiresAt <= datetime() "
    "SET n.status = 'EXPIRED' RETURN count(n) AS n"
)

Call = Callable[[Case, dict[str, Any]], Awaitable[Ids]]
Plan = list[tuple[Case, str, list[dict[str, Any]]]]
Hits = dict[tuple[str, str, str], dict[str, int]]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Systems:
    """One call per system: send the query, fail loudly on any error, return the record ids."""

    def __init__(
        self, http: httpx.AsyncClient, driver: AsyncDriver, gateway: str, peer: str, journal: str = ""
    ) -> None:
        self.http, self.driver, self.peer_url = http, driver, peer
        self.urls = {"gateway": gateway, "gateway+journal": journal}
        self.journal_fd = -1  # cypher+journal's file, opened by bench()
        settings = Settings(GATEWAY_JWT_SECRET=SECRET, GATEWAY_ENV="development")  # type: ignore[call-arg]
        self.gateway_token = mint(settings, AGENCY, "bench", 4 * 3600)
        now = int(time.time())
        self.peer_token = jwt.encode({"sub": "bench", "agency": AGENCY, "kind": KIND, "country": COUNTRY,
                                      "iat": now, "exp": now + 4 * 3600}, SECRET, algorithm="HS256")  # fmt: skip

    def call(self, system: str) -> Call:
        if system in self.urls:
            return lambda case, given: self.gateway(case, given, self.urls[system])
        return {"peer": self.peer, "cypher": self.cypher, "cypher+audit": self.cypher_audited,
                "cypher+journal": self.cypher_journaled}[system]  # fmt: skip

    async def _graphql(self, url: str, query: str, variables: dict[str, Any], headers: dict[str, str]) -> Any:
        r = await self.http.post(url, json={"query": query, "variables": variables}, headers=headers)
        body = r.json()
        if r.status_code != 200 or body.get("errors"):
            raise SystemExit(f"{url} answered {r.status_code}: {json.dumps(body)[:500]}")
        return body["data"]

    async def gateway(self, case: Case, given: dict[str, Any], url: str) -> Ids:
        headers = {"Authorization": f"Bearer {self.gateway_token}", "X-Purpose": case.purpose}
        return case.gateway_ids(
            await self._graphql(f"{url}/graphql", case.gateway, case.gateway_variables(given), headers)
        )

    async def peer(self, case: Case, given: dict[str, Any]) -> Ids:
        headers = {"Authorization": f"Bearer {self.peer_token}"}
        return case.peer_ids(
            await self._graphql(self.peer_url, case.peer, case.peer_variables(given), headers)
        )

    async def cypher(self, case: Case, given: dict[str, Any]) -> Ids:
        records, _, _ = await self.driver.execute_query(
            case.cypher, {"country": COUNTRY, **given}, routing_="r"
        )
        return case.cypher_ids([r.data() for r in records])

    async def cypher_journaled(self, case: Case, given: dict[str, Any]) -> Ids:
        ids = await self.cypher(case, given)
        # The same record appended to a local file and fdatasync'd before the answer is used:
        # the floor for the gateway's journal.
        line = json.dumps({"agency": AGENCY, "at": time.time(), "operation": case.name, "purpose": case.purpose,
                           "ids": [str(i) for i in ids]}).encode() + b"\n"  # fmt: skip
        await asyncio.to_thread(_append_durably, self.journal_fd, line)
        return ids

    async def cypher_audited(self, case: Case, given: dict[str, Any]) -> Ids:
        ids = await self.cypher(case, given)
        # Committed (durable) before the answer is used, as R15 asks.
        await self.driver.execute_query(AUDIT_INSERT, agency=AGENCY, operation=case.name,
                                        purpose=case.purpose, ids=[str(i) for i in ids])  # fmt: skip
        return ids


def _append_durably(fd: int, line: bytes) -> None:
    os.write(fd, line)
    os.fdatasync(fd)


# --- inputs ----------------------------------------------------------------------------


def pick_inputs(driver: Any) -> dict[str, list[dict[str, Any]]]:
    """Subjects (persons with a notice, a diffusion or a link) split by what the caller may
    see, notice filters, and family names; deterministic for a given graph."""
    rng = random.Random(1)
    ids = [r["id"] for r in driver.execute_query(
        "MATCH (p:Person) WHERE EXISTS { (p)<-[:CONCERNS]-() } OR EXISTS { (p)-[:ASSOCIATE_OF]-() } "
        "RETURN p.id AS id ORDER BY id").records]  # fmt: skip
    rng.shuffle(ids)
    flags = driver.execute_query(
        f"UNWIND $ids AS id MATCH (p:Person {{id: id}}) RETURN id, {person_ok('p')} AS visible",
        ids=ids[: 40 * CHECK],
        country=COUNTRY,
    ).records
    visible = [{"id": r["id"]} for r in flags if r["visible"]][:CHECK]
    hidden = [{"id": r["id"]} for r in flags if not r["visible"]][:CHECK]
    filters = [{"type": t.value, "first": f} for f in (20, 10, 50) for t in NoticeType][:CHECK]
    names = sorted({r["n"] for r in driver.execute_query(
        "MATCH (p:Person) WHERE p.familyName IS NOT NULL RETURN DISTINCT p.familyName AS n").records})  # fmt: skip
    rng.shuffle(names)
    return {
        "visible": visible, "hidden": hidden, "filters": filters,
        "names": [{"name": n, "phrase": lucene_query(n)} for n in names[:CHECK]],
    }  # fmt: skip


def series(inputs: dict[str, list[dict[str, Any]]]) -> Plan:
    """(query, input family, inputs) in the order they are measured."""
    out = []
    for case in CASES:
        families = ("visible", "hidden") if case.inputs == "subjects" else (case.inputs,)
        out += [(case, family, inputs[family]) for family in families]
    return out


# --- the check, the timing --------------------------------------------------------------


async def check(systems: Systems, plan: Plan) -> Plan:
    """Keep the inputs on which every system returns the records the gateway returns."""
    kept = []
    for case, family, given in plan:
        agreed, empty = [], 0
        for item in given:
            answers = {s: await systems.call(s)(case, item) for s in SYSTEMS}
            if all(a == answers["gateway"] for a in answers.values()):
                agreed.append(item)
                empty += not answers["gateway"]
            else:
                diff = {s: a for s, a in answers.items() if a != answers["gateway"]}
                log(f"MISMATCH {case.name} [{family}] {item}: gateway {answers['gateway'][:8]} vs "
                    + ", ".join(f"{s} {a[:8]}" for s, a in diff.items()))  # fmt: skip
        log(f"check {case.name} [{family}]: {len(agreed)}/{len(given)} inputs agree ({empty} empty answers)")
        if not agreed:
            raise SystemExit(f"no input of {case.name} [{family}] gives the same records on every system")
        kept.append((case, family, agreed))
    return kept


async def measure(call: Call, case: Case, given: list[dict[str, Any]], concurrency: int,
                  pids: list[int], neo4j_pid: int) -> tuple[float, list[float], float | None, float, float | None]:  # fmt: skip
    """Run for SECONDS at the given concurrency: (elapsed s, latencies ms, server CPU s,
    Neo4j CPU s, server resident memory MB after the run)."""
    latencies: list[float] = []
    counter = iter(range(10**9))
    deadline = time.perf_counter() + SECONDS

    async def worker() -> None:
        for i in counter:
            if time.perf_counter() > deadline:
                return
            start = time.perf_counter()
            await call(case, given[i % len(given)])
            latencies.append((time.perf_counter() - start) * 1000)

    cpu = [cpu_seconds(p) for p in pids]
    neo = cpu_seconds(neo4j_pid)
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    server = sum(cpu_seconds(p) - c for p, c in zip(pids, cpu, strict=True)) if pids else None
    rss = sum(rss_mb(p) for p in pids) if pids else None
    return elapsed, latencies, server, cpu_seconds(neo4j_pid) - neo, rss


async def bench(gateway: GatewayProcess, journaled: GatewayProcess | None, peer: PeerProcess | None, bolt: str,
                password: str, neo4j_pid: int,
                inputs: dict[str, list[dict[str, Any]]]) -> tuple[list[stats.Sample], Hits, Plan]:  # fmt: skip
    driver = AsyncGraphDatabase.driver(bolt, auth=("neo4j", password), max_connection_pool_size=64,
                                       notifications_min_severity=NotificationMinimumSeverity.OFF)  # fmt: skip
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        systems = Systems(http, driver, gateway.url, peer.url if peer else "", journaled.url if journaled else "")
        journal_file = tempfile.NamedTemporaryFile(prefix="bench-cypher-journal-")  # noqa: SIM115
        systems.journal_fd = os.open(journal_file.name, os.O_WRONLY | os.O_APPEND)
        plan = series(inputs)
        log("warming up (plans, caches, JIT)")
        for case, _family, given in plan:
            for s in SYSTEMS:
                for item in given[:3]:
                    await systems.call(s)(case, item)
        log(f"checking that every system returns the same records ({CHECK} inputs per query)")
        plan = await check(systems, plan)

        log("PROFILE: db hits per request")
        hits: Hits = {}
        for case, family, given in plan:
            hits[(case.name, family, "cypher")] = await profile_cypher(
                driver, case.cypher, {"country": COUNTRY, **given[0]}
            )
        await driver.execute_query("MATCH (b:BenchAccess) DETACH DELETE b")

        pids = {
            "gateway": [gateway.pid],
            "gateway+journal": [journaled.pid] if journaled else [],
            "peer": [peer.pid] if peer else [],
            "cypher": [],
            "cypher+audit": [],
            "cypher+journal": [],
        }
        samples: list[stats.Sample] = []
        total = len(plan) * len(LEVELS) * ROUNDS * len(SYSTEMS)
        log(f"timing: {total} runs of {SECONDS:g} s (≈{total * SECONDS / 60:.0f} min)")
        done = 0
        for case, family, given in plan:
            for level in LEVELS:
                for r in range(ROUNDS):
                    for system in stats.round_order(SYSTEMS, r):
                        elapsed, latencies, server, neo, rss = await measure(
                            systems.call(system), case, given, level, pids[system], neo4j_pid
                        )
                        samples.append(stats.Sample(case.name, family, level, system, r, elapsed, latencies,
                                                    server, neo, rss))  # fmt: skip
                        done += 1
                now = [x for x in samples if (x.query, x.inputs, x.concurrency) == (case.name, family, level)]
                rps = {sy: stats.spread(x.rps for x in now if x.system == sy).median for sy in SYSTEMS}
                log(f"{done}/{total} {case.name} [{family}] c={level}: "
                    + "  ".join(f"{sy} {v:.0f}/s" for sy, v in rps.items()))  # fmt: skip
        await driver.execute_query("MATCH (b:BenchAccess) DETACH DELETE b")
        os.close(systems.journal_fd)
        journal_file.close()
    await driver.close()
    return samples, hits, plan


def graphql_senders(system: str, plan: Plan) -> list[tuple[str, str, Callable[[str], None]]]:
    """One synchronous request per (query, inputs) for the profiling instances."""
    probe = Systems(httpx.AsyncClient(), None, "", "")  # type: ignore[arg-type]  # tokens only
    out: list[tuple[str, str, Callable[[str], None]]] = []
    for case, family, given in plan:
        if system == "gateway":
            headers = {"Authorization": f"Bearer {probe.gateway_token}", "X-Purpose": case.purpose}
            body = {"query": case.gateway, "variables": case.gateway_variables(given[0])}
        else:
            headers = {"Authorization": f"Bearer {probe.peer_token}"}
            body = {"query": case.peer, "variables": case.peer_variables(given[0])}

        def send(
            url: str, body: dict[str, Any] = body, headers: dict[str, str] = headers, system: str = system
        ) -> None:
            r = httpx.post(
                f"{url}/graphql" if system == "gateway" else url, json=body, headers=headers, timeout=60
            )
            if r.status_code != 200 or r.json().get("errors"):
                raise SystemExit(f"profiling {system}: {r.text[:300]}")

        out.append((case.name, family, send))
    return out


def main() -> None:
    server = bench_neo4j(PERSONS)
    log(f"Neo4j in {server.home} (heap {server.heap}, page cache {server.pagecache})")
    server.start()
    gateway: GatewayProcess | None = None
    journaled: GatewayProcess | None = None
    peer: PeerProcess | None = None
    journal_dir = tempfile.TemporaryDirectory(prefix="bench-audit-journal-")
    try:
        password = server.password()
        with GraphDatabase.driver(server.bolt_uri, auth=("neo4j", password),
                                  notifications_min_severity=NotificationMinimumSeverity.OFF) as driver:  # fmt: skip
            migrations.apply(driver)
            log(str(load(driver, PERSONS, 1, progress=True)))
            # R14 as a deployment runs it: a job marks published notices past their expiry
            # EXPIRED. The seed is dated; the peer's rules cannot judge expiry at request time.
            expired = driver.execute_query(EXPIRE).records[0]["n"]
            log(f"expiry job: {expired} published notices past expiry marked EXPIRED")
            inputs = pick_inputs(driver)
        env = {**os.environ, "NEO4J_URI": server.bolt_uri, "NEO4J_PASSWORD": password}
        gateway_env = {**env, "GATEWAY_JWT_SECRET": SECRET,
                       # HS256 bench tokens need development mode; everything else as in
                       # production: no playground, introspection or suggestions, and no rate
                       # limits (one client address sends everything).
                       "GATEWAY_ENV": "development", "GATEWAY_PLAYGROUND": "false", "GATEWAY_INTROSPECTION": "false",
                       "GATEWAY_FIELD_SUGGESTIONS": "false", "GATEWAY_RATE_PER_ADDRESS": "0", "GATEWAY_RATE_PER_AGENCY": "0"}  # fmt: skip
        gateway = GatewayProcess(gateway_env)
        if "gateway+journal" in SYSTEMS:
            # The same gateway with read events fsync'd to a local journal (GATEWAY_AUDIT_JOURNAL).
            journaled = GatewayProcess({**gateway_env, "GATEWAY_AUDIT_JOURNAL": journal_dir.name})
        peer_env = {**env, "PEER_JWT_SECRET": SECRET}
        peer = PeerProcess(peer_env) if "peer" in SYSTEMS else None
        log(f"systems {', '.join(SYSTEMS)}; gateway pid {gateway.pid}, peer pid {peer.pid if peer else '-'}, Neo4j pid {server.status().pid}; "
            f"{PERSONS:,} persons; caller {AGENCY}; {ROUNDS} rounds of {SECONDS:g} s; concurrency {LEVELS}")  # fmt: skip
        samples, hits, plan = asyncio.run(
            bench(gateway, journaled, peer, server.bolt_uri, password, server.status().pid or 0, inputs)
        )
        gateway.stop()
        if journaled is not None:
            journaled.stop()
        log("PROFILE: the GraphQL servers behind a Bolt tap")
        hits.update(profile_server("gateway", GatewayProcess, gateway_env, server.bolt_port, password,
                                   graphql_senders("gateway", plan)))  # fmt: skip
        if peer is not None:
            peer.stop()
            log(f"peer: {Path(peer.log.name).read_text().strip().splitlines()[-1]}")
            hits.update(profile_server("peer", PeerProcess, peer_env, server.bolt_port, password,
                                       graphql_senders("peer", plan)))  # fmt: skip
    finally:
        for process in (gateway, journaled, peer):
            if process is not None:
                process.stop()
        server.stop()
        journal_dir.cleanup()
    rows = stats.results(samples)
    RESULTS.write_text(json.dumps(rows, indent=1) + "\n")
    tables.print_all(samples, rows, hits, PERSONS, ROUNDS, SECONDS)
    log(f"wrote {RESULTS} ({len(rows)} rows)")


if __name__ == "__main__":
    main()
