"""Limits through HTTP: a fragment bomb is answered at once and the server stays responsive;
the oversight bodies page 100 at a time; anonymous writes never reach the graph or the audit."""

from __future__ import annotations

import json
import threading
import time

import httpx
from neo4j import Driver

from tests.conftest import Client, GatewayProcess

NOTIFICATIONS = """{ statusNotifications(first: 100) { totalCount pageInfo { hasNextPage endCursor }
  edges { node { id createdAt outcome decidedAt legalBasis receivingCountryCode
                 fearedPersecutionCountryCode deniedOnCriminalGrounds } } } }"""
AUDIT_EVENTS = """query($first: Int!) { auditEvents(first: $first) { totalCount pageInfo { hasNextPage endCursor }
  edges { node { seq id at userId agencyId operation purpose ids hit outcome hash } } } }"""


def fragment_bomb(levels: int) -> str:
    fragments = [f"fragment F{i} on Country {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Country {{ code agencies {{ id }} }}")
    return "{ countries { ...F0 } } " + " ".join(fragments)


def test_thirty_levels_of_doubled_fragments_are_answered_at_once_and_healthz_meanwhile(
    gateway: GatewayProcess,
) -> None:
    answers: list[httpx.Response] = []

    def bomb() -> None:
        answers.append(httpx.post(f"{gateway.url}/graphql", json={"query": fragment_bomb(30)}, timeout=60))

    started = time.monotonic()
    thread = threading.Thread(target=bomb)
    thread.start()
    health = httpx.get(f"{gateway.url}/healthz", timeout=10)
    thread.join(timeout=60)
    assert health.status_code == 200
    assert answers, "the fragment bomb was not answered within a minute"
    assert answers[0].json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert time.monotonic() - started < 10  # 2^30 expansions took hours before


def test_the_general_secretariat_pages_status_notifications_a_hundred_at_a_time(client: Client) -> None:
    data = client.data(NOTIFICATIONS, agency="gs", purpose="DATA_PROTECTION_REVIEW")
    assert data["statusNotifications"]["totalCount"] >= len(data["statusNotifications"]["edges"]) > 0


def test_the_ccf_pages_the_audit_log_a_hundred_at_a_time(client: Client) -> None:
    client.data("{ countries { code } }", agency="ccf", purpose="DATA_PROTECTION_REVIEW")
    data = client.data(AUDIT_EVENTS, {"first": 100}, agency="ccf", purpose="DATA_PROTECTION_REVIEW")
    assert 0 < len(data["auditEvents"]["edges"]) <= 100


def test_a_page_size_given_in_a_variable_is_costed_with_its_value(client: Client) -> None:
    query = "query($n: Int!) { persons(first: $n) { edges { node { id notices { subject { notices { id } } } } } } }"
    assert client.post(query, {"n": 5}, agency="ncb-fr").json().get("errors") is None
    assert client.error_code(query, {"n": 100}, agency="ncb-fr") == "QUERY_TOO_COMPLEX"


def events(driver: Driver) -> int:
    return int(driver.execute_query("MATCH (a:AccessEvent) RETURN count(a) AS c").records[0]["c"])


def test_anonymous_writes_are_refused_before_any_write_or_audit(client: Client, seeded: Driver) -> None:
    notice = seeded.execute_query("MATCH (n:Notice) RETURN n.id AS id LIMIT 1").records[0]["id"]
    aliased = " ".join(f'c{i}: cancelNotice(id: "{notice}", reason: "x") {{ id }}' for i in range(30))
    before_events = events(seeded)
    before_status = seeded.execute_query("MATCH (n:Notice {id: $id}) RETURN n.status AS s", id=notice).records
    body = client.post(f"mutation {{ {aliased} }}", purpose="INVESTIGATION").json()
    assert {e["extensions"]["code"] for e in body["errors"]} == {"UNAUTHENTICATED"}
    assert events(seeded) == before_events
    after_status = seeded.execute_query("MATCH (n:Notice {id: $id}) RETURN n.status AS s", id=notice).records
    assert after_status == before_status


def test_an_overlong_id_is_refused_before_any_write_or_audit(client: Client, seeded: Driver) -> None:
    long_id = "P" + "X" * 5000
    aliased = " ".join(f"m{i}: linkPersons(a: $i, b: $i, kind: FAMILY) {{ id }}" for i in range(5))
    before = events(seeded)
    body = client.post(f"mutation($i: ID!) {{ {aliased} }}", {"i": long_id}, agency="ncb-fr").json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert "64 characters" in body["errors"][0]["message"] and long_id not in json.dumps(body)
    literal = client.post('{ person(id: "' + long_id + '") { id } }', agency="ncb-fr").json()
    assert [e["extensions"]["code"] for e in literal["errors"]] == ["BAD_USER_INPUT"]
    nested = client.post(
        "mutation($i: RequestNoticeInput!) { requestNotice(input: $i) { id } }",
        {"i": {"personId": long_id, "type": "RED", "offenceSummary": "x"}}, agency="ncb-fr",
    ).json()  # fmt: skip
    assert [e["extensions"]["code"] for e in nested["errors"]] == ["BAD_USER_INPUT"]
    assert events(seeded) == before


def test_an_overlong_idempotency_key_is_bad_input(client: Client) -> None:
    query = (
        'mutation($k: String) { createPerson(input: {familyName: "Keylength"}, idempotencyKey: $k) { id } }'
    )
    assert client.error_code(query, {"k": "k" * 9000}, agency="ncb-fr") == "BAD_USER_INPUT"
