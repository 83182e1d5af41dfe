"""Decorators that put metrics and spans around the graph's statements and the audit writer,
so the modules they watch carry one line each. Per call: two clock reads and a few
prometheus-client updates; a span only when tracing is on."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from gateway.observability import metrics, tracing

P = ParamSpec("P")
T = TypeVar("T")


def statement(kind: str) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """A Neo4j statement (``read``) or write transaction (``write``): its time by outcome, the
    number running, and a ``neo4j.KIND`` span."""
    in_flight = metrics.STATEMENTS_IN_FLIGHT.labels(kind)
    ok, failed = metrics.STATEMENT_SECONDS.labels(kind, "ok"), metrics.STATEMENT_SECONDS.labels(kind, "error")
    name = f"neo4j.{kind}"

    def decorate(function: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(function)
        async def observed(*args: P.args, **kwargs: P.kwargs) -> T:
            tracing.statement_started(kind)
            in_flight.inc()
            started = time.perf_counter()
            try:
                with tracing.span(name, {"db.system.name": "neo4j"}):
                    result = await function(*args, **kwargs)
            except BaseException:
                failed.observe(time.perf_counter() - started)
                raise
            finally:
                in_flight.dec()
            ok.observe(time.perf_counter() - started)
            return result

        return observed

    return decorate


def audit_wait(function: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """A request waiting for its audit event's commit (``AuditLog.record``)."""

    @functools.wraps(function)
    async def observed(*args: P.args, **kwargs: P.kwargs) -> T:
        metrics.AUDIT_WAITING.inc()
        try:
            with tracing.span("audit.record"):
                return await function(*args, **kwargs)
        finally:
            metrics.AUDIT_WAITING.dec()

    return observed


def audit_commit(function: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """One group commit (``AuditLog._append(self, events)``): its time by outcome, its size,
    and a span that starts a trace of its own (the writer serves many requests)."""
    ok, failed = metrics.AUDIT_COMMIT_SECONDS.labels("ok"), metrics.AUDIT_COMMIT_SECONDS.labels("error")

    @functools.wraps(function)
    async def observed(self: Any, events: list[Any], *args: Any, **kwargs: Any) -> T:
        metrics.AUDIT_BATCH_EVENTS.observe(len(events))
        started = time.perf_counter()
        try:
            with tracing.span("audit.commit", {"gateway.audit.events": len(events)}, root=True):
                result = await function(self, events, *args, **kwargs)
        except BaseException:
            failed.observe(time.perf_counter() - started)
            raise
        ok.observe(time.perf_counter() - started)
        return result

    return observed
