"""The errors a client can see, each with a stable ``extensions.code``."""

from __future__ import annotations

import logging
import uuid
from enum import StrEnum
from typing import Any

from graphql import GraphQLError

log = logging.getLogger("gateway")


class Code(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    PURPOSE_REQUIRED = "PURPOSE_REQUIRED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    # The graph failed while committing a write: it may or may not have been written.
    COMMIT_OUTCOME_UNKNOWN = "COMMIT_OUTCOME_UNKNOWN"
    CONFLICT = "CONFLICT"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class GatewayError(Exception):
    """An error meant for the client: its message is safe to show."""

    def __init__(self, code: Code, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extensions = extensions


def _code_of(error: GraphQLError) -> str:
    # graphql-core's token and nesting limits abort parsing with a syntax error; they are
    # limits all the same.
    if (
        "contains more than" in error.message and "tokens" in error.message
    ) or "nested too deeply" in error.message:
        return Code.QUERY_TOO_COMPLEX.value
    return Code.BAD_USER_INPUT.value


def client_error(error: GraphQLError) -> dict[str, Any]:
    """The JSON form of one error, with unexpected ones masked behind a correlation id."""
    original = error.original_error
    if isinstance(original, GatewayError):
        out: dict[str, Any] = {
            "message": original.message,
            "path": error.path,
            "locations": error.formatted.get("locations"),
            "extensions": {"code": original.code.value, **original.extensions},
        }
        return {k: v for k, v in out.items() if v is not None}
    if original is None or error.path is None:
        # Errors in the request itself (parse, validation, variable coercion, our limits),
        # raised before any resolver ran: graphql-core's messages name the problem.
        out = {k: v for k, v in error.formatted.items() if k != "path"}
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", _code_of(error))
        out["extensions"] = extensions
        return out
    correlation = uuid.uuid4().hex
    log.error("unexpected error %s", correlation, exc_info=original)
    return {
        "message": f"Internal error (reference {correlation})",
        "path": error.path,
        "extensions": {"code": Code.INTERNAL_SERVER_ERROR.value, "correlationId": correlation},
    }
