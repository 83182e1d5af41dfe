"""The GraphQL endpoint, as one straight line:

HTTP (address rate limit, media types, envelope) -> token -> agency rate limit -> caller (from
the graph) -> purpose -> limits and execution (each root field one Cypher statement with the
caller's predicates inside) -> audit -> response.

It follows GraphQL over HTTP: ``application/graphql-response+json`` when the client accepts
it (request errors then answer 400), ``application/json`` otherwise (they answer 200); only
``application/json`` bodies are read, so a form or ``text/plain`` post from another site (the
shape of cross-site request forgery) is refused with 415.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any

import strawberry
from graphql import GraphQLError, OperationDefinitionNode, parse
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from gateway.errors import Code, GatewayError, client_error
from gateway.graphql.context import Context
from gateway.http.auth import Claims, InvalidToken, KeysUnavailable, TokenVerifier
from gateway.http.ratelimit import RateLimiter, retry_after
from gateway.observability import metrics
from gateway.rules.caller import PUBLIC, Caller
from gateway.store import audit
from gateway.store.callers import CallerDirectory, CallerUnknown
from gateway.store.db import Graph
from graph_schema.model import Purpose

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
# Variables are a few levels deep at most; deeper JSON is refused before anything walks it.
MAX_JSON_DEPTH = 32
MAX_OPERATION_NAME = 100  # characters: the name goes into the audit log and the request log
BODY_SECONDS = 10.0
NO_STORE = {"Cache-Control": "no-store"}


@dataclass
class Services:
    schema: strawberry.Schema
    graph: Graph
    verifier: TokenVerifier
    callers: CallerDirectory
    audit_log: audit.AccessLog
    max_body_bytes: int
    playground: bool
    absent_floor: float = 0.0
    max_tokens: int = 2_000
    max_cost: int = 5_000
    suggestions: bool = True
    per_address: RateLimiter = field(default_factory=lambda: RateLimiter(0, 1))
    per_agency: RateLimiter = field(default_factory=lambda: RateLimiter(0, 1))
    new_documents: RateLimiter = field(default_factory=lambda: RateLimiter(0, 1))  # per address, public


def _respond(
    body: dict[str, Any], status: int, media: str, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse(body, status, headers={**NO_STORE, **(headers or {})}, media_type=media)


class RequestRefused(Exception):
    """A request refused before execution: a request error without data."""

    def __init__(self, status: int, code: Code, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers

    def response(self, media: str) -> Response:
        errors = [{"message": self.message, "extensions": {"code": self.code.value}}]
        # application/json clients have always seen "data": null here; the new media type
        # follows the spec and leaves it out.
        body: dict[str, Any] = (
            {"errors": errors} if media == GRAPHQL_RESPONSE else {"data": None, "errors": errors}
        )
        return _respond(body, self.status, media, self.headers)


# The graph failed: the request answers 503, reads and writes alike.
_UNAVAILABLE = {Code.SERVICE_UNAVAILABLE, Code.COMMIT_OUTCOME_UNKNOWN}


async def graphql(request: Request) -> Response:
    services: Services = request.app.state.services
    log: dict[str, Any] = getattr(request.state, "log", {})
    media = JSON
    started = time.perf_counter()
    try:
        media = _accepted(request)
        # A valid token draws on its agency's bucket; everything else (no token, a bad one)
        # on its address's, so that anonymous traffic cannot use up an agency's requests.
        claims = await _claims(request, services, log)
        if request.method == "GET":
            return _get(services, media)
        _content_type(request)
        payload = await _payload(request, services.max_body_bytes)
        if claims is None and _digest(payload["query"]) not in _OPERATIONS:
            # Every new document is a new statement for Neo4j to plan (hundreds of ms): the
            # public may send few it has not sent before; repeating known ones costs nothing.
            # Checked before the document is remembered, so a refused one stays new.
            _limit(services.new_documents, _address(request), "address", "new query documents")
        log["operation"] = _operation(payload, services.max_tokens)
        caller = await _caller(claims, services)
        purpose = _purpose(request)
    except RequestRefused as refused:
        log["outcome"] = refused.code.value
        return refused.response(media)
    log["authMs"] = round((time.perf_counter() - started) * 1000, 1)

    context = Context(
        caller=caller, purpose=purpose, graph=services.graph, schema=services.schema,
        audit_key=services.audit_log.key, absent_floor=services.absent_floor,
    )  # fmt: skip
    executed = time.perf_counter()
    try:
        result = await services.schema.execute(
            payload["query"],
            variable_values=payload.get("variables"),
            context_value=context,
            operation_name=payload.get("operationName"),
            allowed_operation_types=(OperationType.QUERY, OperationType.MUTATION),
        )
    except InvalidOperationTypeError:  # nothing ran
        log["outcome"] = Code.BAD_USER_INPUT.value
        return RequestRefused(
            400, Code.BAD_USER_INPUT, "subscriptions run over a WebSocket to /graphql (graphql-transport-ws)"
        ).response(media)
    except CannotGetOperationTypeError:  # _operation checks first; this is the backstop
        log["outcome"] = Code.BAD_USER_INPUT.value
        return RequestRefused(
            400, Code.BAD_USER_INPUT, "operationName names no operation of the document"
        ).response(media)
    log["executeMs"] = round((time.perf_counter() - executed) * 1000, 1)
    # A document that ran (data, or errors at a path): its operation name may become a label.
    request.state.validated = result.data is not None or any(e.path for e in result.errors or ())
    correlation = log.get("correlationId", "-")
    errors = [client_error(e, correlation, services.suggestions) for e in result.errors or ()]
    log["fields"] = list(context.record.fields)
    log["outcome"] = ",".join(sorted({e["extensions"]["code"] for e in errors})) or "OK"

    if context.record.touched:
        # The operation's name as it ran: named in the body, or the document's only operation.
        operation = f"{log.get('operation') or 'anonymous'}:{','.join(context.record.fields)}"
        entry = audit.event(
            caller.user, caller.agency_id, operation, purpose, context.record.ids,
            context.record.hit, "ERROR" if errors else "OK",
        )  # fmt: skip
        try:
            await services.audit_log.record(entry)
        except audit.AuditUnavailable:
            # R15: no audit, no data.
            log["outcome"] = "AUDIT_UNAVAILABLE"
            return _respond(
                {"data": None, "errors": [{"message": "the audit log is unavailable; no data was returned",
                                           "extensions": {"code": Code.SERVICE_UNAVAILABLE.value}}]},
                503, media,
            )  # fmt: skip

    # The graph failed and nothing was answered: 503 for reads and writes alike.
    if errors and all(v is None for v in (result.data or {}).values()) and any(
        e["extensions"]["code"] in _UNAVAILABLE for e in errors
    ):
        return _respond({"data": result.data, "errors": errors}, 503, media)
    request_error = all(e.path is None for e in result.errors or ())
    if result.data is None and errors and media == GRAPHQL_RESPONSE and request_error:
        # A request error (parse, validation, variable coercion): nothing was executed.
        return _respond({"errors": errors}, 400, media)
    body: dict[str, Any] = {"data": result.data}
    if errors:
        body["errors"] = errors
    return _respond(body, 200, media)


def _get(services: Services, media: str) -> Response:
    if services.playground:
        return Response(status_code=307, headers={"Location": "/playground", **NO_STORE})
    raise RequestRefused(
        405, Code.BAD_USER_INPUT, "send GraphQL requests as POST with a JSON body", {"Allow": "POST"}
    )


def _limit(limiter: RateLimiter, key: str, what: str, things: str = "requests") -> None:
    wait = limiter.take(key)
    if wait > 0:
        metrics.RATE_LIMITED.labels(what).inc()
        raise RequestRefused(
            429, Code.RATE_LIMITED, f"too many {things} from this {what}; retry later",
            {"Retry-After": retry_after(wait)},
        )  # fmt: skip


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _accepted(request: Request) -> str:
    """The response's media type: the new one when the client names it (at a weight no lower
    than application/json's), application/json for wildcards or no Accept header."""
    header = request.headers.get("accept")
    if not header:
        return JSON
    weights: dict[str, float] = {}
    for item in header.split(","):
        kind, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[kind.lower()] = max(q, weights.get(kind.lower(), 0.0))
    wildcard = max(weights.get("*/*", 0.0), weights.get("application/*", 0.0))
    new, old = weights.get(GRAPHQL_RESPONSE, 0.0), max(weights.get(JSON, 0.0), wildcard)
    if new > 0 and new >= old:
        return GRAPHQL_RESPONSE
    if old > 0:
        return JSON
    raise RequestRefused(406, Code.BAD_USER_INPUT, f"this endpoint answers {GRAPHQL_RESPONSE} or {JSON}")


