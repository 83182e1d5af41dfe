"""Live alerts: ``noticeAlerts`` over ``graphql-transport-ws``, with a real WebSocket client
against the real gateway and Neo4j.

Each test makes its own persons (unique names) so that the alerts it waits for are its own.
A subscription starts delivering once its process's change feed has looked at the graph
(about a second); the tests wait ``SETTLE`` seconds after subscribing before they write.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import Driver
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from graph_schema.model import GENERIC_BLOCK_REASON
from tests.conftest import Client, GatewayProcess, gateway_env, token

PROTOCOL = "graphql-transport-ws"
SETTLE = 3.0  # seconds for a new subscription to be registered with the change feed
WAIT = 30.0  # seconds to wait for an expected message (a loaded, shared machine)
QUIET = 4.0  # seconds in which no message may arrive, for "nothing is pushed"

ALERTS = """subscription Alerts {
  noticeAlerts {
    reasons savedScreeningIds
    notice { id status statusReason blocked type subject { id } }
    diffusion { id status subjectToReview }
  }
}"""


def ws_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://") + "/graphql"


class Socket:
    """One graphql-transport-ws connection as a client library would hold it."""

    def __init__(self, url: str, agency: str | None, purpose: str = "INVESTIGATION", **headers: str) -> None:
        self.stack = contextlib.ExitStack()
        self.ws: ClientConnection = self.stack.enter_context(
            connect(ws_url(url), subprotocols=[PROTOCOL], open_timeout=WAIT, additional_headers=headers)  # type: ignore[list-item]
        )
        payload: dict[str, str] = {"X-Purpose": purpose}
        if agency is not None:
            payload["Authorization"] = f"Bearer {token(agency)}"
        self.send({"type": "connection_init", "payload": payload})

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def receive(self, timeout: float = WAIT) -> dict[str, Any]:
        while True:
            message = json.loads(self.ws.recv(timeout=timeout))
            if message["type"] == "ping":
                self.send({"type": "pong"})
                continue
            return message  # type: ignore[no-any-return]

    def acknowledged(self) -> Socket:
        assert self.receive()["type"] == "connection_ack"
        return self

    def subscribe(self, op_id: str = "1", query: str = ALERTS, settle: bool = True) -> None:
        self.send({"type": "subscribe", "id": op_id, "payload": {"query": query, "operationName": "Alerts"}})
        if settle:
            time.sleep(SETTLE)

    def alert(self, timeout: float = WAIT) -> dict[str, Any]:
        message = self.receive(timeout)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]["noticeAlerts"]  # type: ignore[no-any-return]

    def alerts_until(self, item_id: str, status: str) -> list[dict[str, Any]]:
        """Every alert up to the one showing the item in this status."""
        seen = []
        while True:
            alert = self.alert()
            seen.append(alert)
            item = alert["notice"] or alert["diffusion"]
            if item["id"] == item_id and item["status"] == status:
                return seen

    def quiet(self, seconds: float = QUIET) -> None:
        """Nothing arrives for a while."""
        with pytest.raises(TimeoutError):
            message = self.receive(seconds)
            pytest.fail(f"unexpected message {message}")

    def close_code(self) -> int | None:
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                self.ws.recv(timeout=WAIT)
        return closed.value.rcvd.code if closed.value.rcvd else None

    def close(self) -> None:
        self.stack.close()


@pytest.fixture
def sockets(gateway: GatewayProcess) -> Iterator[list[Socket]]:
    opened: list[Socket] = []
    yield opened
    for s in opened:
        s.close()


def open_socket(sockets: list[Socket], url: str, agency: str | None, **kwargs: Any) -> Socket:
    s = Socket(url, agency, **kwargs)
    sockets.append(s)
    return s


def unique(prefix: str) -> str:
    """A family name no seeded name is near (screening is tolerant of one typo)."""
    return prefix + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:10])


def write(client: Client, query: str, variables: dict[str, Any], agency: str, **kwargs: Any) -> dict[str, Any]:
    """A mutation, tried again while the graph fails: a cold Neo4j on this shared, loaded
    machine plans a new statement for longer than a write's time limit."""
    for _ in range(4):
        body = client.post(query, variables, agency, **kwargs).json()
        codes = {e["extensions"]["code"] for e in body.get("errors", [])}
        # Both failures of the graph: retried blindly, which in these tests at worst records a
        # person twice (under unique names, harmless here).
        if not codes or not codes <= {"SERVICE_UNAVAILABLE", "COMMIT_OUTCOME_UNKNOWN"}:
            assert not codes, body
            return body["data"]  # type: ignore[no-any-return]
        time.sleep(1)
    pytest.fail(f"the graph did not answer: {body}")


