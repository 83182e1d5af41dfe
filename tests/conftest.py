"""Shared fixtures: a throwaway Neo4j for the whole session, a seeded graph, and a real
gateway process serving HTTP on its own port.

Set GATEWAY_TEST_NEO4J_URI (and NEO4J_USER / NEO4J_PASSWORD) to run against an existing
server instead; its data will be replaced.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver, GraphDatabase, NotificationMinimumSeverity

from gateway.neo4j_local import LocalNeo4j
from gateway.settings import LOCAL_DIR, REPO_ROOT
from graph_schema import migrations

TEST_PERSONS = 400
TEST_SEED = 7
JWT_SECRET = "test-secret-" + "x" * 40
AUDIT_KEY = "test-audit-key-" + "k" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def neo4j_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """(uri, user, password) of the session's Neo4j."""
    external = os.environ.get("GATEWAY_TEST_NEO4J_URI")
    if external:
        yield external, os.environ.get("NEO4J_USER", "neo4j"), os.environ["NEO4J_PASSWORD"]
        return
    server = LocalNeo4j(
        home=tmp_path_factory.mktemp("neo4j"), lib=LOCAL_DIR / "neo4j-lib",
        bolt_port=free_port(), http_port=free_port(), heap="2g", pagecache="1g",
    )  # fmt: skip
    server.start()
    try:
        yield server.bolt_uri, "neo4j", server.password()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def driver(neo4j_auth: tuple[str, str, str]) -> Iterator[Driver]:
    uri, user, password = neo4j_auth
    with GraphDatabase.driver(
        uri, auth=(user, password), notifications_min_severity=NotificationMinimumSeverity.OFF
    ) as d:
        migrations.apply(d)
        yield d


def seed_standard(driver: Driver, reset: bool = False) -> None:
    from seed.loader import load

    load(driver, TEST_PERSONS, TEST_SEED, reset=reset, progress=False)


@pytest.fixture(scope="session")
def seeded(driver: Driver) -> Driver:
    """The standard test graph: TEST_PERSONS generated persons and the demo records."""
    from seed.loader import SeedRefused

    try:
        seed_standard(driver)
    except SeedRefused:
        seed_standard(driver, reset=True)
    return driver


def gateway_env(neo4j_auth: tuple[str, str, str], **extra: str) -> dict[str, str]:
    uri, user, password = neo4j_auth
    return {
        **os.environ,
        "NEO4J_URI": uri, "NEO4J_USER": user, "NEO4J_PASSWORD": password,
        "GATEWAY_JWT_SECRET": JWT_SECRET, "GATEWAY_CALLER_CACHE_SECONDS": "0.5",
        "GATEWAY_DEMO_TOKENS": "true", "GATEWAY_AUDIT_KEY": AUDIT_KEY,
        # Today's behaviour; tests/test_production.py starts production servers itself. The
        # suite sends many requests from one address: rate limits are tested on their own.
        "GATEWAY_ENV": "development", "GATEWAY_RATE_PER_ADDRESS": "0", "GATEWAY_RATE_PER_AGENCY": "0",
        "GATEWAY_NEW_DOCUMENTS_PER_ADDRESS": "0",
        **extra,
    }  # fmt: skip


class GatewayProcess:
    """``gateway serve`` (with ``args``, e.g. ``--workers 2``), ready once ``ready`` answers 200."""

    def __init__(self, env: dict[str, str], *args: str, ready: str = "/healthz", seconds: float = 30) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"gateway-{self.port}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(self.port), *args],
            env=env, cwd=REPO_ROOT, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + seconds
        while True:
            try:
                if httpx.get(f"{self.url}{ready}", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the gateway did not start; see {self.log.name}")
            time.sleep(0.2)

    def stop(self, seconds: float = 15) -> None:
        self.process.terminate()
        self.process.wait(timeout=seconds)
        self.log.close()


@pytest.fixture(scope="session")
def gateway(seeded: Driver, neo4j_auth: tuple[str, str, str]) -> Iterator[GatewayProcess]:
    process = GatewayProcess(gateway_env(neo4j_auth))
    try:
        yield process
    finally:
        process.stop()


def token(agency: str, user: str = "tester", **overrides: Any) -> str:
    import jwt

    now = int(time.time())
    claims = {"sub": user, "agency": agency, "iss": "gateway-dev", "aud": "gateway",
              "iat": now, "nbf": now, "exp": now + 600, **overrides}  # fmt: skip
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, JWT_SECRET, algorithm="HS256")


class Client:
    """Posts GraphQL to the gateway as one agency (or the public when agency is None)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def post(
        self, query: str, variables: dict[str, Any] | None = None, agency: str | None = None,
        purpose: str | None = "INVESTIGATION", headers: dict[str, str] | None = None,
    ) -> httpx.Response:  # fmt: skip
        h = dict(headers or {})
        if agency:
            h["Authorization"] = f"Bearer {token(agency)}"
        if purpose:
            h["X-Purpose"] = purpose
        return httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}},
                          headers=h, timeout=30)  # fmt: skip

    def data(self, query: str, variables: dict[str, Any] | None = None, agency: str | None = None,
             purpose: str | None = "INVESTIGATION") -> dict[str, Any]:  # fmt: skip
        body = self.post(query, variables, agency, purpose).json()
        assert "errors" not in body, body["errors"]
        return body["data"]  # type: ignore[no-any-return]

    def error_code(self, query: str, variables: dict[str, Any] | None = None, agency: str | None = None,
                   purpose: str | None = "INVESTIGATION") -> str:  # fmt: skip
        body = self.post(query, variables, agency, purpose).json()
        assert body.get("errors"), body
        return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def client(gateway: GatewayProcess) -> Client:
    return Client(gateway.url)