def _content_type(request: Request) -> None:
    kind, *params = (p.strip().lower() for p in request.headers.get("content-type", "").split(";"))
    charset = next((p.partition("=")[2].strip('"') for p in params if p.startswith("charset=")), "utf-8")
    if kind != JSON or charset != "utf-8":
        raise RequestRefused(415, Code.BAD_USER_INPUT, f"send the request as Content-Type: {JSON} (UTF-8)")



async def _payload(request: Request, limit: int) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestRefused(413, Code.BAD_USER_INPUT, f"the request body exceeds {limit} bytes")
    body = bytearray()
    try:
        # A client that trickles its body (or stops) may not hold a connection without end.
        async with asyncio.timeout(BODY_SECONDS):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise RequestRefused(413, Code.BAD_USER_INPUT, f"the request body exceeds {limit} bytes")
    except TimeoutError:
        raise RequestRefused(
            408, Code.BAD_USER_INPUT, f"the request body did not arrive within {BODY_SECONDS:g} s"
        ) from None
    except ClientDisconnect:
        raise RequestRefused(400, Code.BAD_USER_INPUT, "the client disconnected before its body arrived") from None
    try:
        # Decoded as UTF-8 first: json.loads would also take UTF-16 and UTF-32 bodies.
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRefused(400, Code.BAD_USER_INPUT, "the body is not valid UTF-8") from None
    payload = parse_json(text, "the body")
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        raise RequestRefused(400, Code.BAD_USER_INPUT, 'the body must be a JSON object with a "query" string')
    for key, kind in (
        ("variables", "a JSON object"),
        ("extensions", "a JSON object"),
        ("operationName", "a string"),
    ):
        value = payload.get(key)
        if value is not None and not isinstance(value, dict if kind == "a JSON object" else str):
            raise RequestRefused(400, Code.BAD_USER_INPUT, f'"{key}" must be {kind} or null')
    return payload


