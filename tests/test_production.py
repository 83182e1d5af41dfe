"""Production mode, the default: no playground, introspection or field suggestions, tokens only
from a JWKS and within the maximum lifetime, and no start without a JWKS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from neo4j import Driver

from gateway.settings import REPO_ROOT, Settings
from tests.conftest import GatewayProcess, gateway_env, token

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rs256(agency: str, lifetime: int = 600) -> str:
    now = int(time.time())
    claims = {"sub": "officer", "agency": agency, "iss": "gateway-dev", "aud": "gateway",
              "iat": now, "nbf": now, "exp": now + lifetime}  # fmt: skip
    return jwt.encode(claims, RSA_KEY, algorithm="RS256", headers={"kid": "prod-1"})


def production_env(neo4j_auth: tuple[str, str, str], **extra: str) -> dict[str, str]:
    env = gateway_env(neo4j_auth, **extra)
    env.pop("GATEWAY_ENV")  # production is what an unset GATEWAY_ENV means
    return env


@pytest.fixture(scope="module")
def jwks_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
    path = tmp_path_factory.mktemp("idp") / "jwks.json"
    path.write_text(json.dumps({"keys": [{**jwk, "kid": "prod-1", "use": "sig"}]}))
    return path


@pytest.fixture(scope="module")
def production(seeded: Driver, neo4j_auth: tuple[str, str, str], jwks_file: Path) -> Iterator[GatewayProcess]:
    # The test environment's development switches (demo tokens, a JWT secret) must not matter.
    server = GatewayProcess(production_env(neo4j_auth, GATEWAY_JWKS_URL=str(jwks_file)))
    try:
        yield server
    finally:
        server.stop()


def post(server: GatewayProcess, query: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{server.url}/graphql", json={"query": query}, headers=headers or {}, timeout=30)


def test_production_is_the_default_and_switches_everything_open_off() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.env == "production"
    assert not (settings.playground or settings.introspection or settings.suggestions)
    assert settings.production_problems()
    development = Settings(_env_file=None, GATEWAY_ENV="development")  # type: ignore[call-arg]
    assert development.playground and development.introspection and development.suggestions


def test_production_serves_no_playground_and_no_introspection(production: GatewayProcess) -> None:
    assert httpx.get(f"{production.url}/playground").status_code == 404
    assert httpx.get(f"{production.url}/graphql").status_code == 405
    for query in ("{ __schema { types { name } } }", '{ __type(name: "Person") { fields { name } } }'):
        body = post(production, query).json()
        assert body["errors"] and not body.get("data"), query


@pytest.mark.parametrize(
    "query",
    [
        "{ persn { id } }",  # field
        "{ countries { cod } }",  # field on a type
        "{ persons(frist: 1) { totalCount } }",  # argument
        "{ persons(sort: FAMILY_NAM) { totalCount } }",  # enum value
        '{ persons(filter: {nam: "x"}) { totalCount } }',  # input field
        "query($f: PersonFiltr) { persons(filter: $f) { totalCount } }",  # type
    ],
)
def test_production_errors_make_no_suggestions(production: GatewayProcess, query: str) -> None:
    headers = {"Authorization": f"Bearer {rs256('ncb-fr')}", "X-Purpose": "INVESTIGATION"}
    body = post(production, query, headers).json()
    assert body["errors"], body
    assert "Did you mean" not in json.dumps(body)


def test_development_still_suggests(gateway: GatewayProcess) -> None:
    assert "Did you mean" in post(gateway, "{ countries { cod } }").text


def test_production_accepts_jwks_tokens_and_refuses_hs256_and_long_lived_ones(
    production: GatewayProcess,
) -> None:
    query = "{ countries { code } }"
    assert post(production, query, {"Authorization": f"Bearer {rs256('ncb-fr')}"}).status_code == 200
    now = int(time.time())
    es256_naming_the_rsa_key = jwt.encode(
        {"sub": "x", "agency": "ncb-fr", "iss": "gateway-dev", "aud": "gateway", "iat": now, "exp": now + 60},
        ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": "prod-1"},
    )  # fmt: skip
    for bad in (token("ncb-fr"), rs256("ncb-fr", lifetime=13 * 3600), rs256("ncb-fr", lifetime=100 * 365 * 86400),
                es256_naming_the_rsa_key):  # fmt: skip
        response = post(production, query, {"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def run_gateway(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", *args], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_production_refuses_to_start_without_a_jwks(neo4j_auth: tuple[str, str, str]) -> None:
    result = run_gateway(production_env(neo4j_auth), "serve", "--port", "1")
    assert result.returncode == 2
    assert "GATEWAY_JWKS_URL" in result.stderr and "GATEWAY_ENV=development" in result.stderr


def test_token_lifetimes_are_bounded_and_production_mints_none(neo4j_auth: tuple[str, str, str]) -> None:
    development = gateway_env(neo4j_auth, GATEWAY_MAX_TOKEN_TTL="3600")
    assert run_gateway(development, "token", "--agency", "ncb-fr", "--ttl", "1h").returncode == 0
    too_long = run_gateway(development, "token", "--agency", "ncb-fr", "--ttl", "2h")
    assert too_long.returncode == 2 and "GATEWAY_MAX_TOKEN_TTL" in too_long.stderr
    production = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    refused = run_gateway(production, "token", "--agency", "ncb-fr")
    assert refused.returncode == 2 and "identity provider" in refused.stderr


def test_development_serves_only_this_machines_host_names(gateway: GatewayProcess) -> None:
    # The development playground carries demo tokens: a page on another host name (DNS
    # rebinding to 127.0.0.1) gets nothing from it.
    foreign = httpx.get(f"{gateway.url}/playground", headers={"Host": "evil.example"})
    assert foreign.status_code == 400
    assert httpx.get(f"{gateway.url}/playground").status_code == 200
