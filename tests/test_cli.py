"""The `gateway` command: the local Neo4j's lifecycle, bad input, and clear failures."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from neo4j import Driver

from gateway.neo4j_local import PASSWORD_ALPHABET, generate_password
from gateway.settings import LOCAL_DIR, REPO_ROOT, Settings
from tests.conftest import GatewayProcess, free_port, gateway_env


def gateway(
    *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=REPO_ROOT, env=env or dict(os.environ), capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def nodes(driver: Driver) -> int:
    return int(driver.execute_query("MATCH (n) RETURN count(n) AS c").records[0]["c"])


@pytest.mark.parametrize("persons", ["-5", "many", "1.5"])
def test_seed_with_a_bad_person_count_exits_2_and_writes_nothing(
    seeded: Driver, neo4j_auth: tuple[str, str, str], persons: str
) -> None:
    before = nodes(seeded)
    result = gateway("seed", "--persons", persons, env=gateway_env(neo4j_auth))
    assert result.returncode == 2
    assert "--persons" in result.stderr
    assert nodes(seeded) == before


def test_unreachable_neo4j_is_one_clear_line_naming_the_uri() -> None:
    env = {**os.environ, "NEO4J_URI": "bolt://127.0.0.1:9", "NEO4J_PASSWORD": "x"}
    result = gateway("migrate", env=env)
    assert result.returncode == 1
    assert "bolt://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_java_is_named(tmp_path: Path) -> None:
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "no-java"), "NEO4J_HOME": str(tmp_path / "home")}
    result = gateway("neo4j", "start", env=env)
    assert result.returncode == 1
    assert "Java" in result.stderr and "Traceback" not in result.stderr


def test_missing_maven_is_named(tmp_path: Path) -> None:
    java_dir = Path(subprocess.run(["bash", "-c", "dirname $(readlink -f $(which java))"],
                                   capture_output=True, text=True).stdout.strip())  # fmt: skip
    env = {**os.environ, "PATH": f"{java_dir}:/usr/bin/nonexistent", "NEO4J_LIB": str(tmp_path / "lib")}
    env.pop("JAVA_HOME", None)
    result = gateway("neo4j", "install", env=env)
    assert result.returncode == 1
    assert "Maven" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("which", ["NEO4J_BOLT_PORT", "NEO4J_HTTP_PORT"])
def test_a_port_taken_by_another_process_is_refused_naming_the_variable(tmp_path: Path, which: str) -> None:
    """Another server on our port (a developer's own Neo4j) never gets our credentials."""
    with socket.socket() as foreign:
        foreign.bind(("127.0.0.1", 0))
        foreign.listen()
        taken = foreign.getsockname()[1]
        ports = {"NEO4J_BOLT_PORT": str(free_port()), "NEO4J_HTTP_PORT": str(free_port()), which: str(taken)}
        env = {
            **os.environ,
            "NEO4J_HOME": str(tmp_path / "home"),
            "NEO4J_LIB": str(LOCAL_DIR / "neo4j-lib"),
            **ports,
        }
        result = gateway("neo4j", "start", env=env)
    assert result.returncode == 1
    assert f"port {taken}" in result.stderr and which in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "home" / "password").exists()  # refused before anything was set up


def test_an_unset_neo4j_uri_follows_the_bolt_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEO4J_URI", raising=False)
    monkeypatch.setenv("NEO4J_BOLT_PORT", "7999")
    assert Settings(_env_file=None).neo4j_uri == "bolt://127.0.0.1:7999"  # type: ignore[call-arg]
    monkeypatch.setenv("NEO4J_URI", "neo4j+s://graph.example:7687")
    assert Settings(_env_file=None).neo4j_uri == "neo4j+s://graph.example:7687"  # type: ignore[call-arg]


def test_migrate_talks_to_the_server_on_the_chosen_bolt_port() -> None:
    env = {**os.environ, "NEO4J_BOLT_PORT": "9", "NEO4J_PASSWORD": "x"}
    env.pop("NEO4J_URI", None)
    result = gateway("migrate", env=env)
    assert result.returncode == 1 and "bolt://127.0.0.1:9" in result.stderr


def test_generated_passwords_are_ones_the_admin_tool_accepts() -> None:
    """Never a leading `-` (taken for an option; it failed once in 64 before), long enough."""
    for _ in range(2000):
        password = generate_password()
        assert len(password) >= 32 and set(password) <= set(PASSWORD_ALPHABET)
        assert not password.startswith("-")


@pytest.mark.slow
def test_local_neo4j_lifecycle_and_the_gateway_riding_out_an_outage(tmp_path: Path) -> None:
    """start waits for Bolt; a second start is a no-op; stop is clean; a stale pid file is
    handled; and a gateway answers SERVICE_UNAVAILABLE while Neo4j is down, then resumes."""
    bolt = free_port()
    env = {
        **os.environ, "NEO4J_HOME": str(tmp_path / "home"), "NEO4J_LIB": str(LOCAL_DIR / "neo4j-lib"),
        "NEO4J_BOLT_PORT": str(bolt), "NEO4J_HTTP_PORT": str(free_port()),
        "NEO4J_HEAP": "512m", "NEO4J_PAGECACHE": "256m", "NEO4J_URI": f"bolt://127.0.0.1:{bolt}",
        "GATEWAY_ENV": "development",  # production (the default) would need a JWKS
    }  # fmt: skip
    pid_file = tmp_path / "home" / "run" / "neo4j.pid"
    try:
        started = gateway("neo4j", "start", env=env)
        assert started.returncode == 0, started.stderr
        assert f"bolt://127.0.0.1:{bolt}" in started.stdout
        pid = pid_file.read_text().strip()

        again = gateway("neo4j", "start", env=env)
        assert "already running" in again.stdout and pid in again.stdout
        assert gateway("neo4j", "status", env=env).returncode == 0
        assert gateway("migrate", env=env).returncode == 0

        server = GatewayProcess({**env, "NEO4J_PASSWORD": ""})
        try:
            assert httpx.get(f"{server.url}/readyz").status_code == 200
            assert gateway("neo4j", "stop", env=env).returncode == 0
            assert not pid_file.exists()
            assert gateway("neo4j", "status", env=env).returncode == 3

            assert httpx.get(f"{server.url}/readyz").status_code == 503
            down = httpx.post(f"{server.url}/graphql", json={"query": "{ countries { code } }"})
            assert down.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"

            pid_file.write_text("999999")  # stale: no such process
            assert gateway("neo4j", "status", env=env).returncode == 3
            assert gateway("neo4j", "start", env=env).returncode == 0
            deadline = time.monotonic() + 180  # a cold Neo4j plans afresh: slow on a loaded machine
            while httpx.get(f"{server.url}/readyz", timeout=10).status_code != 200:
                assert time.monotonic() < deadline, "the gateway did not resume"
                time.sleep(0.5)
            up = httpx.post(f"{server.url}/graphql", json={"query": "{ countries { code } }"})
            assert up.json()["data"]["countries"] == []
        finally:
            server.stop()
    finally:
        gateway("neo4j", "stop", env=env)
