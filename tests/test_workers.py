"""Scale-out: gateway replicas against one Neo4j, each process appending to an audit chain of
its own (so no replica queues on another's head), and every chain verifying afterwards."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver

from tests.conftest import REPO_ROOT, GatewayProcess, gateway_env, token

PERSON = "query($id: ID!) { person(id: $id) { id familyName } }"
CREATE = 'mutation($n: String!) { createPerson(input: {familyName: $n, nationalities: ["KZ"]}) { id } }'


def post(url: str, query: str, variables: dict[str, Any], agency: str, user: str, purpose: str) -> dict[str, Any]:
    response = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, timeout=60,
        headers={"Authorization": f"Bearer {token(agency, user=user)}", "X-Purpose": purpose},
    )  # fmt: skip
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]


def audit_verify(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "audit", "verify"],
        env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def events_of(driver: Driver, prefix: str) -> dict[str, str]:
    """userId -> chain of the stored events of the users whose name starts with ``prefix``."""
    records, _, _ = driver.execute_query(
        "MATCH (a:AccessEvent) WHERE a.userId STARTS WITH $prefix RETURN a.userId AS user, a.chain AS chain",
        prefix=prefix,
    )
    return {r["user"]: r["chain"] for r in records}


def test_two_replicas_under_concurrent_reads_and_writes_audit_every_request_in_their_own_chains(
    seeded: Driver, neo4j_auth: tuple[str, str, str]
) -> None:
    # A cold Neo4j on a loaded machine can take longer than the default limit to plan.
    replicas = [GatewayProcess(gateway_env(neo4j_auth, GATEWAY_QUERY_TIMEOUT_SECONDS="60")) for _ in range(2)]
    calls = []
    for i in range(24):
        url = replicas[i % 2].url
        calls.append((url, PERSON, {"id": "P-DEMO-003"}, "ncb-fr", f"replica-read-{i}", "INVESTIGATION"))
        if i % 3 == 0:
            calls.append((url, CREATE, {"n": f"Replica{i}"}, "asylum-nl", f"replica-write-{i}", "ASYLUM_SCREENING"))
    try:
        post(*calls[0]), post(*calls[1])  # plans cached before the burst
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda call: post(*call), calls[2:]))
    finally:
        for replica in replicas:
            replica.stop()

    assert all(a.get("person") or a.get("createPerson") for a in answers)
    stored = events_of(seeded, "replica-")
    assert set(stored) == {call[4] for call in calls}, "a request's access event is missing"
    by_replica = [{stored[c[4]] for c in calls if c[0] == r.url} for r in replicas]
    assert all(len(chains) == 1 for chains in by_replica), "a process wrote to more than one chain"
    assert by_replica[0] != by_replica[1], "two processes shared one chain"
    verified = audit_verify(gateway_env(neo4j_auth))
    assert verified.returncode == 0, verified.stderr
    assert "audit chain intact" in verified.stdout


@pytest.mark.parametrize("journal", [False, True], ids=["graph", "journal"])
def test_serve_with_two_workers_answers_and_its_audit_verifies(
    seeded: Driver, neo4j_auth: tuple[str, str, str], tmp_path: Path, journal: bool
) -> None:
    directory = tmp_path / "journal"
    extra = {"GATEWAY_AUDIT_JOURNAL": str(directory)} if journal else {}
    env = gateway_env(neo4j_auth, GATEWAY_QUERY_TIMEOUT_SECONDS="60", **extra)
    server = GatewayProcess(env, "--workers", "2", ready="/readyz", seconds=60)
    try:
        users = [f"workers-read-{journal}-{i}" for i in range(16)]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(
                lambda u: post(server.url, PERSON, {"id": "P-DEMO-003"}, "ncb-fr", u, "INVESTIGATION"), users
            ))  # fmt: skip
    finally:
        server.stop(seconds=30)
    assert all(a["person"] for a in answers)
    # With a journal, each worker wrote its own file and shipped it all at shutdown.
    assert set(events_of(seeded, f"workers-read-{journal}-")) == set(users)
    assert not journal or list(directory.glob("*.jsonl")) == []
    verified = audit_verify(env)
    assert verified.returncode == 0, verified.stderr
