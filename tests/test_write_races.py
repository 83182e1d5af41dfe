"""Racing writes about one person (R8, R18): real concurrent HTTP requests, many trials, and
after each the invariant checked in the graph.

- A new notice or diffusion from the feared country racing the grant of protection: never
  an unblocked item from that country about the protected person. The request is either
  refused with the generic reason (it came second) or its item is blocked (it came first).
- The GS publishing a notice or restoring a blocked one while protection is being granted:
  never a live item from the feared country about the protected person.
- Racing links between two persons: exactly one link, and every caller gets the answer it
  would get alone.

The feared country is UZ and the receiving country AT, which no other test file uses, so
the session's shared graph does not disturb the invariants.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from neo4j import Driver

from graph_schema.model import GENERIC_BLOCK_REASON
from tests.conftest import Client
from tests.test_concurrency import outcome, race

TRIALS = 10
FEARED, RECEIVING = "UZ", "AT"
SOURCE, ASYLUM = "ncb-uz", "asylum-at"
TODAY = date.today().isoformat()

CREATE_PERSON = "mutation($f: String!) { createPerson(input: {familyName: $f, nationalities: [\"UZ\"]}) { id } }"
REQUEST_NOTICE = (
    "mutation($p: ID!) { requestNotice(input: {personId: $p, type: RED, offenceSummary: \"race\"}) { id } }"
)
ISSUE_DIFFUSION = (
    "mutation($p: ID!) { issueDiffusion(input: {personId: $p, purpose: ARREST, toAllMembers: true}) { id } }"
)
REVIEW_NOTICE = 'mutation($id: ID!, $d: NoticeDecision!) { reviewNotice(id: $id, decision: $d, reason: "ok") { id } }'
REVIEW_DIFFUSION = (
    'mutation($id: ID!, $d: DiffusionDecision!) { reviewDiffusion(id: $id, decision: $d, reason: "ok") { id } }'
)
RESTORE_NOTICE = 'mutation($id: ID!) { restoreNotice(id: $id, reason: "protection ended") { id } }'
FILE = (
    "mutation($p: ID!) { fileAsylumApplication(input: {personId: $p, fearedPersecutionCountry: \"UZ\", "
    'lodgedAt: "2026-01-10"}) { id } }'
)
DECIDE = (
    "mutation($id: ID!, $o: ApplicationStatus!, $d: Date!) { decideAsylumApplication(id: $id, input: "
    "{outcome: $o, decidedAt: $d, legalBasis: CONVENTION_1951}) { id status } }"
)
LINK = "mutation($a: ID!, $b: ID!) { linkPersons(a: $a, b: $b, kind: ACCOMPLICE) { id } }"


def family() -> str:
    return "Racer" + uuid.uuid4().hex[:6].upper().translate(str.maketrans("0123456789", "QWRTYPSDFG"))


def wanted_person(client: Client) -> tuple[str, str]:
    """A person the feared country records and wants (a published RED notice, so the
    receiving country sees the person and can file), and that notice."""
    person = client.data(CREATE_PERSON, {"f": family()}, agency=SOURCE)["createPerson"]["id"]
    notice = client.data(REQUEST_NOTICE, {"p": person}, agency=SOURCE)["requestNotice"]["id"]
    client.data(REVIEW_NOTICE, {"id": notice, "d": "PUBLISH"}, agency="gs", purpose="ADMINISTRATION")
    return person, notice


def file(client: Client, person: str) -> str:
    return str(client.data(FILE, {"p": person}, agency=ASYLUM, purpose="ASYLUM_SCREENING")["fileAsylumApplication"]["id"])


def decide(client: Client, application: str, outcome_: str) -> dict[str, Any]:
    return client.post(DECIDE, {"id": application, "o": outcome_, "d": TODAY}, agency=ASYLUM).json()  # type: ignore[no-any-return]


def items_from_feared_country(driver: Driver, person: str) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in driver.execute_query(
            "MATCH (x)-[:CONCERNS]->(:Person {id: $id}) WHERE (x:Notice OR x:Diffusion) AND x.sourceCountry = $c "
            "RETURN x.id AS id, labels(x)[0] AS label, x.status AS status, coalesce(x.blocked, false) AS blocked",
            id=person, c=FEARED,
        ).records
    ]  # fmt: skip


def protected(driver: Driver, person: str) -> bool:
    return bool(
        driver.execute_query(
            "MATCH (:Person {id: $id})-[:APPLIED_FOR]->(a:AsylumApplication {status: 'GRANTED'}) "
            "WHERE a.fearedCountry = $c RETURN count(a) > 0 AS p",
            id=person, c=FEARED,
        ).records[0]["p"]
    )  # fmt: skip


def assert_nothing_escapes(driver: Driver, person: str) -> None:
    """R8's invariant: with protection granted, every item from the feared country is blocked."""
    assert protected(driver, person)
    escaped = [x for x in items_from_feared_country(driver, person) if not x["blocked"]]
    assert not escaped, f"items escaped the grant: {escaped}"


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_new_notice_or_diffusion_racing_a_grant_is_refused_or_blocked(
    client: Client, seeded: Driver, trial: int
) -> None:
    person, _ = wanted_person(client)
    application = file(client, person)
    bodies = race(
        lambda: decide(client, application, "GRANTED"),
        lambda: client.post(REQUEST_NOTICE, {"p": person}, agency=SOURCE).json(),
        lambda: client.post(ISSUE_DIFFUSION, {"p": person}, agency=SOURCE).json(),
    )
    grant, *requests = bodies
    assert outcome(grant) == "OK", grant
    for body in requests:
        if outcome(body) != "OK":  # came second: refused like any request after a grant
            assert outcome(body) == "FORBIDDEN", body
            assert body["errors"][0]["message"] == GENERIC_BLOCK_REASON, body
    assert_nothing_escapes(seeded, person)


