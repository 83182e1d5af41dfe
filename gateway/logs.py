"""The process's log: one JSON object per line on stderr.

Lines carry what an operator needs (correlation id, agency, operation name, outcome, timings)
and never request content: query text, variables and results can hold personal data. Modules
add fields with ``log.info("message", extra={"fields": {...}})``.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _no_websocket_handshakes(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith('%s - "WebSocket')


def configure(level: str = "INFO") -> None:
    """JSON lines for every logger, uvicorn's included (run it with ``log_config=None``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # The access log would print each URL with its query string; the request line replaces it.
    logging.getLogger("uvicorn.access").disabled = True
    # uvicorn logs each WebSocket handshake with the client's address and the URL's query
    # string (which could hold a token); the socket's own log line replaces it.
    logging.getLogger("uvicorn.error").addFilter(_no_websocket_handshakes)
    # Strawberry logs every GraphQL error with its message, and coercion messages quote the
    # variables' values; the endpoint logs what is needed (unexpected errors, with traceback).
    logging.getLogger("strawberry.execution").disabled = True
