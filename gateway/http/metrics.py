"""``/metrics`` for Prometheus, and the middleware that counts and traces every request.

``/metrics`` reveals operational data (operation names, error rates, load), so it answers only
clients whose address is in ``GATEWAY_METRICS_ALLOW_IPS`` (addresses or networks; loopback by
default, empty: nobody) and 404 to everyone else, as if it did not exist. A request that
carries proxy headers while no proxy is trusted (``GATEWAY_FORWARDED_ALLOW_IPS`` empty) is
refused too: its TCP peer is a proxy, likely on this machine, not the client.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Iterable, Sequence

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.observability import metrics, tracing

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_PROXY_HEADERS = (b"forwarded", b"x-forwarded-for", b"x-real-ip")


def networks(setting: str) -> list[Network]:
    """``GATEWAY_METRICS_ALLOW_IPS``: comma-separated addresses or CIDR networks."""
    found = []
    for item in filter(None, (i.strip() for i in setting.split(","))):
        try:
            found.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"GATEWAY_METRICS_ALLOW_IPS: {item!r} is not an address or network") from None
    return found


def allowed(address: str | None, allow: Sequence[Network]) -> bool:
    if not address or not allow:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in allow)


def route(allow_ips: str, proxies_trusted: bool, path: str = "/metrics") -> Route:
    allow = networks(allow_ips)

    async def endpoint(request: Request) -> Response:
        proxied = any(k in _PROXY_HEADERS for k, _ in request.scope["headers"])
        address = request.client.host if request.client else None
        if not allowed(address, allow) or (proxied and not proxies_trusted):
            return PlainTextResponse("Not Found", status_code=404)
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(
            encoder(_registry()), headers={"Content-Type": content_type, "Cache-Control": "no-store"}
        )

    return Route(path, endpoint, methods=["GET"])


def _registry() -> CollectorRegistry:
    if not metrics.MULTIPROCESS:
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, os.environ["PROMETHEUS_MULTIPROC_DIR"])
    return registry


class Observe:
    """Counts every HTTP request by route template and status, GraphQL requests by operation
    and outcome (from what the endpoint left in the request's log fields), and wraps each in a
    server span. It runs inside RequestLog, whose fields it reads."""

    def __init__(self, app: ASGIApp, routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self.routes = [r for r in routes if isinstance(r, Route | Mount)]
        self.exact = {r.path for r in self.routes if isinstance(r, Route) and "{" not in r.path}

    def template(self, scope: Scope) -> str:
        path: str = scope["path"]
        if path in self.exact:
            return path
        for r in self.routes:
            if r.matches(scope)[0] is not Match.NONE:
                return r.path
        return metrics.OTHER

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        template = self.template(scope)
        status = 0

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with tracing.server_span(scope["method"], template, scope["headers"]) as span:
            failed = False
            try:
                await self.app(scope, receive, send_status)
            except Exception:  # what RequestLog answers with 500 INTERNAL_SERVER_ERROR
                failed = True
                raise
            finally:
                seconds = time.perf_counter() - started
                status = 500 if failed and not status else status
                metrics.HTTP_REQUESTS.labels(template, str(status)).inc()
                metrics.HTTP_SECONDS.labels(template).observe(seconds)
                state = scope.get("state", {})
                fields = state.get("log", {})
                if failed:
                    fields = {**fields, "outcome": "INTERNAL_SERVER_ERROR"}
                operation = None
                if "outcome" in fields and template == "/graphql":
                    operation = metrics.operation_label(
                        fields.get("operation"), bool(state.get("validated")), "agency" in fields
                    )
                    metrics.observe_graphql(operation, fields["outcome"], seconds)
                if span is not None:
                    span.set_attribute("http.response.status_code", status)
                    if operation is not None:
                        span.set_attribute("graphql.operation.name", operation)
                        span.set_attribute("gateway.outcome", metrics.outcome_label(fields["outcome"])[0])
