"""What every resolver of one request shares: the caller, the purpose, the graph, and the
record of what the request touched (for the audit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.audit import AccessRecord
from gateway.caller import Caller
from gateway.db import Graph

if TYPE_CHECKING:
    import strawberry


@dataclass
class Context:
    caller: Caller
    purpose: str | None
    graph: Graph
    schema: strawberry.Schema
    record: AccessRecord = field(default_factory=AccessRecord)
    audit_key: bytes = b""  # the audit chain's HMAC key, for the writes' own events
