"""The Prometheus metrics, and the rules that keep their labels bounded and impersonal.

Label values come from closed sets: the app's route templates, HTTP status codes, the error
codes of ``gateway.errors.Code``, statement kinds, and GraphQL operation names. Operation names
are chosen by clients, so a name becomes a label only when its document passed validation
(a string that merely parsed, or failed, is ``(none)``) and its caller had a token (else
``(public)``: anyone could fill the slots), cut to 64 characters, and only the
first ``MAX_OPERATIONS`` distinct names of a process get their own series; later ones count
as ``(other)``. The parenthesised values cannot clash with a GraphQL name. Never a label:
ids, variables, query text, agencies, users, client addresses.

With ``PROMETHEUS_MULTIPROC_DIR`` set (several worker processes), prometheus-client keeps the
values in files there and ``/metrics`` sums every worker's; the gauges say how they combine.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from gateway.errors import Code

MAX_OPERATIONS = 100
NAME_LENGTH = 64
OTHER, NONE, ANONYMOUS, PUBLIC, MULTIPLE = "(other)", "(none)", "(anonymous)", "(public)", "MULTIPLE"
OUTCOMES = frozenset({"OK", "AUDIT_UNAVAILABLE", *Code.__members__})
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
# A ``_created`` series beside every counter and histogram doubles the series for a value
# nobody here reads (a restart shows as a reset anyway).
disable_created_metrics()

# Seconds: the GraphQL answers range from a cached look-up (~2 ms) to the time limits (10 s + 3 s).
LATENCY = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)

HTTP_REQUESTS = Counter(
    "gateway_http_requests", "HTTP requests answered, by route template and status.", ["route", "status"]
)
HTTP_SECONDS = Histogram(
    "gateway_http_request_duration_seconds", "Time to answer an HTTP request, by route template.",
    ["route"], buckets=LATENCY,
)  # fmt: skip
GRAPHQL_REQUESTS = Counter(
    "gateway_graphql_requests",
    "GraphQL requests by operation name and outcome (OK, the answer's error code, or MULTIPLE).",
    ["operation", "outcome"],
)
GRAPHQL_SECONDS = Histogram(
    "gateway_graphql_request_duration_seconds", "Time to answer a GraphQL request, by operation name.",
    ["operation"], buckets=LATENCY,
)  # fmt: skip
GRAPHQL_ERRORS = Counter(
    "gateway_graphql_errors", "GraphQL requests answered with an error code (each code once per request).",
    ["code"],
)  # fmt: skip
RATE_LIMITED = Counter(
    "gateway_rate_limited", "Requests refused by a rate limit (address or agency).", ["limit"]
)
STATEMENT_SECONDS = Histogram(
    "gateway_neo4j_statement_duration_seconds",
    "Neo4j statements (reads) and write transactions, by kind and outcome (ok, error).",
    ["kind", "outcome"], buckets=LATENCY,
)  # fmt: skip
STATEMENTS_IN_FLIGHT = Gauge(
    "gateway_neo4j_statements_in_flight",
    "Neo4j statements and write transactions running now (each holds a pooled connection).",
    ["kind"], multiprocess_mode="livesum",
)  # fmt: skip
AUDIT_WAITING = Gauge(
    "gateway_audit_waiting",
    "Requests waiting for their audit event to commit: queued, or in the batch being committed.",
    multiprocess_mode="livesum",
)
AUDIT_COMMIT_SECONDS = Histogram(
    "gateway_audit_commit_duration_seconds", "Time of one group commit of audit events, by outcome.",
    ["outcome"], buckets=LATENCY,
)  # fmt: skip
AUDIT_UNSHIPPED = Gauge(
    "gateway_audit_journal_unshipped",
    "Read events on the local audit journal's disk not yet shipped to the graph (GATEWAY_AUDIT_JOURNAL).",
    multiprocess_mode="livesum",
)
AUDIT_BATCH_EVENTS = Histogram(
    "gateway_audit_batch_events", "Audit events per group commit.", buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256)
)

_operations: set[str] = set()


def operation_label(name: str | None, validated: bool, authenticated: bool = True) -> str:
    """The label of a GraphQL operation name; see the module's docstring. Only callers with a
    token name labels: otherwise anyone could fill the slots and blind the operators."""
    if not validated:
        return NONE
    if not authenticated:
        return PUBLIC
    if not name:
        return ANONYMOUS
    name = name[:NAME_LENGTH]
    if name in _operations:
        return name
    if len(_operations) >= MAX_OPERATIONS or not _NAME.fullmatch(name):
        return OTHER
    _operations.add(name)  # a set under the GIL: a race may admit a name or two beyond the cap
    return name


def outcome_label(outcome: str) -> tuple[str, list[str]]:
    """The request's outcome label and the error codes to count: the log's outcome is OK or
    the answer's codes, comma-separated; several codes count as MULTIPLE."""
    codes = [c if c in OUTCOMES else OTHER for c in outcome.split(",")]
    if codes == ["OK"]:
        return "OK", []
    return (codes[0] if len(codes) == 1 else MULTIPLE), codes


def observe_graphql(operation: str, outcome: str, seconds: float) -> None:
    label, codes = outcome_label(outcome)
    GRAPHQL_REQUESTS.labels(operation, label).inc()
    GRAPHQL_SECONDS.labels(operation).observe(seconds)
    for code in codes:
        GRAPHQL_ERRORS.labels(code).inc()


def process_exiting() -> None:
    """With several workers, drop this process's live gauges (in-flight statements, audit
    waits) from the shared directory, so the sum stops counting a worker that is gone."""
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())


class PoolCollector(Collector):
    """The connection pools of the drivers being watched, read when scraped (nothing on the
    request path). The driver has no public API for it, so this reads its pool's connection
    lists and reports nothing if they ever move; per process (with several workers, see the
    in-flight gauge)."""

    def __init__(self) -> None:
        self._drivers: list[Any] = []

    def watch(self, driver: Any) -> None:
        self._drivers.append(driver)

    def unwatch(self, driver: Any) -> None:
        self._drivers.remove(driver)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if not self._drivers:
            return
        try:
            pools = [d._pool for d in self._drivers]
            connections = [c for p in pools for queue in list(p.connections.values()) for c in list(queue)]
            in_use = sum(1 for c in connections if c.in_use)
            size = sum(int(p.pool_config.max_connection_pool_size) for p in pools)
        except Exception:  # a driver version that keeps its pool otherwise
            return
        family = GaugeMetricFamily(
            "gateway_neo4j_pool_connections", "Connections in the Neo4j driver's pool, by state.",
            labels=["state"],
        )  # fmt: skip
        family.add_metric(["in_use"], in_use)
        family.add_metric(["idle"], len(connections) - in_use)
        yield family
        yield GaugeMetricFamily(
            "gateway_neo4j_pool_max_connections", "The pool's size limit (per address).", value=size
        )


POOLS = PoolCollector()
REGISTRY.register(POOLS)