@pytest.mark.parametrize("trial", range(TRIALS // 2))
def test_a_publication_racing_a_grant_never_makes_the_notice_live(client: Client, seeded: Driver, trial: int) -> None:
    person, _ = wanted_person(client)
    application = file(client, person)
    notice = client.data(REQUEST_NOTICE, {"p": person}, agency=SOURCE)["requestNotice"]["id"]
    grant, publication = race(
        lambda: decide(client, application, "GRANTED"),
        lambda: client.post(REVIEW_NOTICE, {"id": notice, "d": "PUBLISH"}, agency="gs", purpose="ADMINISTRATION").json(),
    )
    assert outcome(grant) == "OK", grant
    assert outcome(publication) in ("OK", "CONFLICT"), publication  # CONFLICT: the grant came first
    assert_nothing_escapes(seeded, person)


@pytest.mark.parametrize("trial", range(TRIALS // 2))
def test_a_restore_racing_a_new_grant_never_unblocks(client: Client, seeded: Driver, trial: int) -> None:
    person, notice = wanted_person(client)
    first = file(client, person)
    assert outcome(decide(client, first, "GRANTED")) == "OK"
    assert outcome(decide(client, first, "REVOKED")) == "OK"  # the GS may now restore ...
    second = file(client, person)  # ... until this one is granted
    grant, restoration = race(
        lambda: decide(client, second, "GRANTED"),
        lambda: client.post(RESTORE_NOTICE, {"id": notice}, agency="gs", purpose="ADMINISTRATION").json(),
    )
    assert outcome(grant) == "OK", grant
    assert outcome(restoration) in ("OK", "CONFLICT"), restoration  # CONFLICT: the grant came first
    assert_nothing_escapes(seeded, person)


def unblocked_leftover(client: Client, seeded: Driver, label: str) -> tuple[str, str]:
    """An item from the feared country about a protected person that escaped its block (as
    the race closed above could leave one in a graph written before): (person, item id)."""
    person, _ = wanted_person(client)
    query, field = (REQUEST_NOTICE, "requestNotice") if label == "Notice" else (ISSUE_DIFFUSION, "issueDiffusion")
    item = client.data(query, {"p": person}, agency=SOURCE)[field]["id"]
    application = file(client, person)
    assert outcome(decide(client, application, "GRANTED")) == "OK"
    seeded.execute_query(f"MATCH (x:{label} {{id: $id}}) SET x.blocked = false, x.blockReason = null", id=item)
    return person, item


def test_the_gs_cannot_publish_a_notice_from_the_feared_country_about_a_protected_person(
    client: Client, seeded: Driver
) -> None:
    _, notice = unblocked_leftover(client, seeded, "Notice")
    body = client.post(REVIEW_NOTICE, {"id": notice, "d": "PUBLISH"}, agency="gs", purpose="ADMINISTRATION").json()
    assert outcome(body) == "CONFLICT", body
    assert "protected against its source" in body["errors"][0]["message"]
    status = seeded.execute_query("MATCH (n:Notice {id: $id}) RETURN n.status AS s", id=notice).records[0]["s"]
    assert status == "REQUESTED"
    refusal = client.post(REVIEW_NOTICE, {"id": notice, "d": "REFUSE"}, agency="gs", purpose="ADMINISTRATION").json()
    assert outcome(refusal) == "OK", refusal  # refusing it is always possible


def test_the_gs_cannot_confirm_a_diffusion_from_the_feared_country_about_a_protected_person(
    client: Client, seeded: Driver
) -> None:
    _, diffusion = unblocked_leftover(client, seeded, "Diffusion")
    body = client.post(REVIEW_DIFFUSION, {"id": diffusion, "d": "CONFIRM"}, agency="gs", purpose="ADMINISTRATION").json()
    assert outcome(body) == "CONFLICT", body
    reviewed = seeded.execute_query("MATCH (d:Diffusion {id: $id}) RETURN d.reviewed AS r", id=diffusion).records[0]["r"]
    assert reviewed is False
    cancel = client.post(REVIEW_DIFFUSION, {"id": diffusion, "d": "CANCEL"}, agency="gs", purpose="ADMINISTRATION").json()
    assert outcome(cancel) == "OK", cancel


@pytest.mark.parametrize("trial", range(TRIALS))
def test_racing_links_between_two_persons_make_exactly_one(client: Client, seeded: Driver, trial: int) -> None:
    a = client.data(CREATE_PERSON, {"f": family()}, agency=SOURCE)["createPerson"]["id"]
    b = client.data(CREATE_PERSON, {"f": family()}, agency=SOURCE)["createPerson"]["id"]
    bodies = race(
        lambda: client.post(LINK, {"a": a, "b": b}, agency=SOURCE).json(),
        lambda: client.post(LINK, {"a": a, "b": b}, agency=SOURCE).json(),
        lambda: client.post(LINK, {"a": b, "b": a}, agency=SOURCE).json(),
        lambda: client.post(LINK, {"a": b, "b": a}, agency=SOURCE).json(),
    )
    # Each caller gets what it would get alone: the link exists, the result is its first person.
    assert [b_["data"]["linkPersons"]["id"] if outcome(b_) == "OK" else b_ for b_ in bodies] == [a, a, b, b]
    links = seeded.execute_query(
        "MATCH (:Person {id: $a})-[r:ASSOCIATE_OF {kind: 'ACCOMPLICE'}]-(:Person {id: $b}) RETURN count(r) AS n",
        a=a, b=b,
    ).records[0]["n"]  # fmt: skip
    assert links == 1
