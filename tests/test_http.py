"""The endpoint's behaviour on bad input, its limits, health, the playground and the audit."""

from __future__ import annotations

import socket
import time

import httpx
import pytest
from neo4j import Driver

from tests.conftest import AUDIT_KEY, Client, GatewayProcess, gateway_env, token

PERSON = "query($id: ID!) { person(id: $id) { id familyName } }"


def nodes(driver: Driver) -> int:
    return int(driver.execute_query("MATCH (n) WHERE NOT n:AccessEvent AND NOT n:AuditHead RETURN count(n) AS c").records[0]["c"])


def test_health_and_readiness(gateway: GatewayProcess) -> None:
    assert httpx.get(f"{gateway.url}/healthz").json() == {"status": "alive"}
    ready = httpx.get(f"{gateway.url}/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_malformed_json_is_bad_user_input(gateway: GatewayProcess) -> None:
    response = httpx.post(f"{gateway.url}/graphql", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('{"query": "{ countries { code } }"}'.encode("utf-16"), "not valid UTF-8"),
        (b'{"query": "{ countries { code } }", "query": "{ __typename }"}', "repeats the key 'query'"),
        (b'{"variables": {"id": 1, "id": 2}, "query": "{ __typename }"}', "repeats the key 'id'"),
    ],
    ids=["utf-16", "duplicate-query", "duplicate-variable"],
)
def test_a_body_that_parsers_could_read_differently_is_refused(gateway: GatewayProcess, body: bytes, says: str) -> None:
    response = httpx.post(f"{gateway.url}/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert says in error["message"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"query": "{ __typename }", "extensions": {"n": 1' + b"0" * 5000 + b"}}", "too long a number"),
        (b'{"query": "{ __typename }", "variables": {"x": NaN}}', "not JSON"),
        (b'{"query": "{ __typename }", "operationName": "' + b"Y" * 200 + b'"}', "longer than 100"),
        (b'{"query": "query ' + b"Y" * 200 + b' { __typename }"}', "longer than 100"),
    ],
    ids=["huge-number", "nan", "long-operation-name", "long-name-in-document"],
)
def test_values_no_json_parser_agrees_on_and_unbounded_names_are_refused(
    gateway: GatewayProcess, body: bytes, says: str
) -> None:
    # Found by the outside test: a 4,300-digit number answered 500 with a traceback, and a
    # 49,000-character operation name went into the append-only audit log.
    response = httpx.post(f"{gateway.url}/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and says in error["message"]


def test_a_body_that_does_not_arrive_is_given_up_after_ten_seconds(gateway: GatewayProcess) -> None:
    host, port = gateway.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as raw:
        raw.sendall(b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 1000\r\n\r\n{")  # fmt: skip
        started = time.monotonic()
        answer = raw.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    assert 9 <= time.monotonic() - started < 25


def test_the_audit_names_the_documents_operation_when_the_body_does_not(client: Client, seeded: Driver) -> None:
    response = client.post('query AuditNamed { person(id: "P-DEMO-003") { id } }', agency="ncb-fr")
    assert response.status_code == 200
    records = seeded.execute_query(
        "MATCH (a:AccessEvent) WHERE a.operation STARTS WITH 'AuditNamed:' RETURN count(a) AS n"
    ).records
    assert records[0]["n"] >= 1


def test_aliases_of_the_fields_of_me_and_screen_read_their_values(client: Client) -> None:
    # Found by the row executor's helper: both answers were keyed by field name, so an alias read
    # null (and screen's non-null outcome masked the whole answer).
    me = client.data("{ me { u: user c: countryCode public } }", agency="ncb-fr")["me"]
    assert me["u"] == "tester" and me["c"] == "FR" and me["public"] is False
    screened = client.data(
        "query($i: ScreeningInput!) { screen(input: $i) { o: outcome h: hit } }",
        {"i": {"familyName": "Nobodyknownhere", "givenNames": "Zed", "dateOfBirth": "1990-01-01"}},
        agency="asylum-nl", purpose="ASYLUM_SCREENING",
    )["screen"]  # fmt: skip
    assert screened == {"o": "NO_HIT", "h": False}


def test_a_body_over_the_limit_is_refused_before_parsing(gateway: GatewayProcess) -> None:
    body = b'{"query": "' + b" " * (5 * 1024 * 1024) + b'{ countries { code } }"}'
    response = httpx.post(f"{gateway.url}/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ countries { code ", {}),  # does not parse
        ("{ countries { nope } }", {}),  # unknown field
        (PERSON, {"id": {"not": "an id"}}),  # wrong variable type
        ("{ notices(first: 100000) { totalCount } }", {}),  # first above 100
        ("{ notices(after: \"garbage\") { totalCount } }", {}),  # a cursor we never issued
        ("{ links(personId: \"P-DEMO-001\", depth: 9) { nodes { id } } }", {}),
        ("{ persons(filter: {nationality: \"France\"}) { totalCount } }", {}),
    ],
)
def test_bad_requests_get_bad_user_input(client: Client, query: str, variables: dict[str, object]) -> None:
    assert client.error_code(query, variables, agency="ncb-fr") == "BAD_USER_INPUT"


def test_a_missing_id_is_null_not_an_error(client: Client) -> None:
    assert client.data(PERSON, {"id": "P-NOPE"}, agency="ncb-fr") == {"person": None}


@pytest.mark.parametrize(
    "query",
    [
        "{ countries { " + "ncb { country { " * 100 + "code" + " } }" * 100 + " } }",  # 200 levels
        "{ " + " ".join(f"a{i}: countries {{ code }}" for i in range(1000)) + " }",  # 1,000 aliases
        "{ persons(first: 100) { edges { node { notices { subject { notices { subject { id } } } } } } } }",  # cost
    ],
)
def test_expensive_queries_are_refused_as_too_complex(client: Client, query: str) -> None:
    assert client.error_code(query, agency="ncb-fr") == "QUERY_TOO_COMPLEX"


def test_cypher_looking_filters_are_plain_values_and_write_nothing(client: Client, seeded: Driver) -> None:
    before = nodes(seeded)
    hostile = "x'}) MATCH (n) DETACH DELETE n //"
    data = client.data(
        "query($s: String!, $id: ID!) { persons(filter: {name: $s}) { totalCount } notices(filter: {subjectId: $id}) { totalCount } }",
        {"s": hostile, "id": hostile}, agency="ncb-fr",
    )  # fmt: skip
    assert data["notices"]["totalCount"] == 0
    assert nodes(seeded) == before


def test_the_server_stays_up_after_bad_input(client: Client) -> None:
    client.post("{ countries { code ")
    assert client.data("{ countries { code } }", purpose=None)["countries"]


def test_unexpected_errors_are_masked_with_a_correlation_id(client: Client) -> None:
    # A sort value outside the enum never reaches Cypher; validation names the problem.
    body = client.post("{ persons(sort: NOPE) { totalCount } }", agency="ncb-fr").json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Traceback" not in str(body)


def test_playground_is_served_offline_with_the_three_examples(gateway: GatewayProcess) -> None:
    page = httpx.get(f"{gateway.url}/playground")
    assert page.status_code == 200
    assert "https://" not in page.text and "http://" not in page.text.replace(gateway.url, "")
    for title in ("looks up a person", "explores links", "screens an applicant"):
        assert title in page.text
    assert "Bearer " in page.text and "X-Purpose" in page.text


def test_by_default_the_playground_carries_no_tokens_and_introspection_can_be_off(
    seeded: Driver, neo4j_auth: tuple[str, str, str]
) -> None:
    server = GatewayProcess(gateway_env(neo4j_auth, GATEWAY_INTROSPECTION="false", GATEWAY_DEMO_TOKENS="false"))
    try:
        page = httpx.get(f"{server.url}/playground")
        assert page.status_code == 200 and "Bearer ey" not in page.text  # nobody gets tokens by loading it
        # The example tabs stay, with a header template saying where a token comes from.
        for title in ("looks up a person", "explores links", "screens an applicant"):
            assert title in page.text
        assert "gateway token --agency ncb-de" in page.text and "X-Purpose" in page.text
        body = httpx.post(f"{server.url}/graphql", json={"query": "{ __schema { types { name } } }"}).json()
        assert body.get("errors") and not body.get("data")
    finally:
        server.stop()


def test_the_playground_can_be_switched_off(seeded: Driver, neo4j_auth: tuple[str, str, str]) -> None:
    server = GatewayProcess(gateway_env(neo4j_auth, GATEWAY_PLAYGROUND="false"))
    try:
        assert httpx.get(f"{server.url}/playground").status_code == 404
    finally:
        server.stop()


def test_what_a_mutation_reads_back_is_audited_too(client: Client) -> None:
    body = client.data(
        'mutation { updatePerson(id: "P-DEMO-003", input: {}) { id notices { id } travelDocuments { number } } }',
        agency="ncb-fr",
    )["updatePerson"]
    ids = client.data(
        '{ auditEvents(filter: {agencyId: "ncb-fr", operation: "mutation:updatePerson"}, first: 1) '
        "{ edges { node { ids } } } }", agency="gs",
    )["auditEvents"]["edges"][0]["node"]["ids"]  # fmt: skip
    assert {f"Notice:{n['id']}" for n in body["notices"]} <= set(ids)
    assert "TravelDocument:FR:FR-DEMO-0001" in ids


def test_every_personal_read_is_audited_with_ids_and_purpose(client: Client) -> None:
    client.data(PERSON, {"id": "P-DEMO-003"}, agency="ncb-de", purpose="IDENTIFICATION")
    events = client.data(
        '{ auditEvents(filter: {agencyId: "ncb-de"}, first: 1) { edges { node { ids purpose operation } } } }',
        agency="gs", purpose="DATA_PROTECTION_REVIEW",
    )["auditEvents"]["edges"]  # fmt: skip
    assert events[0]["node"]["ids"] == ["Person:P-DEMO-003"]
    assert events[0]["node"]["purpose"] == "IDENTIFICATION"


def test_when_the_audit_cannot_be_written_no_data_leaves(client: Client, seeded: Driver) -> None:
    # Rewinding the chain's head makes the next event collide with an existing sequence number.
    client.data(PERSON, {"id": "P-DEMO-003"}, agency="ncb-fr")
    # Every chain's head (one per gateway process), each restored to its own place afterwards.
    heads = [dict(r) for r in seeded.execute_query("MATCH (h:AuditHead) RETURN h.id AS id, h.seq AS seq").records]
    seeded.execute_query("MATCH (h:AuditHead) SET h.seq = 0")
    try:
        response = client.post(PERSON, {"id": "P-DEMO-003"}, agency="ncb-fr")
        assert response.status_code == 503
        assert response.json() == {
            "data": None,
            "errors": [{"message": "the audit log is unavailable; no data was returned",
                        "extensions": {"code": "SERVICE_UNAVAILABLE"}}],
        }  # fmt: skip
    finally:
        seeded.execute_query("UNWIND $heads AS head MATCH (h:AuditHead {id: head.id}) SET h.seq = head.seq", heads=heads)


def test_audit_chain_detects_edits_re_chaining_without_the_key_and_edits_outside_the_hmac(
    client: Client, seeded: Driver
) -> None:
    from gateway.store.audit import chain_hash, verify

    key = AUDIT_KEY.encode()
    client.data(PERSON, {"id": "P-DEMO-003"}, agency="ncb-fr")
    assert verify(seeded, key).ok
    first = seeded.execute_query("MATCH (a:AccessEvent) RETURN a ORDER BY a.seq LIMIT 1").records[0]["a"]
    original = dict(first)
    s = original["seq"]
    forged = {**original, "purpose": "TAMPERED"}
    forged["hash"] = chain_hash(forged, original["prevHash"], b"a key the attacker guessed")
    edits = [
        ("SET a.purpose = 'TAMPERED'", {}),
        ("SET a.purpose = 'TAMPERED', a.hash = $h", {"h": forged["hash"]}),  # re-chained with another key
        ("SET a.at = datetime('2001-01-01T00:00:00Z')", {}),  # the readable time, outside the HMAC
        ("SET a.note = 'added'", {}),  # a property the HMAC does not cover
    ]
    for edit, params in edits:
        seeded.execute_query(f"MATCH (a:AccessEvent {{id: $id}}) {edit}", id=original["id"], **params)
        try:
            assert verify(seeded, key).broken_at == s, edit
        finally:
            seeded.execute_query(
                "MATCH (a:AccessEvent {id: $id}) SET a = $props", id=original["id"], props=original
            )
    assert verify(seeded, key).ok


def test_an_expired_token_is_unauthenticated(client: Client) -> None:
    import time

    expired = token("ncb-fr", exp=int(time.time()) - 60, iat=int(time.time()) - 120, nbf=int(time.time()) - 120)
    response = client.post("{ countries { code } }", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
