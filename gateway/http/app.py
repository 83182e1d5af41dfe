"""The Starlette application: /graphql (HTTP and WebSocket), /playground, /explorer, /healthz, /readyz
and /metrics."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute

from gateway.graphql.limits import Limits
from gateway.graphql.schema import build
from gateway.http import explorer, metrics, playground
from gateway.http.auth import TokenVerifier, mint
from gateway.http.endpoint import Services, graphql
from gateway.http.ratelimit import RateLimiter
from gateway.http.requestlog import RequestLog
from gateway.http.websocket import graphql_ws
from gateway.observability import tracing
from gateway.observability.metrics import POOLS, process_exiting
from gateway.settings import Settings, get_settings
from gateway.store.audit import AccessLog, AuditLog
from gateway.store.callers import CallerDirectory
from gateway.store.changes import ChangeFeed
from gateway.store.db import Graph, connect_async
from gateway.store.journal import AuditJournal
from graph_schema.migrations import LATEST_VERSION

log = logging.getLogger("gateway")


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "alive"})


async def readyz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    if await services.graph.ready(LATEST_VERSION):
        return JSONResponse({"status": "ready", "schemaVersion": LATEST_VERSION})
    return JSONResponse(
        {"status": "unavailable", "reason": f"Neo4j unreachable or schema not at version {LATEST_VERSION}"},
        status_code=503,
    )


class ConfigurationError(Exception):
    """The settings may not serve (see Settings.production_problems)."""


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    problems = settings.production_problems()
    if problems:
        raise ConfigurationError("; ".join(problems))
    verifier = TokenVerifier(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        driver = connect_async(settings)
        graph = Graph(driver, settings.neo4j_database, settings.query_timeout_seconds)
        audit_log: AccessLog
        if settings.audit_journal:
            audit_log = AuditJournal(
                driver, settings.neo4j_database, settings.audit_hmac_key(), Path(settings.audit_journal)
            )
            await audit_log.start()
        else:
            audit_log = AuditLog(driver, settings.neo4j_database, settings.audit_hmac_key())
        await verifier.start()
        POOLS.watch(driver)
        app.state.services = Services(
            schema=build(
                Limits(settings.max_depth, settings.max_aliases, settings.max_cost, settings.max_cost_public),
                settings.max_tokens,
                settings.introspection,
                settings.row_executor,
            ),
            graph=graph,
            verifier=verifier,
            callers=CallerDirectory(graph, settings.caller_cache_seconds),
            audit_log=audit_log,
            max_body_bytes=settings.max_body_bytes,
            playground=settings.playground,
            absent_floor=settings.absent_floor_ms / 1000,
            max_tokens=settings.max_tokens,
            max_cost=settings.max_cost,
            suggestions=settings.suggestions,
            per_address=RateLimiter(
                settings.rate_per_address, settings.burst_per_address, settings.rate_buckets
            ),
            per_agency=RateLimiter(
                settings.rate_per_agency, settings.burst_per_agency, settings.rate_buckets
            ),
            new_documents=RateLimiter(
                settings.new_documents_per_address, settings.new_documents_burst, settings.rate_buckets
            ),
        )
        if tracing.configure(settings.otel_endpoint):
            tracing.instrument(app.state.services.schema)
        app.state.changes = ChangeFeed(graph)  # live alerts: one poller per process
        try:
            yield
        finally:
            await app.state.changes.close()
            await audit_log.close()
            await driver.close()
            POOLS.unwatch(driver)
            process_exiting()
            tracing.shutdown()

    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_ws),  # subscriptions: graphql-transport-ws
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        metrics.route(settings.metrics_allow_ips, bool(settings.forwarded_allow_ips)),
    ]
    if settings.playground:
        routes += playground.routes("/graphql", lambda: examples(settings))
        # The explorer follows the playground's switch: off in production unless turned on.
        routes += explorer.routes("/graphql", lambda: demo_tokens(settings))
    middleware = [Middleware(RequestLog), Middleware(metrics.Observe, routes=routes)]
    if settings.development:
        # The playground then carries demo tokens: only pages of this machine may load it, not a
        # page that rebinds its own host name to 127.0.0.1 (DNS rebinding).
        hosts = sorted({"127.0.0.1", "localhost", settings.host})
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=hosts))
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)


def demo_tokens(settings: Settings) -> list[explorer.DemoToken]:
    """The explorer's sign-in offers these under the same condition as the playground's."""
    if not (settings.development and settings.demo_tokens and not settings.jwks_url):
        return []
    from gateway.cli import DEMO_AGENCIES

    return [explorer.DemoToken(a, mint(settings, a, f"demo-{a}", 8 * 3600)) for a in DEMO_AGENCIES]


def examples(settings: Settings) -> Sequence[playground.Example]:
    """Saved queries for three users. Their headers hold fresh development tokens for the demo
    agencies only with GATEWAY_DEMO_TOKENS in development; otherwise a template to fill in."""
    from seed import demo

    def headers(agency: str, purpose: str) -> str:
        if (
            settings.development and settings.demo_tokens and not settings.jwks_url
        ):  # see Settings.demo_tokens
            token = mint(settings, agency, f"demo-{agency}", 8 * 3600)
        else:
            token = f"<a token for {agency}, e.g. from: gateway token --agency {agency}>"
        return f'{{"Authorization": "Bearer {token}", "X-Purpose": "{purpose}"}}'

    return [
        playground.Example(
            "Partner agency (NCB Germany) looks up a person",
            PERSON_CARD,
            f'{{"id": "{demo.DEMO_PERSON_MISSING}"}}',
            headers("ncb-de", "INVESTIGATION"),
        ),
        playground.Example(
            "Investigator (NCB Netherlands) explores links",
            LINKS,
            f'{{"id": "{demo.DEMO_PERSON_PENDING}", "depth": 2}}',
            headers("ncb-nl", "INVESTIGATION"),
        ),
        playground.Example(
            "Asylum authority (Netherlands) screens an applicant",
            SCREEN,
            '{"input": {"familyName": "Nurlanowa", "givenNames": "Dana", "dateOfBirth": "1990-11-02"}}',
            headers("asylum-nl", "ASYLUM_SCREENING"),
        ),
    ]


PERSON_CARD = """query PersonCard($id: ID!) {
  person(id: $id) {
    id familyName givenNames dateOfBirth
    nationalities { code name }
    notices { id type status requestedBy { name country { code name } } }
    diffusions { id purpose subjectToReview }
  }
}"""

LINKS = """query Links($id: ID!, $depth: Int!) {
  links(personId: $id, depth: $depth) {
    nodes { id familyName givenNames }
    edges { source target kind }
  }
}"""

SCREEN = """query Screen($input: ScreeningInput!) {
  screen(input: $input) {
    outcome
    matches { reference kind noticeType sourceCountryCode instruction }
  }
}"""
