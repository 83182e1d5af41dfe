"""One log line per HTTP request, and the last resort for errors nothing else caught.

The middleware gives every request a correlation id (also sent back as ``X-Correlation-Id``)
and a ``request.state.log`` dict that the endpoint fills in (agency, operation, outcome,
timings); it writes the line when the response is done. Path only: query strings may carry
personal data.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import Code

log = logging.getLogger("gateway.request")

CORRELATION_HEADER = "x-correlation-id"


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation = uuid.uuid4().hex
        fields: dict[str, Any] = {"correlationId": correlation}
        scope.setdefault("state", {})["log"] = fields
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (CORRELATION_HEADER.encode(), correlation.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.error("unexpected error", exc_info=True, extra={"fields": {"correlationId": correlation}})
            fields["outcome"] = Code.INTERNAL_SERVER_ERROR.value
            if status == 0:  # nothing sent yet: the client gets the reference, not the traceback
                status = 500
                await _internal_error(send_with_id, correlation)
        finally:
            fields.update(
                method=scope["method"], path=scope["path"], status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )  # fmt: skip
            log.info("request", extra={"fields": fields})


async def _internal_error(send: Send, correlation: str) -> None:
    body = json.dumps(
        {"errors": [{"message": f"Internal error (reference {correlation})",
                     "extensions": {"code": Code.INTERNAL_SERVER_ERROR.value, "correlationId": correlation}}]}
    ).encode()  # fmt: skip
    await send({
        "type": "http.response.start", "status": 500,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store")],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})