def person(client: Client, agency: str, family: str, born: str = "1981-03-04") -> str:
    created = write(client,
        "mutation($i: PersonInput!) { createPerson(input: $i) { id } }",
        {"i": {"familyName": family, "givenNames": "Alerta", "dateOfBirth": born}}, agency=agency,
    )  # fmt: skip
    return str(created["createPerson"]["id"])


def request_notice(client: Client, agency: str, person_id: str) -> str:
    made = write(client,
        "mutation($p: ID!) { requestNotice(input: {personId: $p, type: RED, offenceSummary: \"Fraud\"}) { id } }",
        {"p": person_id}, agency=agency,
    )  # fmt: skip
    return str(made["requestNotice"]["id"])


def publish(client: Client, notice_id: str) -> None:
    write(client, "mutation($n: ID!) { reviewNotice(id: $n, decision: PUBLISH) { id } }", {"n": notice_id}, agency="gs")


def diffuse(client: Client, agency: str, person_id: str, recipients: list[str]) -> str:
    made = write(client,
        "mutation($p: ID!, $r: [String!]) { issueDiffusion(input: {personId: $p, purpose: LOCATE, recipients: $r}) { id } }",
        {"p": person_id, "r": recipients}, agency=agency,
    )  # fmt: skip
    return str(made["issueDiffusion"]["id"])


WATCH = "mutation($p: ID!) { watchPerson(personId: $p) { id } }"


# --- The connection: who may subscribe ------------------------------------------------


def test_the_public_may_not_subscribe_the_connection_is_closed_at_init(
    gateway: GatewayProcess, sockets: list[Socket]
) -> None:
    s = open_socket(sockets, gateway.url, None)
    assert s.close_code() == 4403


def test_an_invalid_token_is_refused_at_init(gateway: GatewayProcess, sockets: list[Socket]) -> None:
    s = Socket.__new__(Socket)
    s.stack = contextlib.ExitStack()
    s.ws = s.stack.enter_context(connect(ws_url(gateway.url), subprotocols=[PROTOCOL], open_timeout=WAIT))  # type: ignore[list-item]
    sockets.append(s)
    s.send({"type": "connection_init", "payload": {"Authorization": "Bearer not-a-token"}})
    assert s.close_code() == 4403


def test_a_page_of_another_site_may_not_open_the_socket(gateway: GatewayProcess) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(gateway.url), subprotocols=[PROTOCOL], open_timeout=WAIT,  # type: ignore[list-item]
                additional_headers={"Origin": "https://evil.example"})  # fmt: skip
    assert refused.value.response.status_code == 403


def test_the_gateways_own_origin_may_open_the_socket(gateway: GatewayProcess, sockets: list[Socket]) -> None:
    host = gateway.url.removeprefix("http://")
    open_socket(sockets, gateway.url, "ncb-fr", Origin=f"http://{host}").acknowledged()


def test_a_connection_without_init_is_closed_after_the_timeout(gateway: GatewayProcess) -> None:
    with connect(ws_url(gateway.url), subprotocols=[PROTOCOL], open_timeout=WAIT) as ws:  # type: ignore[list-item]
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408


