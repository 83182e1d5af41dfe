"""GraphQL subscriptions over WebSocket: the ``graphql-transport-ws`` protocol on ``/graphql``.

One connection, in order: the Origin (a browser page of another site is refused: cross-site
WebSocket hijacking), the subprotocol, then ``connection_init`` within ``INIT_TIMEOUT``
carrying ``{"Authorization": "Bearer …", "X-Purpose": …}``. The token is verified exactly as
on HTTP (``gateway.http.auth``) and the caller read from the graph the same way (``gateway.store.callers``); without a token the connection is closed at
once (4403), before anything reads the graph: the public may not subscribe. As on HTTP, a
valid token draws on its agency's rate limit and anything else on its address's, so an
anonymous flood from a shared address cannot shut agencies behind it out. Then
``subscribe`` messages run subscription operations (at most ``MAX_SUBSCRIPTIONS`` at once
per connection; queries and mutations go over HTTP), each drawing on its agency's rate
limit like a request. Every message is at most ``GATEWAY_MAX_BODY_BYTES``.

Close codes follow the protocol: 4400 a message it does not allow, 4403 refused
``connection_init``, 4408 no ``connection_init`` in time, 4409 a subscription id in use,
4429 a second ``connection_init``; 1013 when the graph or the key set is unavailable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import jwt
from graphql import GraphQLError, parse
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.types.execution import ExecutionResult, PreExecutionError

from gateway.errors import Code, GatewayError, client_error
from gateway.graphql.alerts import AlertContext
from gateway.graphql.limits import refusal
from gateway.http.auth import InvalidToken, KeysUnavailable
from gateway.http.endpoint import RequestRefused, Services, parse_json
from gateway.store.callers import CallerUnknown
from gateway.store.changes import ChangeFeed
from graph_schema.model import Purpose

log = logging.getLogger("gateway.request")

PROTOCOL = "graphql-transport-ws"
INIT_TIMEOUT = 3.0  # seconds for connection_init after the upgrade
MAX_SUBSCRIPTIONS = 5  # open at once per connection
MAX_PROCESS_SUBSCRIPTIONS = 1_000  # open at once in this process (each costs queries per change batch)
MAX_AGENCY_SUBSCRIPTIONS = 50  # open at once per agency in this process: no agency takes every slot
# Initialised connections open at once per agency in this process: enough for every subscription
# it may hold (50 / 5 per connection) twice over, so idle sockets cannot pile up without end.
MAX_AGENCY_CONNECTIONS = 2 * MAX_AGENCY_SUBSCRIPTIONS // MAX_SUBSCRIPTIONS
_connections: Counter[str] = Counter()
# Connections per address not initialised yet (each held up to INIT_TIMEOUT): without a token
# nothing else bounds them.
MAX_AWAITING_INIT = 20
_awaiting_init: Counter[str] = Counter()
MAX_ID = 64  # characters of a subscription id


class Closed(Exception):
    """Close the connection with this code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def _same_origin(websocket: WebSocket) -> bool:
    """A browser always sends Origin; a page of another site may not open this socket (no
    ambient credentials are involved, but the endpoint follows the HTTP one: only its own
    origin's pages, or clients that are not browsers)."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == websocket.headers.get("host", "").lower()


async def graphql_ws(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    feed: ChangeFeed = websocket.app.state.changes
    fields: dict[str, Any] = {"path": "/graphql", "method": "WEBSOCKET"}
    started = time.perf_counter()
    if not _same_origin(websocket):
        fields["outcome"] = "ORIGIN_REFUSED"
        await websocket.close(code=1008)  # before the upgrade: HTTP 403
        return _log(fields, started)
    if PROTOCOL not in websocket.scope.get("subprotocols", []):
        fields["outcome"] = "SUBPROTOCOL_REFUSED"
        await websocket.close(code=1002)
        return _log(fields, started)
    await websocket.accept(subprotocol=PROTOCOL)
    connection = Connection(websocket, services, feed, fields)
    if _awaiting_init[connection.address] >= MAX_AWAITING_INIT:
        fields["outcome"] = Code.RATE_LIMITED.value
        await websocket.close(code=1013, reason="too many connections awaiting connection_init from this address")
        return _log(fields, started)
    try:
        await connection.serve()
        fields.setdefault("outcome", "OK")
    except Closed as closed:
        fields["outcome"] = f"CLOSED:{closed.code}"
        with contextlib.suppress(Exception):
            await websocket.close(code=closed.code, reason=closed.reason[:120])
    except WebSocketDisconnect:
        fields.setdefault("outcome", "OK")
    finally:
        await connection.stop()
        _log(fields, started)


def _log(fields: dict[str, Any], started: float) -> None:
    fields["ms"] = round((time.perf_counter() - started) * 1000, 1)
    log.info("websocket", extra={"fields": fields})


class Connection:
    def __init__(self, websocket: WebSocket, services: Services, feed: ChangeFeed, fields: dict[str, Any]) -> None:
        self.ws, self.services, self.feed, self.fields = websocket, services, feed, fields
        self.address = websocket.client.host if websocket.client else "unknown"
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.sending = asyncio.Lock()
        self.context: dict[str, Any] = {}
        self.subscriptions = 0
        self.agency: str | None = None  # counted in _connections while set

    async def send(self, message: dict[str, Any]) -> None:
        async with self.sending:
            await self.ws.send_text(json.dumps(message, default=str))

    async def receive(self, timeout: float | None = None) -> dict[str, Any]:
        try:
            message = await asyncio.wait_for(self.ws.receive(), timeout)
        except TimeoutError:
            raise Closed(4408, "Connection initialisation timeout") from None
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        if text is None:
            raise Closed(4400, "send JSON text messages")
        if len(text) > self.services.max_body_bytes:
            raise Closed(4400, f"a message exceeds {self.services.max_body_bytes} bytes")
        try:
            parsed = parse_json(text, "the message")
        except RequestRefused as refused:
            raise Closed(4400, refused.message[:120]) from None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
            raise Closed(4400, "a message is a JSON object with a type")
        return parsed

    async def serve(self) -> None:
        _awaiting_init[self.address] += 1
        try:
            await self._initialised()
        finally:
            _awaiting_init[self.address] -= 1
            if _awaiting_init[self.address] <= 0:
                del _awaiting_init[self.address]
        await self._serve_messages()

    async def _initialised(self) -> None:
        deadline = time.monotonic() + INIT_TIMEOUT  # pings before it do not extend it
        while True:
            first = await self.receive(max(deadline - time.monotonic(), 0.001))
            if first["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            if first["type"] != "connection_init":
                raise Closed(4401, "Unauthorized: send connection_init first")
            break
        await self.initialise(first.get("payload"))
        await self.send({"type": "connection_ack"})

    async def _serve_messages(self) -> None:
        while True:
            message = await self.receive()
            kind = message["type"]
            if kind == "ping":
                await self.send({"type": "pong"})
            elif kind == "pong":
                continue
            elif kind == "subscribe":
                await self.subscribe(message)
            elif kind == "complete":
                task = self.tasks.pop(str(message.get("id")), None)
                if task is not None:
                    task.cancel()
            elif kind == "connection_init":
                raise Closed(4429, "Too many initialisation requests")
            else:
                raise Closed(4400, f"unknown message type {kind[:40]!r}")

    def _anonymous_attempt(self) -> None:
        """A connection without a valid token draws on its address's rate limit."""
        self.services.per_address.take(self.address)

    async def initialise(self, payload: Any) -> None:
        """The token and purpose, checked as on HTTP; the public is refused before anything
        reads the graph."""
        payload = payload if isinstance(payload, dict) else {}
        headers = {str(k).lower(): v for k, v in payload.items()}
        header = headers.get("authorization")
        if not isinstance(header, str):
            self._anonymous_attempt()
            raise Closed(4403, "Forbidden: subscriptions need a token (Authorization in connection_init)")
        scheme, _, token = header.partition(" ")
        try:
            if scheme.lower() != "bearer" or not token.strip():
                raise InvalidToken("use Authorization: Bearer <token>")
            claims = await self.services.verifier.verify(token.strip())
        except InvalidToken as error:
            self._anonymous_attempt()
            raise Closed(4403, f"Forbidden: the token is not valid: {error}"[:120]) from None
        except KeysUnavailable:
            raise Closed(1013, "the identity provider's key set is unavailable") from None
        self.fields["agency"] = claims.agency
        if self.services.per_agency.take(claims.agency) > 0:
            raise Closed(1013, "too many requests from this agency; retry later")
        if _connections[claims.agency] >= MAX_AGENCY_CONNECTIONS:
            raise Closed(1013, f"at most {MAX_AGENCY_CONNECTIONS} connections per agency on this gateway")
        _connections[claims.agency] += 1
        self.agency = claims.agency
        purpose = headers.get("x-purpose")
        if purpose is not None and purpose not in Purpose.__members__:
            raise Closed(4400, "X-Purpose is not one of " + ", ".join(Purpose.__members__))
        try:
            caller = await self.services.callers.resolve(claims.user, claims.agency)
        except CallerUnknown:
            raise Closed(4403, "Forbidden: the agency is unknown, inactive, or not authorised") from None
        except GatewayError:
            raise Closed(1013, "the graph is unavailable; try again shortly") from None
        # Verified above; read again only for its expiry, which the subscriptions re-check.
        expires = jwt.decode(token.strip(), options={"verify_signature": False}).get("exp")
        self.context = {"caller": caller, "purpose": purpose, "expires": float(expires) if expires else None}

    async def subscribe(self, message: dict[str, Any]) -> None:
        op_id, payload = message.get("id"), message.get("payload")
        if not isinstance(op_id, str) or not 1 <= len(op_id) <= MAX_ID:
            raise Closed(4400, f"a subscribe message needs an id of 1 to {MAX_ID} characters")
        if op_id in self.tasks:
            raise Closed(4409, f"Subscriber for {op_id} already exists")
        problem = _invalid(payload)
        if problem is None and len(self.tasks) >= MAX_SUBSCRIPTIONS:
            problem = (Code.RATE_LIMITED, f"at most {MAX_SUBSCRIPTIONS} subscriptions per connection")
        agency = self.fields["agency"]
        if problem is None and self.feed.by_agency[agency] >= MAX_AGENCY_SUBSCRIPTIONS:
            problem = (Code.RATE_LIMITED, f"at most {MAX_AGENCY_SUBSCRIPTIONS} subscriptions per agency on this gateway")
        if problem is None and max(self.feed.subscribers, self.feed.by_agency.total()) >= MAX_PROCESS_SUBSCRIPTIONS:
            problem = (Code.RATE_LIMITED, "this gateway serves as many subscriptions as it may; retry later")
        if problem is None:
            problem = self.too_costly(payload)
        if problem is None and self.services.per_agency.take(self.fields["agency"]) > 0:
            problem = (Code.RATE_LIMITED, "too many requests from this agency; retry later")
        if problem is not None:
            code, text = problem
            await self.send({"type": "error", "id": op_id,
                             "payload": [{"message": text, "extensions": {"code": code.value}}]})  # fmt: skip
            return
        assert isinstance(payload, dict)
        self.feed.by_agency[agency] += 1
        self.subscriptions += 1
        self.fields["subscriptions"] = self.subscriptions
        task = self.tasks[op_id] = asyncio.create_task(self.run(op_id, payload))
        # Released when the task ends, even when it is cancelled before it ever ran.
        task.add_done_callback(lambda _: self.feed.by_agency.subtract((agency,)))

    def too_costly(self, payload: Any) -> tuple[Code, str] | None:
        """The HTTP endpoint's cost limit, with the variables: every alert re-runs the selection."""
        try:
            document = parse(payload["query"], max_tokens=self.services.max_tokens)
        except GraphQLError:
            return None  # subscribe reports the syntax error as usual
        error = refusal(
            self.services.schema._schema, document, payload.get("operationName"), payload.get("variables") or {},
            self.services.max_cost,
        )
        return None if error is None else (Code((error.extensions or {})["code"]), error.message)

    async def run(self, op_id: str, payload: dict[str, Any]) -> None:
        services = self.services
        ctx = AlertContext(
            **self.context, graph=services.graph, schema=services.schema, audit_key=services.audit_log.key,
            feed=self.feed, callers=services.callers, audit_log=services.audit_log,
            operation=payload.get("operationName") or "anonymous",
        )  # fmt: skip
        correlation = self.fields.setdefault("correlationId", _correlation())

        def errors(result: ExecutionResult) -> list[dict[str, Any]]:
            return [client_error(e, correlation, services.suggestions) for e in result.errors or ()]

        try:
            result = await services.schema.subscribe(
                payload["query"], variable_values=payload.get("variables"), context_value=ctx,
                operation_name=payload.get("operationName"),
            )  # fmt: skip
            if isinstance(result, ExecutionResult):  # refused before execution (PreExecutionError)
                await self.send({"type": "error", "id": op_id, "payload": errors(result)})
                return
            first = True
            async for item in result:
                if first and isinstance(item, PreExecutionError):
                    await self.send({"type": "error", "id": op_id, "payload": errors(item)})
                    return
                first = False
                body: dict[str, Any] = {"data": item.data}
                if item.errors:
                    body["errors"] = errors(item)
                await self.send({"type": "next", "id": op_id, "payload": body})
            await self.send({"type": "complete", "id": op_id})
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("websocket: a subscription failed", extra={"fields": {"correlationId": correlation}})
            with contextlib.suppress(Exception):
                await self.send({"type": "error", "id": op_id, "payload": [{
                    "message": f"Internal error (reference {correlation})",
                    "extensions": {"code": Code.INTERNAL_SERVER_ERROR.value, "correlationId": correlation}}]})  # fmt: skip
        finally:
            if self.tasks.get(op_id) is asyncio.current_task():
                del self.tasks[op_id]

    async def stop(self) -> None:
        if self.agency is not None:
            _connections[self.agency] -= 1
            self.agency = None
        for task in self.tasks.values():
            task.cancel()
        for task in list(self.tasks.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()


def _invalid(payload: Any) -> tuple[Code, str] | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return Code.BAD_USER_INPUT, 'the payload must be a JSON object with a "query" string'
    if payload.get("variables") is not None and not isinstance(payload["variables"], dict):
        return Code.BAD_USER_INPUT, '"variables" must be a JSON object or null'
    if payload.get("operationName") is not None and not isinstance(payload["operationName"], str):
        return Code.BAD_USER_INPUT, '"operationName" must be a string or null'
    return None


def _correlation() -> str:
    import uuid

    return uuid.uuid4().hex
