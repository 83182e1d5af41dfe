"""The GraphQL endpoint, as one straight line:

HTTP body -> token -> caller (from the graph) -> purpose -> limits and execution (each
root field one Cypher statement with the caller's predicates inside) -> audit -> response.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from gateway.errors import Code, GatewayError, client_error
from gateway.graphql.context import Context
from gateway.http.auth import InvalidToken, TokenVerifier
from gateway.rules.caller import PUBLIC, Caller
from gateway.store import audit
from gateway.store.callers import CallerDirectory, CallerUnknown
from gateway.store.db import Graph
from graph_schema.model import Purpose


@dataclass
class Services:
    schema: strawberry.Schema
    graph: Graph
    verifier: TokenVerifier
    callers: CallerDirectory
    audit_log: audit.AuditLog
    max_body_bytes: int
    playground: bool
    absent_floor: float = 0.0


def _error(status: int, code: Code, message: str) -> JSONResponse:
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code.value}}]}, status
    )


class RequestRefused(Exception):
    def __init__(self, status: int, code: Code, message: str) -> None:
        super().__init__(message)
        self.response = _error(status, code, message)


async def graphql(request: Request) -> Response:
    services: Services = request.app.state.services
    if request.method == "GET":
        if services.playground:
            return RedirectResponse("/playground")
        return _error(405, Code.BAD_USER_INPUT, "send GraphQL requests as POST with a JSON body")
    try:
        payload = await _payload(request, services.max_body_bytes)
        caller = await _caller(request, services)
        purpose = _purpose(request)
    except RequestRefused as refused:
        return refused.response

    context = Context(
        caller=caller, purpose=purpose, graph=services.graph, schema=services.schema,
        audit_key=services.audit_log.key, absent_floor=services.absent_floor,
    )  # fmt: skip
    result = await services.schema.execute(
        payload["query"],
        variable_values=payload.get("variables"),
        context_value=context,
        operation_name=payload.get("operationName"),
    )
    errors = [client_error(e) for e in result.errors or ()]

    if context.record.touched:
        operation = f"{payload.get('operationName') or 'anonymous'}:{','.join(context.record.fields)}"
        entry = audit.event(
            caller.user, caller.agency_id, operation, purpose, context.record.ids,
            context.record.hit, "ERROR" if errors else "OK",
        )  # fmt: skip
        try:
            await services.audit_log.record(entry)
        except audit.AuditUnavailable:
            # R15: no audit, no data.
            return _error(503, Code.SERVICE_UNAVAILABLE, "the audit log is unavailable; no data was returned")

    body: dict[str, Any] = {"data": result.data}
    if errors:
        body["errors"] = errors
        # The graph failed and nothing was answered: 503 for reads and writes alike.
        if all(v is None for v in (result.data or {}).values()) and any(
            e["extensions"]["code"] in _UNAVAILABLE for e in errors
        ):
            return JSONResponse(body, 503)
    return JSONResponse(body)


_UNAVAILABLE = {Code.SERVICE_UNAVAILABLE, Code.COMMIT_OUTCOME_UNKNOWN}


async def _payload(request: Request, limit: int) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestRefused(413, Code.BAD_USER_INPUT, f"the request body exceeds {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RequestRefused(413, Code.BAD_USER_INPUT, f"the request body exceeds {limit} bytes")
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RequestRefused(400, Code.BAD_USER_INPUT, f"the body is not valid JSON: {error}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        raise RequestRefused(400, Code.BAD_USER_INPUT, 'the body must be a JSON object with a "query" string')
    if not isinstance(payload.get("variables") or {}, dict):
        raise RequestRefused(400, Code.BAD_USER_INPUT, '"variables" must be a JSON object')
    if not isinstance(payload.get("operationName") or "", str):
        raise RequestRefused(400, Code.BAD_USER_INPUT, '"operationName" must be a string')
    return payload


async def _caller(request: Request, services: Services) -> Caller:
    header = request.headers.get("authorization")
    if header is None:
        return PUBLIC
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise RequestRefused(401, Code.UNAUTHENTICATED, "use Authorization: Bearer <token>")
    try:
        claims = services.verifier.verify(token.strip())
        return await services.callers.resolve(claims.user, claims.agency)
    except InvalidToken as error:
        raise RequestRefused(401, Code.UNAUTHENTICATED, f"the token is not valid: {error}") from None
    except CallerUnknown:
        raise RequestRefused(
            401, Code.UNAUTHENTICATED,
            "the token's agency is unknown, inactive, or not authorised by its country's NCB",
        ) from None  # fmt: skip
    except GatewayError as error:  # the graph is unavailable
        raise RequestRefused(503, error.code, error.message) from None


def _purpose(request: Request) -> str | None:
    value = request.headers.get("x-purpose")
    if value is None:
        return None
    if value not in Purpose.__members__:
        allowed = ", ".join(Purpose.__members__)
        raise RequestRefused(400, Code.PURPOSE_REQUIRED, f"X-Purpose {value!r} is not one of {allowed}")
    return value
