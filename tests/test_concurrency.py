"""Racing writes: exactly one of two conflicting mutations wins, the other gets CONFLICT,
and nothing is lost or written twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from neo4j import Driver

from tests.conftest import Client

ROUNDS = 4


def race(*calls: Callable[[], dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the calls at the same moment on threads; their JSON bodies in call order."""
    barrier = threading.Barrier(len(calls))
    results: list[dict[str, Any]] = [{} for _ in calls]

    def run(i: int, call: Callable[[], dict[str, Any]]) -> None:
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def outcome(body: dict[str, Any]) -> str:
    return body["errors"][0]["extensions"]["code"] if body.get("errors") else "OK"


def new_application(client: Client) -> str:
    person = client.data(
        'mutation { createPerson(input: {familyName: "Racer", nationalities: ["KZ"]}) { id } }', agency="asylum-nl"
    )["createPerson"]["id"]
    return client.data(  # type: ignore[no-any-return]
        "mutation($p: ID!) { fileAsylumApplication(input: {personId: $p, fearedPersecutionCountry: \"KZ\", "
        'lodgedAt: "2026-01-10"}) { id } }',
        {"p": person}, agency="asylum-nl",
    )["fileAsylumApplication"]["id"]  # fmt: skip


DECIDE = (
    "mutation($id: ID!, $o: ApplicationStatus!) { decideAsylumApplication(id: $id, input: "
    '{outcome: $o, decidedAt: "2026-02-01", legalBasis: CONVENTION_1951}) { id status } }'
)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_racing_decisions_one_wins_the_other_conflicts(client: Client, seeded: Driver, round_: int) -> None:
    app = new_application(client)
    bodies = race(
        lambda: client.post(DECIDE, {"id": app, "o": "GRANTED"}, agency="asylum-nl").json(),
        lambda: client.post(DECIDE, {"id": app, "o": "DENIED"}, agency="asylum-nl").json(),
    )
    outcomes = sorted(outcome(b) for b in bodies)
    assert outcomes == ["CONFLICT", "OK"]
    winner = next(b for b in bodies if outcome(b) == "OK")["data"]["decideAsylumApplication"]["status"]
    stored = seeded.execute_query(
        "MATCH (a:AsylumApplication {id: $id}) OPTIONAL MATCH (n:StatusNotification)-[:REPORTS]->(a) "
        "RETURN a.status AS status, count(n) AS notifications", id=app,
    ).records[0]  # fmt: skip
    assert stored["status"] == winner
    assert stored["notifications"] == 1  # the loser wrote nothing


REVIEW = "mutation($id: ID!, $d: NoticeDecision!) { reviewNotice(id: $id, decision: $d, reason: \"checked\") { id status } }"


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_racing_reviews_of_one_notice_one_wins(client: Client, seeded: Driver, round_: int) -> None:
    notice = client.data(
        'mutation { requestNotice(input: {personId: "P-DEMO-003", type: BLUE, offenceSummary: "race"}) { id } }',
        agency="ncb-fr",
    )["requestNotice"]["id"]
    bodies = race(
        lambda: client.post(REVIEW, {"id": notice, "d": "PUBLISH"}, agency="gs").json(),
        lambda: client.post(REVIEW, {"id": notice, "d": "REFUSE"}, agency="gs").json(),
    )
    assert sorted(outcome(b) for b in bodies) == ["CONFLICT", "OK"]
    winner = next(b for b in bodies if outcome(b) == "OK")["data"]["reviewNotice"]["status"]
    stored = seeded.execute_query("MATCH (n:Notice {id: $id}) RETURN n.status AS s", id=notice).records[0]["s"]
    assert stored == winner


def test_racing_retries_with_one_idempotency_key_write_once(client: Client, seeded: Driver) -> None:
    mutation = (
        'mutation { createPerson(input: {familyName: "Once", nationalities: ["FR"]}, idempotencyKey: "race-key-1") '
        "{ id } }"
    )
    bodies = race(*[lambda: client.post(mutation, agency="ncb-fr").json() for _ in range(4)])
    ids = {b["data"]["createPerson"]["id"] for b in bodies if outcome(b) == "OK"}
    assert len(ids) == 1
    assert all(outcome(b) in ("OK", "CONFLICT") for b in bodies)
    count = seeded.execute_query("MATCH (p:Person {familyName: 'Once'}) RETURN count(p) AS n").records[0]["n"]
    assert count == 1
