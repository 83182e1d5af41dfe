"""What every resolver of one request shares: the caller, the purpose, the graph, and the
record of what the request touched (for the audit)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.rules.caller import Caller
from gateway.store.audit import AccessRecord
from gateway.store.db import Graph

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
    absent_floor: float = 0.0  # seconds; see ``answer_absent``
    started: float = field(default_factory=time.monotonic)

    async def answer_absent(self) -> None:
        """R17, as far as practical in time: a hidden record costs a predicate that a missing
        one does not, so a look-up that finds nothing answers no sooner than a fixed floor."""
        wait = self.absent_floor - (time.monotonic() - self.started)
        if wait > 0:
            await asyncio.sleep(wait)
