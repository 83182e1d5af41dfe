"""/metrics after real requests: the counters move by exactly the requests made, with labels
that name operations, outcomes and routes but never an id, a name, an agency or an address;
and /metrics answers only the addresses allowed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from neo4j import Driver
from prometheus_client.parser import text_string_to_metric_families

from seed import demo
from tests.conftest import Client, GatewayProcess, gateway_env

PERSON = "query PersonCard($id: ID!) { person(id: $id) { id familyName givenNames dateOfBirth } }"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> tuple[Samples, str]:
    response = httpx.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, response.text


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


class Delta:
    def __init__(self, before: Samples, after: Samples) -> None:
        self.before, self.after = before, after

    def __call__(self, name: str, **labels: str) -> float:
        return value(self.after, name, **labels) - value(self.before, name, **labels)


def test_graphql_requests_are_counted_by_operation_and_outcome_exactly(
    gateway: GatewayProcess, client: Client
) -> None:
    before, _ = scrape(gateway.url)
    person = {"id": demo.DEMO_PERSON_MISSING}
    seen = [client.data(PERSON, person, agency="ncb-fr")["person"] for _ in range(3)]
    assert all(p is not None for p in seen)
    assert client.error_code(PERSON, person, agency="ncb-fr", purpose=None) == "PURPOSE_REQUIRED"
    # A document that fails validation: its client-chosen name must not become a label.
    invalid = client.post("query LeakyOperationName { person(id: 1) { noSuchField } }", agency="ncb-fr")
    assert invalid.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    unauthenticated = client.post(PERSON, person, headers={"Authorization": "Bearer not-a-token"})
    assert unauthenticated.status_code == 401
    long_name = "Q" + "x" * 99
    assert client.data(f"query {long_name} {{ countries {{ code }} }}", agency="ncb-fr")["countries"]
    after, text = scrape(gateway.url)
    delta = Delta(before, after)

    requests = "gateway_graphql_requests_total"
    assert delta(requests, operation="PersonCard", outcome="OK") == 3
    assert delta(requests, operation="PersonCard", outcome="PURPOSE_REQUIRED") == 1
    assert delta(requests, operation="(none)", outcome="BAD_USER_INPUT") == 1
    assert delta(requests, operation="(none)", outcome="UNAUTHENTICATED") == 1
    assert delta(requests, operation=long_name[:64], outcome="OK") == 1
    assert delta("gateway_graphql_request_duration_seconds_count", operation="PersonCard") == 4
    assert delta("gateway_graphql_errors_total", code="PURPOSE_REQUIRED") == 1
    assert delta("gateway_graphql_errors_total", code="UNAUTHENTICATED") == 1
    assert delta("gateway_http_requests_total", route="/graphql", status="200") == 6
    assert delta("gateway_http_requests_total", route="/graphql", status="401") == 1
    assert delta("gateway_http_requests_total", route="/metrics", status="200") == 1  # the first scrape

    # The three reads of the person were audited, in one or more group commits.
    assert delta("gateway_audit_batch_events_sum") == 3
    commits = delta("gateway_audit_batch_events_count")
    assert 1 <= commits <= 3
    assert delta("gateway_audit_commit_duration_seconds_count", outcome="ok") == commits
    assert value(after, "gateway_audit_waiting") == 0
    assert delta("gateway_neo4j_statement_duration_seconds_count", kind="read", outcome="ok") >= 4
    assert value(after, "gateway_neo4j_statements_in_flight", kind="read") == 0
    pool = value(after, "gateway_neo4j_pool_connections", state="in_use") + value(
        after, "gateway_neo4j_pool_connections", state="idle"
    )
    assert pool >= 1
    assert value(after, "gateway_neo4j_pool_max_connections") == 50

    person_record = seen[0]
    for secret in (
        demo.DEMO_PERSON_MISSING, person_record["familyName"], person_record["givenNames"],
        person_record["dateOfBirth"], "ncb-fr", "tester", "127.0.0.1", "LeakyOperationName", "not-a-token",
    ):  # fmt: skip
        assert secret not in text, secret


def test_metrics_refuse_requests_that_came_through_an_untrusted_proxy(gateway: GatewayProcess) -> None:
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        response = httpx.get(f"{gateway.url}/metrics", headers={header: "203.0.113.9"}, timeout=10)
        assert response.status_code == 404, header
        assert "gateway_" not in response.text


@pytest.fixture(scope="module")
def limited(seeded: Driver, neo4j_auth: tuple[str, str, str]) -> Iterator[GatewayProcess]:
    """A gateway whose rate limits bite at once: burst 1, a token a minute."""
    process = GatewayProcess(gateway_env(
        neo4j_auth, GATEWAY_RATE_PER_ADDRESS="0.01", GATEWAY_BURST_PER_ADDRESS="1",
        GATEWAY_RATE_PER_AGENCY="0.01", GATEWAY_BURST_PER_AGENCY="1",
    ))  # fmt: skip
    try:
        yield process
    finally:
        process.stop()


def test_rate_limit_refusals_are_counted_by_limit(limited: GatewayProcess) -> None:
    client = Client(limited.url)
    before, _ = scrape(limited.url)
    countries = "query Countries { countries { code } }"
    statuses = [client.post(countries).status_code for _ in range(2)]
    statuses += [client.post(countries, agency="ncb-fr").status_code for _ in range(3)]
    assert statuses == [200, 429, 200, 429, 429]
    after, text = scrape(limited.url)
    delta = Delta(before, after)
    assert delta("gateway_rate_limited_total", limit="address") == 1
    assert delta("gateway_rate_limited_total", limit="agency") == 2
    assert delta("gateway_graphql_requests_total", operation="(none)", outcome="RATE_LIMITED") == 3
    assert delta("gateway_graphql_requests_total", operation="Countries", outcome="OK") == 1
    # Without a token a request never names a label (anyone could fill the slots).
    assert delta("gateway_graphql_requests_total", operation="(public)", outcome="OK") == 1
    assert delta("gateway_http_requests_total", route="/graphql", status="429") == 3
    assert "ncb-fr" not in text


def test_metrics_answer_404_to_addresses_not_allowed(
    seeded: Driver, neo4j_auth: tuple[str, str, str]
) -> None:
    process = GatewayProcess(gateway_env(neo4j_auth, GATEWAY_METRICS_ALLOW_IPS="192.0.2.0/24"))
    try:
        response = httpx.get(f"{process.url}/metrics", timeout=10)
        assert response.status_code == 404
        assert "gateway_" not in response.text
        assert httpx.get(f"{process.url}/healthz", timeout=10).status_code == 200
    finally:
        process.stop()


def test_with_a_shared_multiprocess_directory_any_worker_reports_every_workers_counts(
    seeded: Driver, neo4j_auth: tuple[str, str, str], tmp_path: Path
) -> None:
    # Two gateway processes sharing PROMETHEUS_MULTIPROC_DIR stand for two workers.
    env = gateway_env(neo4j_auth, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    workers = [GatewayProcess(env), GatewayProcess(env)]
    try:
        countries = "query Countries { countries { code } }"
        for worker, requests in zip(workers, (2, 3), strict=True):
            for _ in range(requests):
                assert Client(worker.url).data(countries)["countries"]
        for worker in workers:
            samples, _ = scrape(worker.url)
            assert value(samples, "gateway_graphql_requests_total", operation="(public)", outcome="OK") == 5
            assert value(samples, "gateway_neo4j_statements_in_flight", kind="read") == 0
    finally:
        for worker in workers:
            worker.stop()
    assert not list(tmp_path.glob("gauge_livesum_*.db"))  # each worker dropped its live gauges
