"""Traces from a real gateway to an OTLP/HTTP receiver in this test: the spans of a request
arrive, continue the caller's trace, nest as documented, and carry no personal data."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from neo4j import Driver
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from seed import demo
from tests.conftest import Client, GatewayProcess, gateway_env

PERSON = "query PersonCard($id: ID!) { person(id: $id) { id familyName givenNames dateOfBirth } }"
SCREEN = "query Screen($input: ScreeningInput!) { screen(input: $input) { outcome } }"
TRACE_ID, PARENT_ID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


class Receiver:
    """An OTLP/HTTP trace receiver: decodes each protobuf POST to /v1/traces into spans."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest.FromString(body)
                with receiver.lock:
                    receiver.paths.append(self.path)
                    for resource in request.resource_spans:
                        for scope in resource.scope_spans:
                            receiver.spans.extend(_span(s) for s in scope.spans)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, trace_id: str, names: set[str], timeout: float = 20) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                found = [s for s in self.spans if s["trace"] == trace_id]
            if names <= {s["name"] for s in found} or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def wait_for_all(self, name: str, timeout: float = 20) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                found = [s for s in self.spans if s["name"] == name]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


def _span(s: Any) -> dict[str, Any]:
    def plain(v: Any) -> Any:
        return getattr(v, v.WhichOneof("value")) if v.WhichOneof("value") else None

    return {
        "name": s.name, "trace": s.trace_id.hex(), "id": s.span_id.hex(), "parent": s.parent_span_id.hex(),
        "attributes": {a.key: plain(a.value) for a in s.attributes},
        "events": [e.name for e in s.events], "status": s.status.code,
    }  # fmt: skip


def _readable(spans: list[dict[str, Any]]) -> str:
    """What a span says, without its random ids (a hex id may hold "1961" by chance)."""
    return repr([(s["name"], s["attributes"], s["events"]) for s in spans])


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture(scope="module")
def traced(seeded: Driver, neo4j_auth: tuple[str, str, str], receiver: Receiver) -> Iterator[GatewayProcess]:
    process = GatewayProcess(
        gateway_env(neo4j_auth, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_BSP_SCHEDULE_DELAY="100")
    )
    try:
        yield process
    finally:
        process.stop()


def test_a_request_sends_its_spans_over_otlp_in_the_callers_trace(
    traced: GatewayProcess, receiver: Receiver
) -> None:
    client = Client(traced.url)
    traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01"
    response = client.post(
        PERSON, {"id": demo.DEMO_PERSON_MISSING}, agency="ncb-fr", headers={"traceparent": traceparent}
    )
    person = response.json()["data"]["person"]
    assert person is not None
    expected = {
        "POST /graphql", "graphql.parse", "graphql.validate", "graphql.execute", "graphql.resolve",
        "gateway.compile", "neo4j.read", "audit.record",
    }  # fmt: skip
    spans = receiver.wait_for(TRACE_ID, expected)
    named = {s["name"]: s for s in spans}
    assert expected <= set(named), sorted(named)
    assert set(receiver.paths) == {"/v1/traces"}

    server = named["POST /graphql"]
    assert server["parent"] == PARENT_ID  # the caller's span
    assert server["attributes"] == {
        "http.request.method": "POST", "http.route": "/graphql", "http.response.status_code": 200,
        "graphql.operation.name": "PersonCard", "gateway.outcome": "OK",
    }  # fmt: skip
    for child in ("graphql.parse", "graphql.validate", "graphql.execute", "audit.record"):
        assert named[child]["parent"] == server["id"], child
    resolve = named["graphql.resolve"]
    assert resolve["parent"] == named["graphql.execute"]["id"]
    assert resolve["attributes"] == {"graphql.field.name": "person"}
    assert named["gateway.compile"]["parent"] == resolve["id"]
    person_reads = [s for s in spans if s["name"] == "neo4j.read" and s["parent"] == resolve["id"]]
    assert len(person_reads) == 1

    # The audit writer's commit is a trace of its own.
    commits = [
        s for s in receiver.wait_for_all("audit.commit") if s["attributes"].get("gateway.audit.events")
    ]
    assert commits and all(c["parent"] == "" for c in commits)

    text = _readable(spans)
    for secret in (demo.DEMO_PERSON_MISSING, person["familyName"], person["givenNames"], person["dateOfBirth"],
                   "ncb-fr", "tester", "127.0.0.1", "MATCH", "query"):  # fmt: skip
        assert secret not in text, secret


def test_a_refused_screening_leaves_no_name_in_its_spans(traced: GatewayProcess, receiver: Receiver) -> None:
    client = Client(traced.url)
    trace_id = "5bf92f3577b34da6a3ce929d0e0e4737"
    name, given, birth = "Quarmbyfield", "Ottoline", "1961-07-29"
    variables = {"input": {"familyName": name, "givenNames": given, "dateOfBirth": birth}}
    response = client.post(
        SCREEN, variables, agency="ncb-fr", purpose="ASYLUM_SCREENING",
        headers={"traceparent": f"00-{trace_id}-{PARENT_ID}-01"},
    )  # fmt: skip
    assert response.json()["data"]["screen"]["outcome"] in {"HIT", "NO_HIT"}
    spans = receiver.wait_for(trace_id, {"POST /graphql", "neo4j.read", "audit.record"})
    assert {"POST /graphql", "graphql.resolve", "neo4j.read"} <= {s["name"] for s in spans}
    text = _readable(spans)
    for secret in (name, given, birth, "1961"):
        assert secret not in text, secret
