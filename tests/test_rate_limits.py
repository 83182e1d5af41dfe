"""Rate limits: token buckets per client address (before any token work) and per agency (once
the token is verified), answering 429 with Retry-After; the buckets' memory is bounded."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from neo4j import Driver
from websockets.sync.client import connect

from gateway.http.ratelimit import RateLimiter, retry_after
from tests.conftest import GatewayProcess, gateway_env, token

COUNTRIES = {"query": "{ countries { code } }"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_grants_its_burst_then_waits_for_the_refill() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("a") == pytest.approx(0.5)  # one token comes back in 1/rate seconds
    assert limiter.take("b") == 0  # another key has its own bucket
    clock.now += 0.5
    assert limiter.take("a") == 0
    assert limiter.take("a") > 0


def test_refused_requests_do_not_push_the_wait_further() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=1, burst=1, clock=clock)
    limiter.take("a")
    waits = [limiter.take("a") for _ in range(100)]
    assert max(waits) == pytest.approx(1.0)


def test_idle_buckets_are_dropped_and_the_number_of_buckets_is_capped() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=10, burst=10, max_buckets=100, clock=clock)
    for i in range(1000):
        limiter.take(f"addr-{i}")
    assert len(limiter) == 100  # an address sweep cannot grow memory past the cap
    clock.now += 1.0  # every bucket has refilled: same as no bucket
    limiter.take("late")
    assert len(limiter) == 1


def test_a_zero_rate_switches_the_limit_off() -> None:
    limiter = RateLimiter(rate=0, burst=1)
    assert all(limiter.take("a") == 0 for _ in range(1000)) and len(limiter) == 0


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    assert [retry_after(w) for w in (0.01, 1.0, 1.2, 19.5)] == ["1", "1", "2", "20"]


@pytest.fixture(scope="module")
def limited(seeded: Driver, neo4j_auth: tuple[str, str, str]) -> Iterator[GatewayProcess]:
    # One token per 20 s: nothing refills during the test, however slow the machine.
    server = GatewayProcess(gateway_env(
        neo4j_auth, GATEWAY_RATE_PER_ADDRESS="0.05", GATEWAY_BURST_PER_ADDRESS="8",
        GATEWAY_RATE_PER_AGENCY="0.05", GATEWAY_BURST_PER_AGENCY="2",
    ))  # fmt: skip
    try:
        yield server
    finally:
        server.stop()


def post(server: GatewayProcess, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{server.url}/graphql", json=COUNTRIES, headers=headers or {}, timeout=30)


def test_agencies_and_addresses_are_limited_with_429_and_retry_after(limited: GatewayProcess) -> None:
    # The agency's bucket: two requests, then 429; another agency is not affected.
    fr = {"Authorization": f"Bearer {token('ncb-fr')}"}
    assert [post(limited, fr).status_code for _ in range(2)] == [200, 200]
    refused = post(limited, fr)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 20
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert "agency" in refused.json()["errors"][0]["message"]
    assert post(limited, {"Authorization": f"Bearer {token('ncb-de')}"}).status_code == 200

    # The address's bucket (8) is drawn on only by requests without a valid token: the agencies'
    # requests above took nothing from it. Eight anonymous or forged-token requests, then 429.
    forged = {"Authorization": "Bearer forged.token.here"}
    assert [post(limited).status_code for _ in range(4)] == [200] * 4
    assert [post(limited, forged).status_code for _ in range(4)] == [401] * 4
    for headers in ({}, forged):
        response = post(limited, headers)
        assert response.status_code == 429, headers
        assert "address" in response.json()["errors"][0]["message"]
        assert int(response.headers["retry-after"]) >= 1
        assert response.headers["cache-control"] == "no-store"
    # An agency's users behind that address are not shut out by anonymous traffic.
    assert post(limited, {"Authorization": f"Bearer {token('ncb-nl')}"}).status_code == 200
    # X-Forwarded-For names no client unless GATEWAY_FORWARDED_ALLOW_IPS trusts a proxy.
    assert post(limited, {"X-Forwarded-For": "203.0.113.9"}).status_code == 429
    assert httpx.get(f"{limited.url}/healthz").status_code == 200  # health checks are not limited


def test_an_anonymous_flood_from_an_address_does_not_shut_agencies_out_of_live_alerts(
    limited: GatewayProcess,
) -> None:
    """Found by the outside test: the socket's upgrade drew on the address's bucket, so anonymous
    requests from a shared address refused every agency's live-alert connection (403)."""
    while post(limited).status_code != 429:  # the address's bucket is empty
        pass
    url = limited.url.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=30) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token('ncb-be')}"}}))
        assert json.loads(ws.recv(timeout=30))["type"] == "connection_ack"


def test_the_public_may_send_few_documents_it_has_not_sent_before(
    seeded: Driver, neo4j_auth: tuple[str, str, str]
) -> None:
    """Found by the outside test: every new field order or alias is a new statement for Neo4j
    to plan (0.4-0.7 s of its CPU), and anyone could send one per request."""
    limited = GatewayProcess(gateway_env(
        neo4j_auth, GATEWAY_NEW_DOCUMENTS_PER_ADDRESS="0.05", GATEWAY_NEW_DOCUMENTS_BURST="3"
    ))  # fmt: skip
    try:
        _few_new_documents(limited)
    finally:
        limited.stop()


def _few_new_documents(limited: GatewayProcess) -> None:
    fresh = [f'{{ a{i}_{uuid.uuid4().hex[:8]}: countries {{ code }} }}' for i in range(4)]
    answers = [httpx.post(f"{limited.url}/graphql", json={"query": q}, timeout=30) for q in fresh]
    refused = answers[3]
    assert refused.status_code == 429, [a.status_code for a in answers]
    assert "new query documents" in refused.json()["errors"][0]["message"]
    # A document already seen costs nothing from that bucket; an agency's new ones neither.
    headers = {"Authorization": f"Bearer {token('ncb-pl')}"}
    fresh_for_agency = httpx.post(f"{limited.url}/graphql", json={"query": "{ b1: countries { code } }"},
                                  headers=headers, timeout=30)  # fmt: skip
    assert fresh_for_agency.status_code == 200
