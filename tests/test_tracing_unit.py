"""Spans and labels without a server: the tracing extension and hooks against the SDK's
in-memory exporter, the label rules, and the /metrics address check."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pytest
import strawberry
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from gateway.http.metrics import allowed, networks
from gateway.observability import hooks, metrics, tracing

SECRET_ID, SECRET_NAME = "P-SECRET-42", "Quarmbyfield"


@hooks.statement("read")
async def fake_read(cypher: str, params: dict[str, str]) -> list[dict[str, str]]:
    await asyncio.sleep(0)
    if params["id"] == "boom":
        raise ValueError(f"constraint failed for {SECRET_NAME}")  # messages may quote values
    return [{"id": params["id"], "familyName": SECRET_NAME}]


@strawberry.type
class Person:
    id: str
    family_name: str


@strawberry.type
class Query:
    @strawberry.field
    async def person(self, id: str) -> Person | None:
        rows = await fake_read("MATCH (p:Person {id: $id}) RETURN p", {"id": id})
        return Person(id=rows[0]["id"], family_name=rows[0]["familyName"])


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    try:
        yield exporter
    finally:
        tracing.use(None)


def schema() -> strawberry.Schema:
    built = strawberry.Schema(query=Query)
    tracing.instrument(built)
    return built


def by_name(finished: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    return {s.name: s for s in finished}


def no_personal_data(finished: tuple[ReadableSpan, ...]) -> None:
    for s in finished:
        text = repr(dict(s.attributes or {})) + repr([e.attributes for e in s.events]) + repr(s.status)
        for secret in (SECRET_ID, SECRET_NAME, "MATCH"):
            assert secret not in text, (s.name, text)


def test_a_query_makes_parse_validate_execute_resolve_compile_and_read_spans(
    spans: InMemorySpanExporter,
) -> None:
    document = f'query Card {{ person(id: "{SECRET_ID}") {{ id familyName }} }}'

    async def request() -> strawberry.types.ExecutionResult:
        with tracing.span("POST /graphql"):  # what the HTTP middleware opens
            return await schema().execute(document)

    assert asyncio.run(request()).errors is None
    finished = spans.get_finished_spans()
    named = by_name(finished)
    assert set(named) == {
        "POST /graphql", "graphql.parse", "graphql.validate", "graphql.execute", "graphql.resolve",
        "gateway.compile", "neo4j.read",
    }  # fmt: skip
    assert len(finished) == 7  # nested fields (id, familyName) get no spans
    for step in ("graphql.parse", "graphql.validate", "graphql.execute"):
        parent = named[step].parent
        assert parent is not None and parent.span_id == named["POST /graphql"].context.span_id, step
    resolve = named["graphql.resolve"]
    assert resolve.parent is not None and resolve.parent.span_id == named["graphql.execute"].context.span_id
    for child in ("gateway.compile", "neo4j.read"):
        assert named[child].parent is not None and named[child].parent.span_id == resolve.context.span_id
    assert named["gateway.compile"].end_time <= named["neo4j.read"].start_time  # type: ignore[operator]
    assert dict(resolve.attributes or {}) == {"graphql.field.name": "person"}
    assert len({s.context.trace_id for s in finished}) == 1
    no_personal_data(finished)


def test_a_failed_statement_marks_its_span_with_the_error_type_but_not_the_message(
    spans: InMemorySpanExporter,
) -> None:
    result = asyncio.run(schema().execute('{ person(id: "boom") { id } }'))
    assert result.errors
    read = by_name(spans.get_finished_spans())["neo4j.read"]
    assert read.status.status_code is StatusCode.ERROR
    assert read.attributes is not None and read.attributes["error.type"] == "ValueError"
    assert not read.events  # no exception event: its message quotes a value
    no_personal_data(spans.get_finished_spans())


def test_audit_commits_start_a_trace_of_their_own(spans: InMemorySpanExporter) -> None:
    @hooks.audit_commit
    async def append(self: object, events: list[dict[str, str]]) -> None:
        await asyncio.sleep(0)

    async def request() -> None:
        with tracing.span("POST /graphql"):
            await append(None, [{"ids": SECRET_ID}, {"ids": SECRET_ID}])

    asyncio.run(request())
    named = by_name(spans.get_finished_spans())
    commit = named["audit.commit"]
    assert commit.parent is None
    assert commit.context.trace_id != named["POST /graphql"].context.trace_id
    assert dict(commit.attributes or {}) == {"gateway.audit.events": 2}
    no_personal_data(spans.get_finished_spans())


def test_tracing_off_adds_no_extension_and_no_spans() -> None:
    tracing.use(None)
    built = schema()
    assert tracing.TracingExtension not in built.extensions
    assert tracing.span("neo4j.read") is tracing.span("audit.record")  # one shared no-op
    assert isinstance(tracing.span("x"), contextlib.nullcontext)
    assert tracing.configure("") is False and not tracing.enabled()


def test_operation_labels_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "_operations", set())
    monkeypatch.setattr(metrics, "MAX_OPERATIONS", 3)
    assert metrics.operation_label("Card", validated=False) == "(none)"
    assert metrics.operation_label(None, validated=True) == "(anonymous)"
    assert metrics.operation_label("A" * 100, validated=True) == "A" * 64
    assert metrics.operation_label("Card", validated=True) == "Card"
    assert metrics.operation_label("not a name", validated=True) == "(other)"
    assert metrics.operation_label("Third", validated=True) == "Third"
    assert metrics.operation_label("Fourth", validated=True) == "(other)"  # beyond the cap
    assert metrics.operation_label("Card", validated=True) == "Card"  # known names keep theirs
    assert metrics.operation_label("Card", validated=True, authenticated=False) == "(public)"


def test_outcome_labels_come_from_the_closed_set_of_codes() -> None:
    assert metrics.outcome_label("OK") == ("OK", [])
    assert metrics.outcome_label("NOT_FOUND") == ("NOT_FOUND", ["NOT_FOUND"])
    assert metrics.outcome_label("BAD_USER_INPUT,NOT_FOUND") == ("MULTIPLE", ["BAD_USER_INPUT", "NOT_FOUND"])
    assert metrics.outcome_label("Jean Moreau") == ("(other)", ["(other)"])


def test_metrics_addresses_match_addresses_and_networks() -> None:
    allow = networks("127.0.0.1, ::1, 10.1.0.0/16")
    assert allowed("127.0.0.1", allow) and allowed("::1", allow) and allowed("10.1.200.3", allow)
    assert allowed("::ffff:127.0.0.1", allow)  # an IPv4 client on a dual-stack socket
    assert not allowed("10.2.0.1", allow) and not allowed("192.0.2.1", allow)
    assert not allowed("testclient", allow) and not allowed(None, allow)
    assert not allowed("127.0.0.1", networks(""))  # empty: nobody
    with pytest.raises(ValueError, match="GATEWAY_METRICS_ALLOW_IPS: 'localhost'"):
        networks("127.0.0.1,localhost")