def test_subscriptions_per_connection_are_bounded_and_ids_unique(
    gateway: GatewayProcess, sockets: list[Socket]
) -> None:
    s = open_socket(sockets, gateway.url, "ncb-fr").acknowledged()
    for i in range(5):
        s.subscribe(str(i), settle=False)
    s.subscribe("5", settle=False)
    refused = s.receive()
    assert refused["type"] == "error" and refused["id"] == "5"
    assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
    s.subscribe("0", settle=False)  # in use
    assert s.close_code() == 4409


def test_a_subscription_costing_more_than_a_request_may_is_refused(
    gateway: GatewayProcess, sockets: list[Socket]
) -> None:
    # Found by the outside test: the cost limit was applied over HTTP only, and every alert
    # re-runs the selection.
    deep = "subject { notices { subject { notices { subject { notices { id offenceSummary } } } } } }"
    query = "subscription Alerts { noticeAlerts { " + " ".join(f"a{i}: notice {{ {deep} }}" for i in range(25)) + " } }"
    s = open_socket(sockets, gateway.url, "ncb-fr").acknowledged()
    s.subscribe("costly", query, settle=False)
    refused = s.receive()
    assert refused["type"] == "error" and refused["id"] == "costly", refused
    assert refused["payload"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "the limit is 5,000" in refused["payload"][0]["message"]


def test_one_agency_may_not_take_every_subscription_of_a_gateway(
    gateway: GatewayProcess, sockets: list[Socket]
) -> None:
    # Found by the outside test: 205 connections of one agency took all 1,000 slots.
    opened = [open_socket(sockets, gateway.url, "ncb-ca").acknowledged() for _ in range(10)]
    for n, s in enumerate(opened):
        for i in range(5):
            s.subscribe(f"{n}-{i}", settle=False)
    extra = open_socket(sockets, gateway.url, "ncb-ca").acknowledged()
    extra.subscribe("51", settle=False)
    refused = extra.receive()
    assert refused["type"] == "error" and "per agency" in refused["payload"][0]["message"], refused
    other = open_socket(sockets, gateway.url, "ncb-de").acknowledged()
    other.subscribe("1", settle=False)
    other.quiet(2)  # accepted: nothing comes back until there is something to push
    opened[0].close()  # its five subscriptions end and free their slots
    time.sleep(1)
    extra.subscribe("52", settle=False)
    extra.quiet(2)


def test_one_agency_may_not_hold_more_than_its_share_of_connections(
    gateway: GatewayProcess, sockets: list[Socket]
) -> None:
    # Found by the outside test: idle connections without subscriptions were not bounded.
    cap = 2 * 50 // 5
    opened = [open_socket(sockets, gateway.url, "ncb-it").acknowledged() for _ in range(cap)]
    assert open_socket(sockets, gateway.url, "ncb-it").close_code() == 1013
    open_socket(sockets, gateway.url, "ncb-de").acknowledged()  # other agencies are not affected
    opened[0].close()
    time.sleep(0.5)
    open_socket(sockets, gateway.url, "ncb-it").acknowledged()  # a closed connection frees its place


def test_a_message_larger_than_a_request_body_closes_the_connection(
    gateway: GatewayProcess, sockets: list[Socket]
) -> None:
    s = open_socket(sockets, gateway.url, "ncb-fr").acknowledged()
    s.send({"type": "subscribe", "id": "big", "payload": {"query": "x" * 200_000}})
    assert s.close_code() in (1009, 4400)


def test_a_query_is_not_run_over_the_socket(gateway: GatewayProcess, sockets: list[Socket]) -> None:
    s = open_socket(sockets, gateway.url, "ncb-fr").acknowledged()
    s.subscribe("q", "{ person(id: \"P-DEMO-003\") { id } }", settle=False)
    message = s.receive()
    assert message["type"] in ("error", "next") and message["id"] == "q"
    assert "P-DEMO-003" not in json.dumps(message)


# --- Watches and saved screenings -------------------------------------------------------


def test_watching_a_hidden_person_answers_like_watching_a_missing_one(client: Client) -> None:
    hidden = person(client, "ncb-fr", unique("Hid"))  # recorded by France: Germany does not see it
    answers = []
    for person_id in (hidden, "P-NO-SUCH-PERSON"):
        body = client.post(WATCH, {"p": person_id}, agency="ncb-de").json()
        answers.append((body["data"], body["errors"][0]["extensions"]["code"],
                        body["errors"][0]["message"].replace(person_id, "<id>")))  # fmt: skip
    assert answers[0] == answers[1] == ({"watchPerson": None}, "NOT_FOUND", "no Person '<id>'")


def test_saved_screenings_are_the_agencys_own_and_can_be_removed(client: Client) -> None:
    family = unique("Scr")
    saved = client.data(
        "mutation($i: ScreeningInput!) { saveScreening(input: $i) { id familyName dateOfBirth } }",
        {"i": {"familyName": family, "dateOfBirth": "1970-01-02"}}, agency="ncb-de",
    )["saveScreening"]  # fmt: skip
    assert saved["familyName"] == family and saved["dateOfBirth"] == "1970-01-02"
    listed = client.data("{ savedScreenings { id familyName } }", agency="ncb-de")["savedScreenings"]
    assert {"id": saved["id"], "familyName": family} in listed
    others = client.data("{ savedScreenings { id } }", agency="ncb-fr")["savedScreenings"]
    assert saved["id"] not in [s["id"] for s in others]
    remove = "mutation($s: ID!) { removeSavedScreening(id: $s) }"
    assert client.error_code(remove, {"s": saved["id"]}, agency="ncb-fr") == "NOT_FOUND"
    assert client.data(remove, {"s": saved["id"]}, agency="ncb-de") == {"removeSavedScreening": True}
    listed = client.data("{ savedScreenings { id } }", agency="ncb-de")["savedScreenings"]
    assert saved["id"] not in [s["id"] for s in listed]


def test_saved_screenings_have_the_caps_of_screen(client: Client) -> None:
    body = client.post(
        "mutation($i: ScreeningInput!) { saveScreening(input: $i) { id } }",
        {"i": {"familyName": "x" * 201}}, agency="ncb-de",
    ).json()  # fmt: skip
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "familyName" in body["errors"][0]["message"]


def test_a_screen_only_agency_may_not_save_screenings(client: Client) -> None:
    code = client.error_code(
        "mutation { saveScreening(input: {familyName: \"Nurlanowa\"}) { id } }", agency="border-nl",
        purpose="BORDER_CHECK",
    )  # fmt: skip
    assert code == "FORBIDDEN"


# --- What is pushed, and how it is masked ------------------------------------------------


def test_a_watched_persons_new_notice_reaches_the_watcher_when_published_and_the_source_at_each_step(
    client: Client, sockets: list[Socket], gateway: GatewayProcess, record_property: Any
) -> None:
    subject = person(client, "ncb-fr", unique("Wat"))
    diffusion = diffuse(client, "ncb-fr", subject, ["DE"])  # Germany now sees the person
    assert write(client, WATCH, {"p": subject}, agency="ncb-de") == {"watchPerson": {"id": subject}}
    watcher = open_socket(sockets, gateway.url, "ncb-de").acknowledged()
    source = open_socket(sockets, gateway.url, "ncb-fr").acknowledged()
    watcher.subscribe()
    source.subscribe()

    notice = request_notice(client, "ncb-fr", subject)
    first = source.alerts_until(notice, "REQUESTED")[-1]
    assert first["reasons"] == ["OWN_ITEM"] and first["notice"]["subject"] == {"id": subject}
    watcher.quiet()  # a requested notice is the source's alone (R5)

    publish(client, notice)
    published = time.monotonic()
    seen = watcher.alert()
    record_property("seconds_from_publication_to_alert", round(time.monotonic() - published, 1))
    assert seen == {
        "reasons": ["WATCHED_PERSON"], "savedScreeningIds": [],
        "notice": {"id": notice, "status": "PUBLISHED", "statusReason": None, "blocked": None, "type": "RED",
                   "subject": {"id": subject}},
        "diffusion": None,
    }  # fmt: skip
    assert source.alerts_until(notice, "PUBLISHED")[-1]["notice"]["status"] == "PUBLISHED"
    # The diffusion issued before the watch began was baselined, not pushed.
    assert diffusion not in json.dumps(seen)


def test_an_unwatched_persons_items_are_no_longer_pushed(
    client: Client, sockets: list[Socket], gateway: GatewayProcess
) -> None:
    subject = person(client, "ncb-fr", unique("Unw"))
    diffuse(client, "ncb-fr", subject, ["DE"])
    write(client, WATCH, {"p": subject}, agency="ncb-de")
    watcher = open_socket(sockets, gateway.url, "ncb-de").acknowledged()
    watcher.subscribe()
    unwatch = "mutation($p: ID!) { unwatchPerson(personId: $p) { id } }"
    assert write(client, unwatch, {"p": subject}, agency="ncb-de") == {"unwatchPerson": {"id": subject}}
    assert subject not in json.dumps(client.data("{ watchedPersons { id } }", agency="ncb-de"))
    notice = request_notice(client, "ncb-fr", subject)
    publish(client, notice)
    watcher.quiet()


def test_a_block_reads_as_a_cancellation_to_the_source_and_reaches_no_one_else(
    client: Client, sockets: list[Socket], gateway: GatewayProcess
) -> None:
    subject = person(client, "ncb-kz", unique("Blk"))
    notice = request_notice(client, "ncb-kz", subject)
    publish(client, notice)
    write(client, WATCH, {"p": subject}, agency="ncb-de")
    watcher = open_socket(sockets, gateway.url, "ncb-de").acknowledged()
    source = open_socket(sockets, gateway.url, "ncb-kz").acknowledged()
    watcher.subscribe()
    source.subscribe()

    application = write(
        client, "mutation($p: ID!) { fileAsylumApplication(input: {personId: $p, fearedPersecutionCountry: \"KZ\", "
        "lodgedAt: \"2026-10-01\"}) { id } }", {"p": subject}, agency="asylum-nl", purpose="ASYLUM_SCREENING",
    )["fileAsylumApplication"]["id"]  # fmt: skip
    write(
        client, "mutation($a: ID!) { decideAsylumApplication(id: $a, input: {outcome: GRANTED, decidedAt: \"2026-11-01\", "
        "legalBasis: CONVENTION_1951}) { id } }", {"a": application}, agency="asylum-nl", purpose="ASYLUM_SCREENING",
    )  # fmt: skip

    alert = source.alerts_until(notice, "CANCELLED")[-1]
    assert alert["notice"]["statusReason"] == GENERIC_BLOCK_REASON
    assert alert["notice"]["blocked"] is None
    # Exactly what the source's query shows.
    queried = client.data(
        "query($n: ID!) { notice(id: $n) { id status statusReason blocked type subject { id } } }",
        {"n": notice}, agency="ncb-kz",
    )["notice"]  # fmt: skip
    assert alert["notice"] == queried
    # The watcher learns nothing: not of the filing (a flag for the GS), not of the block.
    watcher.quiet()


def test_a_saved_screenings_new_hit_is_pushed_with_the_screening_named(
    client: Client, sockets: list[Socket], gateway: GatewayProcess
) -> None:
    family = unique("Hit")
    saved = write(
        client, "mutation($i: ScreeningInput!) { saveScreening(input: $i) { id } }",
        {"i": {"familyName": family, "dateOfBirth": "1981-03-04"}}, agency="ncb-de",
    )["saveScreening"]["id"]  # fmt: skip
    try:
        watcher = open_socket(sockets, gateway.url, "ncb-de").acknowledged()
        watcher.subscribe()
        subject = person(client, "ncb-fr", family)
        diffusion = diffuse(client, "ncb-fr", subject, ["DE", "JP"])
        alert = watcher.alert()
        assert alert["reasons"] == ["SAVED_SCREENING"] and alert["savedScreeningIds"] == [saved]
        assert alert["diffusion"] == {"id": diffusion, "status": "ACTIVE", "subjectToReview": True}
        assert alert["notice"] is None
    finally:
        client.data("mutation($s: ID!) { removeSavedScreening(id: $s) }", {"s": saved}, agency="ncb-de")


def test_every_delivery_is_audited_like_a_read(
    client: Client, sockets: list[Socket], gateway: GatewayProcess
) -> None:
    source = open_socket(sockets, gateway.url, "ncb-fr").acknowledged()
    source.subscribe()
    subject = person(client, "ncb-fr", unique("Aud"))
    notice = request_notice(client, "ncb-fr", subject)
    source.alerts_until(notice, "REQUESTED")
    events = client.data(
        '{ auditEvents(filter: {agencyId: "ncb-fr", operation: "Alerts:noticeAlerts"}, first: 50) '
        "{ edges { node { ids purpose outcome userId } } } }",
        agency="ccf", purpose="DATA_PROTECTION_REVIEW",
    )["auditEvents"]["edges"]  # fmt: skip
    mine = [e["node"] for e in events if f"Notice:{notice}" in e["node"]["ids"]]
    assert mine and mine[0]["purpose"] == "INVESTIGATION" and mine[0]["outcome"] == "OK"
    assert f"Person:{subject}" in mine[0]["ids"]


def test_a_subscription_on_another_replica_receives_changes_written_through_this_one(
    client: Client, sockets: list[Socket], seeded: Driver, neo4j_auth: tuple[str, str, str]
) -> None:
    replica = GatewayProcess(gateway_env(neo4j_auth))
    try:
        source = open_socket(sockets, replica.url, "ncb-fr").acknowledged()
        source.subscribe()
        subject = person(client, "ncb-fr", unique("Rep"))
        notice = request_notice(client, "ncb-fr", subject)  # through the session's gateway
        assert source.alerts_until(notice, "REQUESTED")[-1]["reasons"] == ["OWN_ITEM"]
    finally:
        replica.stop()


def test_a_deactivated_agencys_subscription_ends_within_seconds(
    client: Client, sockets: list[Socket], seeded: Driver, record_property: Any
) -> None:
    s = open_socket(sockets, client.url, "judicial-fr").acknowledged()
    s.subscribe()
    try:
        seeded.execute_query("MATCH (a:Agency {id:'judicial-fr'}) SET a.active=false")
        started = time.monotonic()
        ended = s.receive()
        while ended["type"] == "next" and "errors" not in ended["payload"]:
            ended = s.receive()  # an alert about France's own items, written just before
        assert ended["type"] == "next"
        assert ended["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        elapsed = time.monotonic() - started
        record_property("seconds_to_end", round(elapsed, 1))  # in --junitxml reports
        assert s.receive()["type"] == "complete"
        assert elapsed < 15  # 5 s by design; generous on a shared machine
    finally:
        seeded.execute_query("MATCH (a:Agency {id:'judicial-fr'}) SET a.active=true")


def test_a_subscription_posted_over_http_is_refused_with_a_pointer_to_the_socket(client: Client) -> None:
    response = client.post(ALERTS, agency="ncb-fr")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "WebSocket" in error["message"]


# --- Pure logic: the change feed and the handshake checks ------------------------------


class FakeGraph:
    """The two statements the change feed runs, answered from a list of changes."""

    timeout = 1.0

    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.now = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
        self.changes: list[dict[str, Any]] = []

    async def read(self, cypher: str, params: dict[str, Any], timeout: float | None = None) -> list[dict[str, Any]]:
        from neo4j.time import DateTime

        now = DateTime.from_native(self.now)
        if "changes" not in cypher:
            return [{"now": now}]
        recent = [c for c in self.changes if c["at"].to_native() > params["since"]]
        return [{"changes": recent, "now": now}]

    def change(self, item: str, seconds_ago: float) -> None:
        from datetime import timedelta

        from neo4j.time import DateTime

        at = DateTime.from_native(self.now - timedelta(seconds=seconds_ago))
        self.changes.append({"label": "Notice", "id": item, "at": at, "source": "FR", "subject": "P-1"})


def test_the_change_feed_hands_each_change_once_and_only_to_subscriptions_open_before_it() -> None:
    import asyncio
    from datetime import timedelta

    from gateway.store.changes import ChangeFeed

    async def scenario() -> list[list[str]]:
        graph = FakeGraph()
        graph.change("N-BEFORE", seconds_ago=5)  # changed before anyone subscribed
        feed = ChangeFeed(graph, interval=3600)  # type: ignore[arg-type]
        subscriber = await feed.subscribe()
        assert subscriber.take() == []
        graph.now += timedelta(seconds=1)
        graph.change("N-AFTER", seconds_ago=0.5)
        await feed._look()
        first = [c.id for c in subscriber.take()]
        graph.now += timedelta(seconds=1)
        await feed._look()  # the same change, read again within the overlap: not handed out again
        second = [c.id for c in subscriber.take()]
        graph.change("N-AFTER", seconds_ago=0.2)  # changed again: a new changedAt
        await feed._look()
        third = [c.id for c in subscriber.take()]
        feed.unsubscribe(subscriber)
        await feed.close()
        return [first, second, third]

    assert asyncio.run(scenario()) == [["N-AFTER"], [], ["N-AFTER"]]


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        (None, "gateway.example", True),  # not a browser
        ("https://gateway.example", "gateway.example", True),
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("https://evil.example", "gateway.example", False),
        ("https://gateway.example.evil.example", "gateway.example", False),
        ("http://127.0.0.1:8001", "127.0.0.1:8000", False),
        ("null", "gateway.example", False),  # a sandboxed frame or a file
    ],
)
def test_only_the_gateways_own_origin_or_no_origin_may_open_the_socket(
    origin: str | None, host: str, allowed: bool
) -> None:
    from types import SimpleNamespace

    from gateway.http.websocket import _same_origin

    headers = {"host": host, **({"origin": origin} if origin is not None else {})}
    assert _same_origin(SimpleNamespace(headers=headers)) is allowed  # type: ignore[arg-type]