class _DuplicateKey(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str, what: str) -> Any:
    """Strict JSON, for HTTP bodies and WebSocket messages alike: no repeated keys, no NaN or
    Infinity, numbers of reasonable length, nesting and strings checked (``_check_json``)."""
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except _DuplicateKey as error:
        raise RequestRefused(
            400, Code.BAD_USER_INPUT, f"{what}'s JSON repeats the key {str(error)[:40]!r} in one object"
        ) from None
    except RecursionError:
        raise RequestRefused(400, Code.BAD_USER_INPUT, f"{what}'s JSON is nested too deeply") from None
    except json.JSONDecodeError as error:
        raise RequestRefused(400, Code.BAD_USER_INPUT, f"{what} is not valid JSON: {error}") from None
    except ValueError:  # a number of thousands of digits, NaN, Infinity
        raise RequestRefused(
            400, Code.BAD_USER_INPUT, f"{what} holds a value that is not JSON or too long a number"
        ) from None
    _check_json(value)
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys repeat is refused: which one counts differs between parsers, so
    what a proxy or log reads could differ from what runs."""
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def _check_json(value: Any) -> None:
    """Refuse JSON nested deeper than MAX_JSON_DEPTH and strings that are not Unicode text
    (lone surrogates: JSON allows the escapes, UTF-8 and Neo4j do not)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise RequestRefused(
                400, Code.BAD_USER_INPUT, f"the body's JSON is nested deeper than {MAX_JSON_DEPTH}"
            )
        if isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise RequestRefused(
                    400,
                    Code.BAD_USER_INPUT,
                    "the body holds a string that is not valid Unicode (a lone surrogate)",
                ) from None


