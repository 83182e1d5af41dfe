"""The errors a client can see, each with a stable ``extensions.code``."""

from __future__ import annotations

import logging
import re
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
    RATE_LIMITED = "RATE_LIMITED"
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


# graphql-core's suggestions: "Cannot query field 'nme' on type 'Person'. Did you mean 'name'?",
# also for arguments, types, enum values and input fields, where more text may follow
# ("... Did you mean 'name'? Found: {nme: 1}."). Names hold no "?", so the sentence ends there.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def without_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)


MAX_MESSAGE = 500  # characters of an error message; the rest of an echoed input is cut


_SHORTENED = " …(shortened)"


def _bounded(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - len(_SHORTENED)] + _SHORTENED


def client_error(error: GraphQLError, correlation_id: str, suggestions: bool = True) -> dict[str, Any]:
    """The JSON form of one error, its message at most MAX_MESSAGE characters (messages may
    echo an input, which can be as long as the body). Unexpected ones are masked behind the
    request's correlation id, under which their traceback is logged (and nothing else about
    the request)."""
    out = _client_error(error, correlation_id, suggestions)
    out["message"] = _bounded(out["message"])
    return out


def _client_error(error: GraphQLError, correlation_id: str, suggestions: bool) -> dict[str, Any]:
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
        if not suggestions:
            out["message"] = without_suggestions(out["message"])
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", _code_of(error))
        out["extensions"] = extensions
        return out
    log.error(
        "unexpected error", exc_info=original,
        extra={"fields": {"correlationId": correlation_id, "path": [str(p) for p in error.path]}},
    )  # fmt: skip
    return {
        "message": f"Internal error (reference {correlation_id})",
        "path": error.path,
        "extensions": {"code": Code.INTERNAL_SERVER_ERROR.value, "correlationId": correlation_id},
    }
