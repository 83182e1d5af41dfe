"""OpenTelemetry traces, exported over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set and
entirely off otherwise: then no tracer exists, ``span`` hands back one shared no-op context
manager, and the schema gets no tracing extension (nothing wraps the resolvers).

Spans (names are fixed; attributes are operation names, field names, counts and status codes,
never ids, query text, variables, agencies, users or addresses):

- ``POST /graphql`` (any ``METHOD route``): the request, a server span that continues the
  caller's W3C ``traceparent``;
- ``graphql.parse``, ``graphql.validate``, ``graphql.execute``: strawberry's steps;
- ``graphql.resolve``: one per root field, with ``graphql.field.name``;
- ``gateway.compile``: a root field's selection compiled into its statement (from the field's
  start to the statement's);
- ``neo4j.read``, ``neo4j.write``: one per statement or write transaction;
- ``audit.record``: a request waiting for its audit event to commit;
- ``audit.commit``: one group commit of the audit writer, a trace of its own (it serves many
  requests), with ``gateway.audit.events``.

Exceptions mark a span as failed with ``error.type`` (the class name) only: their messages may
quote values (a constraint violation names the property value), so they are not recorded.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from inspect import isawaitable
from typing import TYPE_CHECKING, Any

from strawberry.extensions import SchemaExtension

if TYPE_CHECKING:
    import strawberry
    from opentelemetry.context import Context as OtelContext
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer

Attributes = Mapping[str, str | int | float | bool]

_tracer: Tracer | None = None
_provider: TracerProvider | None = None
_OFF: contextlib.nullcontext[None] = contextlib.nullcontext()
# When the current root field started (ns), until its first statement: the compile span.
_compile_start: ContextVar[int | None] = ContextVar("compile_start", default=None)


def enabled() -> bool:
    return _tracer is not None


def configure(endpoint: str, service_name: str = "gateway") -> bool:
    """Export spans to ``endpoint`` (OTLP/HTTP, the collector's base URL) in batches, off the
    request path; nothing at all when it is empty. The SDK's own variables still apply
    (``OTEL_SERVICE_NAME``, ``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_TRACES_SAMPLER``,
    ``OTEL_BSP_*``)."""
    if not endpoint:
        return False
    shutdown()  # a provider left by an earlier app in this process
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # The generic variable names the collector; traces go to its /v1/traces (OTLP spec). A
    # traces-specific endpoint, when set, is used as it stands by the exporter itself.
    traces = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or endpoint.rstrip("/") + "/v1/traces"
    provider = TracerProvider(
        resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or service_name})
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces)))
    use(provider)
    return True


def use(provider: TracerProvider | None) -> None:
    """Trace into ``provider`` (tests pass one with an in-memory exporter); None: off."""
    global _tracer, _provider
    _provider = provider
    _tracer = provider.get_tracer("gateway") if provider is not None else None


def shutdown() -> None:
    """Export what is still buffered (at the end of the service)."""
    if _provider is not None:
        _provider.shutdown()
    use(None)


def span(
    name: str, attributes: Attributes | None = None, root: bool = False
) -> contextlib.AbstractContextManager[Span | None]:
    """A span around a block, the current one's child (or a trace's root with ``root``); a
    shared no-op when tracing is off."""
    if _tracer is None:
        return _OFF
    from opentelemetry.context import Context

    return _span(_tracer, name, attributes, Context() if root else None)


def server_span(
    method: str, route: str, headers: Iterator[tuple[bytes, bytes]] | list[tuple[bytes, bytes]]
) -> contextlib.AbstractContextManager[Span | None]:
    """The request's span, continuing the caller's W3C trace context when it sends one."""
    if _tracer is None:
        return _OFF
    from opentelemetry.trace import SpanKind
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier = {
        k.decode("latin-1"): v.decode("latin-1") for k, v in headers if k in (b"traceparent", b"tracestate")
    }
    parent = TraceContextTextMapPropagator().extract(carrier) if carrier else None
    attributes = {"http.request.method": method, "http.route": route}
    return _span(_tracer, f"{method} {route}", attributes, parent, SpanKind.SERVER)


@contextlib.contextmanager
def _span(
    tracer: Tracer, name: str, attributes: Attributes | None, context: OtelContext | None, kind: Any = None
) -> Iterator[Span]:
    from opentelemetry.trace import SpanKind, Status, StatusCode

    with tracer.start_as_current_span(
        name, context=context, kind=kind or SpanKind.INTERNAL, attributes=attributes,
        record_exception=False, set_status_on_exception=False,
    ) as current:  # fmt: skip
        try:
            yield current
        except BaseException as error:
            current.set_status(Status(StatusCode.ERROR))
            current.set_attribute("error.type", type(error).__name__)
            raise


def statement_started(kind: str) -> None:
    """A statement starts: close the root field's compile span (reads only; a write's
    preparation is not a compilation)."""
    start = _compile_start.get()
    if start is None or _tracer is None:
        return
    _compile_start.set(None)
    if kind == "read":
        _tracer.start_span("gateway.compile", start_time=start).end()


class TracingExtension(SchemaExtension):
    """strawberry's steps as spans, and one span per root field (nested fields are resolved
    from the rows already fetched: spans for them would cost more than they tell)."""

    def on_parse(self) -> Iterator[None]:  # type: ignore[override]
        with span("graphql.parse"):
            yield

    def on_validate(self) -> Iterator[None]:  # type: ignore[override]
        with span("graphql.validate"):
            yield

    def on_execute(self) -> Iterator[None]:  # type: ignore[override]
        with span("graphql.execute"):
            yield

    def resolve(self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        if info.path.prev is not None:
            return _next(root, info, *args, **kwargs)
        return self._root_field(_next, root, info, *args, **kwargs)

    async def _root_field(
        self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
    ) -> Any:
        with span("graphql.resolve", {"graphql.field.name": info.field_name}):
            token = _compile_start.set(time.time_ns())
            try:
                result = _next(root, info, *args, **kwargs)
                return await result if isawaitable(result) else result
            finally:
                _compile_start.reset(token)


def instrument(schema: strawberry.Schema) -> None:
    """Add the tracing extension to a built schema when tracing is on (strawberry builds the
    extensions afresh for every request from this tuple)."""
    if _tracer is not None and TracingExtension not in schema.extensions:
        schema.extensions = (*schema.extensions, TracingExtension)
