"""Faults: Neo4j killed under a write load, an audit log that cannot be written, a shutdown
with requests waiting. Nothing acknowledged is lost, nothing is written twice, and every
failure is told as what it is."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from neo4j import AsyncGraphDatabase, GraphDatabase

from gateway.errors import Code, GatewayError
from gateway.graphql.context import Context
from gateway.graphql.mutations import _audit_refusal
from gateway.neo4j_local import LocalNeo4j
from gateway.rules.caller import PUBLIC
from gateway.settings import LOCAL_DIR, REPO_ROOT
from gateway.store import audit
from gateway.store.db import Graph
from graph_schema import migrations
from tests.conftest import GatewayProcess, free_port, gateway_env, token

CONCURRENCY = 8
# A restarted Neo4j plans every statement afresh; on a loaded machine that took a minute per
# statement, so the bound proves recovery (no time-out loop), and the figure is reported.
RECOVERY_BOUND = 300
FAILED_CODES = {Code.SERVICE_UNAVAILABLE.value, Code.COMMIT_OUTCOME_UNKNOWN.value}
CREATE = """mutation($input: PersonInput!, $key: String!) {
  createPerson(input: $input, idempotencyKey: $key) { id } }"""


# --- Without Neo4j: failures of the audit log are told, never swallowed ---------------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a server that hangs)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_a_refusal_that_cannot_be_audited_is_service_unavailable_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def refuse() -> None:
        driver = AsyncGraphDatabase.driver(f"bolt://127.0.0.1:{free_port()}", auth=("neo4j", "x"))
        try:
            graph = Graph(driver, None, timeout=2.0)
            ctx = Context(caller=PUBLIC, purpose=None, graph=graph, schema=None)  # type: ignore[arg-type]
            event = audit.event("u", "ncb-fr", "mutation:cancelNotice", None, [], None, "REFUSED:FORBIDDEN")
            await _audit_refusal(ctx, event)
        finally:
            await driver.close()

    with pytest.raises(GatewayError) as raised:
        asyncio.run(refuse())
    assert raised.value.code == Code.SERVICE_UNAVAILABLE
    assert any("could not be recorded" in r.getMessage() for r in caplog.records)


def test_the_audit_writers_shutdown_resolves_every_waiting_request(silent_port: int) -> None:
    async def scenario() -> list[BaseException | None]:
        driver = AsyncGraphDatabase.driver(f"bolt://127.0.0.1:{silent_port}", auth=("neo4j", "x"))
        log = audit.AuditLog(driver, None, b"k", timeout=30.0)
        waiting = [
            asyncio.create_task(log.record(audit.event("u", "a", "op", None, [], None))) for _ in range(5)
        ]
        await asyncio.sleep(0.3)  # the writer is stuck on the silent server
        assert not any(t.done() for t in waiting)
        await log.close()
        results = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), timeout=5)
        with pytest.raises(audit.AuditUnavailable):
            await log.record(audit.event("u", "a", "op", None, [], None))
        await driver.close()
        return list(results)

    results = asyncio.run(scenario())
    assert all(isinstance(r, audit.AuditUnavailable) for r in results)


# --- Neo4j killed under a write load --------------------------------------------------------


@dataclass
class Outcome:
    key: str
    status: int
    code: str | None
    person: str | None
    sent: float
    answered: float


@dataclass
class Load:
    """createPerson with idempotency keys at CONCURRENCY, plus one audited reader."""

    url: str
    auth: dict[str, str]
    outcomes: list[Outcome] = field(default_factory=list)
    reads: list[tuple[int, str | None]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_key: int = 0

    def key(self) -> str:
        with self.lock:
            self.next_key += 1
            return f"fault-{self.next_key:05d}"

    def create(self, http: httpx.Client, key: str) -> Outcome:
        variables = {"input": {"familyName": f"Faultload {key}", "givenNames": "Test"}, "key": key}
        sent = time.monotonic()
        try:
            response = http.post(f"{self.url}/graphql", json={"query": CREATE, "variables": variables})
            body = response.json()
            status = response.status_code
        except httpx.HTTPError as error:
            status, body = 0, {"errors": [{"extensions": {"code": type(error).__name__}}]}
        errors = body.get("errors") or []
        person = ((body.get("data") or {}).get("createPerson") or {}).get("id")
        code = errors[0].get("extensions", {}).get("code") if errors else None
        return Outcome(key, status, code, person, sent, time.monotonic())

    def writer(self) -> None:
        with httpx.Client(headers=self.auth, timeout=90) as http:
            while not self.stop.is_set():
                outcome = self.create(http, self.key())
                with self.lock:
                    self.outcomes.append(outcome)
                if outcome.person is None:
                    time.sleep(0.25)  # a client's back-off

    def reader(self) -> None:
        with httpx.Client(headers=self.auth, timeout=90) as http:
            while not self.stop.is_set():
                try:
                    r = http.post(
                        f"{self.url}/graphql",
                        json={"query": "{ persons(first: 5) { edges { node { id } } } }"},
                    )
                    errors = r.json().get("errors")
                    self.reads.append((r.status_code, errors[0]["extensions"]["code"] if errors else None))
                except httpx.HTTPError as error:
                    self.reads.append((0, type(error).__name__))
                time.sleep(0.05)

    def acknowledged(self) -> list[Outcome]:
        with self.lock:
            return [o for o in self.outcomes if o.person is not None]


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.mark.slow
def test_neo4j_killed_under_a_write_load_loses_nothing_acknowledged_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    server = LocalNeo4j(
        home=tmp_path / "neo4j", lib=LOCAL_DIR / "neo4j-lib", bolt_port=free_port(),
        http_port=free_port(), heap="512m", pagecache="256m",
    )  # fmt: skip
    server.start(timeout=600)
    auth = (server.bolt_uri, "neo4j", server.password())
    gateway: GatewayProcess | None = None
    try:
        with GraphDatabase.driver(server.bolt_uri, auth=auth[1:]) as driver:
            migrations.apply(driver)
            from seed.loader import load as seed

            seed(driver, 20, 1, progress=False)
        # The limits are generous here: the subject is what a fault does, not latency, and
        # eight writers queue on the audit head's lock on a loaded machine.
        gateway = GatewayProcess(gateway_env(auth, GATEWAY_QUERY_TIMEOUT_SECONDS="30"))
        headers = {"Authorization": f"Bearer {token('ncb-fr')}", "X-Purpose": "INVESTIGATION"}
        load = Load(gateway.url, headers)
        threads = [threading.Thread(target=load.writer) for _ in range(CONCURRENCY)]
        threads.append(threading.Thread(target=load.reader))
        for t in threads:
            t.start()
        try:
            wait_for(lambda: len(load.acknowledged()) >= 20, 600, "no write load before the kill")
            pid = server.status().pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            killed = time.monotonic()
            time.sleep(2)  # writes meet the outage
            server.start(timeout=600)
            returned = time.monotonic()
            wait_for(
                lambda: any(o.sent >= returned for o in load.acknowledged()),
                60,
                "no write succeeded after the restart",
            )
            first_success = min(o.answered for o in load.acknowledged() if o.sent >= returned)
            time.sleep(3)  # and the load goes on
        finally:
            load.stop.set()
            for t in threads:
                t.join(timeout=60)

        acknowledged = load.acknowledged()
        failed = [o for o in load.outcomes if o.person is None]
        keys = sorted({o.key for o in load.outcomes})

        # Retry every write, acknowledged or not, with its key until it succeeds.
        deadline = time.monotonic() + 600

        def retry(key: str) -> str | None:
            with httpx.Client(headers=headers, timeout=90) as http:
                while time.monotonic() < deadline:
                    outcome = load.create(http, key)
                    if outcome.person is not None:
                        return outcome.person
                    time.sleep(0.5)
            return None

        with ThreadPoolExecutor(CONCURRENCY) as pool:
            replayed = dict(zip(keys, pool.map(retry, keys), strict=True))
        assert all(replayed.values()), (
            f"{sum(1 for v in replayed.values() if v is None)} writes never succeeded"
        )

        with GraphDatabase.driver(server.bolt_uri, auth=auth[1:]) as driver:
            stored = {
                r["name"]: r["ids"]
                for r in driver.execute_query(
                    "MATCH (p:Person) WHERE p.familyName STARTS WITH 'Faultload ' "
                    "RETURN p.familyName AS name, collect(p.id) AS ids"
                ).records
            }
            duplicated_events = driver.execute_query(
                "MATCH (a:AccessEvent) WITH a.id AS id, count(*) AS n WHERE n > 1 RETURN count(*) AS c"
            ).records[0]["c"]
        verify = subprocess.run(
            [sys.executable, "-m", "gateway", "audit", "verify"], cwd=REPO_ROOT, env=gateway_env(auth),
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

        figures = {
            "acknowledged": len(acknowledged),
            "failed_by_code": dict(Counter(f"{o.code} ({o.status})" for o in failed)),
            "reads_failed_by_code": dict(Counter(f"{c} ({s})" for s, c in load.reads if c)),
            "reads_ok": sum(1 for _, c in load.reads if c is None),
            "neo4j_down_seconds": round(returned - killed, 1),
            "first_success_after_return_seconds": round(first_success - returned, 2),
            "slowest_failed_write_seconds": round(max((o.answered - o.sent for o in failed), default=0), 2),
            "keys": len(keys),
        }
        print("\nfault test:", json.dumps(figures))
        (Path(os.environ.get("TMPDIR", "/tmp")) / "fault-figures.json").write_text(json.dumps(figures))

        # Every acknowledged write is in the graph, as the person it was acknowledged as.
        for o in acknowledged:
            assert stored.get(f"Faultload {o.key}") == [o.person], o.key
        # Writes during the outage were told as unavailable or of unknown outcome, with 503.
        assert failed, "the kill did not meet any write"
        assert {o.code for o in failed} <= FAILED_CODES, figures
        assert {o.status for o in failed} == {503}, figures
        # The gateway served again after Neo4j came back, without a restart of its own (the
        # figure is reported; the bound only proves it recovers at all, see RECOVERY_BOUND).
        assert first_success - returned < RECOVERY_BOUND, figures
        # Retrying with the same keys wrote nothing twice, and returned the first result.
        assert all(len(ids) == 1 for ids in stored.values()), figures
        assert len(stored) == len(keys)
        assert all(replayed[o.key] == o.person for o in acknowledged)
        # The audit chain holds, and no batch of events was appended twice.
        assert verify.returncode == 0, verify.stderr
        assert duplicated_events == 0
    finally:
        if gateway is not None:
            gateway.stop()
        server.stop()
