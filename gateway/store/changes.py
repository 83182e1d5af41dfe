"""The change feed behind live alerts: one poller per gateway process.

Every workflow that changes what a caller is shown of a notice or diffusion sets its
``changedAt`` (``gateway.store.workflows``), so the graph itself is the event source and
every replica sees every change, whichever replica wrote it. While at least one subscription
is open, the poller asks the graph once per ``interval`` for the items changed recently and
hands the new ones to every subscriber of its process; each subscription then decides, with
its own caller's predicates and field view, what to deliver (``gateway.graphql.alerts``).

``changedAt`` is the writing transaction's start time, and a transaction commits up to its
time limit later, so each look reaches back ``overlap`` seconds (more than a write's time
limit); a change seen before (same item, same ``changedAt``) is not handed out twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from gateway.errors import Code, GatewayError
from gateway.store.db import CLIENT_MARGIN, Graph

log = logging.getLogger("gateway.alerts")

MAX_ROWS = 10_000  # changes read per look
MAX_PENDING = 10_000  # changes a subscription may have waiting before it is ended

_CHANGED = (
    "CALL () { MATCH (x:Notice) WHERE x.changedAt > $since RETURN x "
    "UNION MATCH (x:Diffusion) WHERE x.changedAt > $since RETURN x } "
    "WITH x ORDER BY x.changedAt LIMIT $max "
    # One row even when nothing changed: the clock must not become a grouping key.
    "WITH collect({label: CASE WHEN x:Notice THEN 'Notice' ELSE 'Diffusion' END, id: x.id, at: x.changedAt, "
    "source: x.sourceCountry, subject: head(COLLECT { MATCH (x)-[:CONCERNS]->(p:Person) RETURN p.id })}) AS changes "
    "RETURN changes, datetime() AS now"
)


@dataclass(frozen=True)
class Change:
    label: str  # Notice or Diffusion
    id: str
    at: Any  # neo4j DateTime: when the writing transaction started
    source: str | None  # the source country
    subject: str | None  # the person the item concerns


@dataclass(eq=False)
class Subscriber:
    """One subscription's inbox: the changes not yet looked at, newest per item."""

    since: Any  # graph time when it subscribed: earlier changes are not for it
    pending: dict[str, Change] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    overflowed: bool = False

    def take(self) -> list[Change]:
        changes, self.pending = list(self.pending.values()), {}
        self.wake.clear()
        return changes


class ChangeFeed:
    def __init__(self, graph: Graph, interval: float = 1.0, overlap: float | None = None) -> None:
        self._graph = graph
        self.interval = interval
        self.overlap = overlap if overlap is not None else graph.timeout + CLIENT_MARGIN + 2
        self._subscribers: set[Subscriber] = set()
        # Open subscriptions per agency, counted by the WebSocket endpoint from the moment it
        # accepts one, so that no agency takes every slot of the process.
        self.by_agency: Counter[str] = Counter()
        self._seen: dict[tuple[str, Any], Any] = {}  # (id, changedAt) -> changedAt
        self._now: Any = None  # the graph's clock at the last look
        self._task: asyncio.Task[None] | None = None
        self._looked = asyncio.Event()

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    async def subscribe(self) -> Subscriber:
        """A new inbox; waits for the poller's first look (it knows the graph's clock)."""
        if self._task is None or self._task.done():
            self._looked.clear()
            self._task = asyncio.create_task(self._run())
        subscriber = Subscriber(since=None)
        self._subscribers.add(subscriber)
        try:
            await asyncio.wait_for(self._looked.wait(), self._graph.timeout + CLIENT_MARGIN)
        except TimeoutError:
            self._subscribers.discard(subscriber)
            raise GatewayError(Code.SERVICE_UNAVAILABLE, "the graph is unavailable; try again shortly") from None
        subscriber.since = self._now
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while self._subscribers:
            try:
                await self._look()
            except GatewayError as error:  # the graph is unavailable: try again next time
                log.warning("alerts: the change feed could not read the graph (%s)", error.code.value)
            except Exception:
                log.exception("alerts: the change feed failed")
            await asyncio.sleep(self.interval)
        self._task = None

    async def _look(self) -> None:
        params: dict[str, Any] = {"max": MAX_ROWS}
        if self._now is None:
            rows = await self._graph.read("RETURN datetime() AS now", {})
            self._now = rows[0]["now"]
        params["since"] = self._now.to_native() - timedelta(seconds=self.overlap)
        rows = await self._graph.read(_CHANGED, params)
        changes, now = rows[0]["changes"], rows[0]["now"]
        if len(changes) >= MAX_ROWS:
            log.warning("alerts: more than %d changes within %.0f s; the newest wait", MAX_ROWS, self.overlap)
        fresh = []
        for c in changes:
            key = (c["id"], c["at"])
            if key not in self._seen:
                self._seen[key] = c["at"]
                fresh.append(Change(c["label"], c["id"], c["at"], c["source"], c["subject"]))
        horizon = now.to_native().timestamp() - 2 * self.overlap
        self._seen = {k: at for k, at in self._seen.items() if at.to_native().timestamp() >= horizon}
        self._now = now
        self._looked.set()
        for s in self._subscribers:
            if s.since is None:  # subscribed during this look: it starts from the next one
                continue
            for change in fresh:
                if change.at.to_native() < s.since.to_native():
                    continue
                if len(s.pending) >= MAX_PENDING:
                    s.overflowed = True
                    break
                s.pending[change.id] = change
            if s.pending or s.overflowed:
                s.wake.set()