_OPERATIONS: OrderedDict[bytes, tuple[str | None, ...] | None] = OrderedDict()


def _digest(query: str) -> bytes:
    return blake2b(query.encode(), digest_size=16).digest()


def _operations(query: str, max_tokens: int) -> tuple[str | None, ...] | None:
    """The names of the document's operations, or None when it does not parse (execution then
    reports the syntax error). Cached by digest: clients repeat the same documents."""
    digest = _digest(query)
    if digest in _OPERATIONS:
        _OPERATIONS.move_to_end(digest)
        return _OPERATIONS[digest]
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
        names: tuple[str | None, ...] | None = tuple(
            d.name.value if d.name else None
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
        )
    except GraphQLError:
        names = None
    _OPERATIONS[digest] = names
    if len(_OPERATIONS) > 512:
        _OPERATIONS.popitem(last=False)
    return names


def _operation(payload: dict[str, Any], max_tokens: int) -> str | None:
    """The name of the operation to run; refuses an operationName the document does not hold,
    and a document of several operations without one (graphql-core would refuse too, strawberry
    would run the first)."""
    wanted: str | None = payload.get("operationName")
    if wanted is not None and len(wanted) > MAX_OPERATION_NAME:
        raise RequestRefused(400, Code.BAD_USER_INPUT, f"operationName is longer than {MAX_OPERATION_NAME} characters")
    names = _operations(payload["query"], max_tokens)
    if names is None:
        return None
    if wanted is not None:
        if wanted not in names:
            raise RequestRefused(400, Code.BAD_USER_INPUT, "operationName names no operation of the document")
        return wanted
    if len(names) > 1:
        raise RequestRefused(
            400,
            Code.BAD_USER_INPUT,
            "the document holds several operations: name the one to run in operationName",
        )
    name = names[0] if names else None
    if name is not None and len(name) > MAX_OPERATION_NAME:
        raise RequestRefused(
            400, Code.BAD_USER_INPUT, f"the operation's name is longer than {MAX_OPERATION_NAME} characters"
        )
    return name


async def _claims(request: Request, services: Services, log: dict[str, Any]) -> Claims | None:
    """The verified token, or None for the public; rate-limited by agency or by address."""
    address = _address(request)
    header = request.headers.get("authorization")
    if header is None:
        _limit(services.per_address, address, "address")
        return None
    scheme, _, token = header.partition(" ")
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken("use Authorization: Bearer <token>")
        claims = await services.verifier.verify(token.strip())
    except InvalidToken as error:
        _limit(services.per_address, address, "address")
        raise RequestRefused(401, Code.UNAUTHENTICATED, f"the token is not valid: {error}") from None
    except KeysUnavailable as error:
        raise RequestRefused(503, Code.SERVICE_UNAVAILABLE, str(error)) from None
    log["agency"] = claims.agency
    _limit(services.per_agency, claims.agency, "agency")
    return claims


async def _caller(claims: Claims | None, services: Services) -> Caller:
    if claims is None:
        return PUBLIC
    try:
        return await services.callers.resolve(claims.user, claims.agency)
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
        raise RequestRefused(400, Code.PURPOSE_REQUIRED, f"X-Purpose {value[:40]!r} is not one of {allowed}")
    return value