def test_pings_do_not_hold_a_connection_open_without_init(gateway: GatewayProcess) -> None:
    with connect(ws_url(gateway.url), subprotocols=[PROTOCOL], open_timeout=WAIT) as ws:  # type: ignore[list-item]
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            while time.monotonic() - started < WAIT:
                ws.send(json.dumps({"type": "ping"}))
                assert json.loads(ws.recv(timeout=WAIT))["type"] == "pong"
                time.sleep(0.5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408


def test_the_cost_model_counts_the_agencys_watch_and_screening_lists_at_their_caps() -> None:
    from gateway.graphql.limits import ROW_BOUNDS
    from gateway.store.watches import MAX_SAVED_SCREENINGS, MAX_WATCHES

    assert ROW_BOUNDS[("Query", "watchedPersons")] == MAX_WATCHES
    assert ROW_BOUNDS[("Query", "savedScreenings")] == MAX_SAVED_SCREENINGS


def test_the_change_feed_looks_at_the_real_graph_when_nothing_changed(
    seeded: Driver, neo4j_auth: tuple[str, str, str]
) -> None:
    import asyncio

    from neo4j import AsyncGraphDatabase

    from gateway.store.changes import ChangeFeed
    from gateway.store.db import Graph

    uri, user, password = neo4j_auth

    async def look() -> tuple[bool, int]:
        async with AsyncGraphDatabase.driver(uri, auth=(user, password)) as driver:
            feed = ChangeFeed(Graph(driver, None), overlap=0.0)  # nothing changed after "now"
            subscriber = await feed.subscribe()  # waits for a first look that succeeded
            await feed._look()
            feed.unsubscribe(subscriber)
            await feed.close()
            return feed._looked.is_set(), len(subscriber.take())

    assert asyncio.run(look()) == (True, 0)
