"""The audit log (R15): an append-only, HMAC-chained record of every access to personal data.

Each ``AccessEvent`` carries an HMAC over its fields and its predecessor's HMAC, keyed with
``GATEWAY_AUDIT_KEY`` (kept outside the graph), and ``(:AuditHead)`` holds the sequence
number and HMAC of the newest, so that editing, inserting or removing an event breaks the
chain that ``gateway audit verify`` recomputes, even for someone who can write to the graph
but lacks the key. (Cutting off the newest events and winding the head back stays possible
for such a person: detecting that needs the head anchored outside the graph.)

Each writer process appends to a chain of its own (``AuditHead.id`` = ``chain_id()``, every
event carrying its chain's id), so that replicas of the gateway never queue on one head node:
a chain's head lock orders only the events of the process that owns it. Any number of
writers may still share a chain safely (every append locks the head and checks it), so a
restarted process that takes up its old id simply continues that chain. ``verify`` checks
every chain. Events written before chains were per process have no ``chain`` property and
form the chain ``main``, signed as they always were.

Reads are recorded through a group-commit writer (concurrent requests share one commit) and
each request waits for its commit before its response leaves; if the commit fails, the request
fails. ``AuditLog`` commits to the graph; ``journal.AuditJournal`` to a local file, shipped to
the graph afterwards. Writes append their events inside their own transaction with ``append``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import socket
import uuid
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from neo4j import AsyncDriver, AsyncManagedTransaction, Driver, ManagedTransaction, Query, unit_of_work

from gateway.cypher.compiler import REF
from gateway.observability import hooks
from gateway.store.db import CLIENT_MARGIN, WRITE_TIMEOUT

GENESIS = ""
LEGACY_CHAIN = "main"  # the one chain of the events written before chains were per process
_FIELDS = ("seq", "id", "atMs", "userId", "agencyId", "operation", "purpose", "ids", "hit", "outcome")


class AuditUnavailable(Exception):
    """The event could not be recorded; the request must not return its data."""


@dataclass
class AccessRecord:
    """What one request touched, gathered while it runs."""

    fields: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    hit: bool | None = None

    @property
    def touched(self) -> bool:
        return bool(self.fields)

    def collect(self, value: Any) -> None:
        """Add every personal record's reference found in a compiled result."""
        if isinstance(value, dict):
            ref = value.get(REF)
            if ref is not None:
                self.ids.add(ref)
            for item in value.values():
                self.collect(item)
        elif isinstance(value, list):
            for item in value:
                self.collect(item)


def event(
    user: str | None, agency: str | None, operation: str, purpose: str | None,
    ids: Iterable[str], hit: bool | None, outcome: str = "OK",
) -> dict[str, Any]:  # fmt: skip
    now = datetime.now(UTC)
    at_ms = int(now.timestamp() * 1000)
    return {
        "id": uuid.uuid4().hex,
        "atMs": at_ms,
        "userId": user,
        "agencyId": agency,
        "operation": operation,
        "purpose": purpose,
        "ids": sorted(ids),
        "hit": hit,
        "outcome": outcome,
    }


_CHAIN_ID: tuple[int, str] | None = None


def chain_id() -> str:
    """This process's chain: GATEWAY_AUDIT_CHAIN when set, else host name and process id, so
    that every worker and replica writes its own chain, and a restarted container (same host
    name, same pid) continues the chain it wrote before. Recomputed after a fork."""
    global _CHAIN_ID
    if _CHAIN_ID is None or _CHAIN_ID[0] != os.getpid():
        configured = os.environ.get("GATEWAY_AUDIT_CHAIN", "").strip()
        if configured == LEGACY_CHAIN:
            raise ValueError(f"GATEWAY_AUDIT_CHAIN may not be {LEGACY_CHAIN!r}: that chain is closed")
        _CHAIN_ID = (os.getpid(), configured[:100] or f"{socket.gethostname()[:80]}:{os.getpid()}")
    return _CHAIN_ID[1]


def chain_hash(event: dict[str, Any], previous: str, key: bytes) -> str:
    """An HMAC, not a bare hash: with the key kept outside the graph, someone who can write to
    the graph cannot rewrite an event and chain the rest anew. The chain's id is signed too
    (legacy events have none and are signed as they were), so an event cannot be moved to
    another chain."""
    signed = [event.get(k) for k in _FIELDS]
    if event.get("chain") is not None:
        signed.append(event["chain"])
    body = json.dumps(signed, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, (previous + "\n" + body).encode(), hashlib.sha256).hexdigest()


_HEAD = (
    "MERGE (h:AuditHead {id: $chain}) ON CREATE SET h.seq = 0, h.hash = $genesis "
    "SET h.touchedAt = datetime() RETURN h.seq AS seq, h.hash AS hash"
)
_APPEND = (
    "UNWIND $events AS e CREATE (a:AccessEvent) SET a = e, a.at = datetime({epochMillis: e.atMs}) "
    "WITH count(a) AS n MATCH (h:AuditHead {id: $chain}) SET h.seq = $seq, h.hash = $hash"
)
# One round trip when the writer knows the head: lock it (the SET), check it is still where
# the writer left it, then chain on. Writing first makes the check read the latest commit.
_APPEND_AFTER = (
    "MATCH (h:AuditHead {id: $chain}) SET h.touchedAt = datetime() "
    "WITH h WHERE h.seq = $from AND h.hash = $previous SET h.seq = $seq, h.hash = $hash "
    "WITH h UNWIND $events AS e CREATE (a:AccessEvent) SET a = e, a.at = datetime({epochMillis: e.atMs}) "
    "RETURN count(a) AS written"
)

Head = tuple[int, str]


def chain_events(
    events: list[dict[str, Any]], head: Head, key: bytes, chain: str
) -> tuple[list[dict[str, Any]], Head]:
    seq, previous = head
    chained = []
    for e in events:
        seq += 1
        link = {**e, "seq": seq, "prevHash": previous, "chain": chain}
        link["hash"] = previous = chain_hash(link, previous, key)
        chained.append(link)
    return chained, (seq, previous)


async def append(
    tx: AsyncManagedTransaction, events: list[dict[str, Any]], key: bytes, known: Head | None = None,
    chain: str | None = None,
) -> Head:  # fmt: skip
    """Chain and write events inside the caller's transaction (the head's lock orders them);
    return the new head. ``known`` is where the caller last saw the head; ``chain`` is this
    process's chain unless given."""
    chain = chain or chain_id()
    if known is not None:
        chained, head = chain_events(events, known, key, chain)
        result = await tx.run(_APPEND_AFTER, {"from": known[0], "previous": known[1], "events": chained,
                                              "seq": head[0], "hash": head[1], "chain": chain})  # fmt: skip
        record = await result.single()
        if record is not None and record["written"] == len(events):
            return head
    result = await tx.run(_HEAD, genesis=GENESIS, chain=chain)
    current = await result.single(strict=True)
    chained, head = chain_events(events, (current["seq"], current["hash"]), key, chain)
    await tx.run(_APPEND, events=chained, seq=head[0], hash=head[1], chain=chain)
    return head


def append_sync(tx: ManagedTransaction, events: list[dict[str, Any]], key: bytes) -> None:
    """``append`` for the command line's synchronous jobs (``gateway identity-scan``)."""
    chain = chain_id()
    current = tx.run(_HEAD, genesis=GENESIS, chain=chain).single(strict=True)
    chained, head = chain_events(events, (current["seq"], current["hash"]), key, chain)
    tx.run(_APPEND, events=chained, seq=head[0], hash=head[1], chain=chain)


class AccessLog(Protocol):
    """Where read events go: ``AuditLog`` (the graph) or ``AuditJournal`` (a local file first)."""

    key: bytes

    def record(self, e: dict[str, Any]) -> Awaitable[None]: ...

    def close(self) -> Awaitable[None]: ...


class GroupWriter:
    """Group commit: one ``_commit`` for all events waiting at the time; each request waits for
    its batch, and fails with ``AuditUnavailable`` if the batch does. ``close`` fails every
    request still waiting, so none hangs through a shutdown."""

    def __init__(self, key: bytes, batch: int) -> None:
        self.key = key
        self._batch = batch
        self._queue: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[None]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._broken: str | None = None  # set when no further event can be recorded

    @hooks.audit_wait
    async def record(self, e: dict[str, Any]) -> None:
        if self._closed:
            raise AuditUnavailable("the audit writer is shut down")
        if self._broken is not None:
            raise AuditUnavailable(self._broken)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((e, done))
        await done

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while not self._queue.empty():
            _, done = self._queue.get_nowait()
            if not done.done():
                done.set_exception(AuditUnavailable("the audit writer is shut down"))

    async def _commit(self, events: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < self._batch:
                batch.append(self._queue.get_nowait())
            try:
                await self._commit([e for e, _ in batch])
                failure: BaseException | None = None
            except asyncio.CancelledError:
                _settle(batch, AuditUnavailable("the audit writer is shut down"))
                raise
            except AuditUnavailable as error:
                failure = error
            except Exception as error:  # the requests fail; the writer goes on
                failure = AuditUnavailable(type(error).__name__)
            _settle(batch, failure)


class AuditLog(GroupWriter):
    """Read events committed to the graph, a batch per transaction.

    Each batch is one attempt: the driver retries it only while nothing was committed, and
    after any failure (including a commit whose outcome is unknown) its requests fail and the
    writer reads the head afresh, so a batch is never appended twice.
    """

    def __init__(
        self, driver: AsyncDriver, database: str | None, key: bytes, batch: int = 256,
        timeout: float = WRITE_TIMEOUT,
    ) -> None:  # fmt: skip
        super().__init__(key, batch)
        self._driver = driver
        self._database = database
        self._timeout = timeout
        self._head: Head | None = None  # where this writer left the chain
        self.chain = chain_id()

    async def _commit(self, events: list[dict[str, Any]]) -> None:
        try:
            self._head = await self._append(events)
        except BaseException:
            self._head = None
            raise

    @hooks.audit_commit
    async def _append(self, events: list[dict[str, Any]]) -> Head:
        @unit_of_work(timeout=self._timeout)
        async def transaction(tx: AsyncManagedTransaction) -> Head:
            return await append(tx, events, self.key, self._head, self.chain)

        async with (
            asyncio.timeout(self._timeout + CLIENT_MARGIN),
            self._driver.session(database=self._database) as session,
        ):
            if self._head is not None:
                # Where the head is known, the batch is one auto-commit statement: one round
                # trip where a managed transaction takes two (BEGIN+RUN+PULL, then COMMIT). It
                # is durable when its answer arrives; if the head moved, nothing was written.
                chained, head = chain_events(events, self._head, self.key, self.chain)
                result = await session.run(
                    Query(_APPEND_AFTER, timeout=self._timeout),  # type: ignore[arg-type]
                    {"from": self._head[0], "previous": self._head[1], "events": chained,
                     "seq": head[0], "hash": head[1], "chain": self.chain},
                )  # fmt: skip
                record = await result.single()
                if record is not None and record["written"] == len(events):
                    return head
            return await session.execute_write(transaction)


def _settle(batch: list[tuple[dict[str, Any], asyncio.Future[None]]], failure: BaseException | None) -> None:
    for _, done in batch:
        if done.done():
            continue
        if failure is None:
            done.set_result(None)
        else:
            done.set_exception(failure)


_STORED = {*_FIELDS, "prevHash", "hash", "at", "chain"}


def _consistent(a: dict[str, Any]) -> bool:
    """Nothing outside the HMAC may have been added or changed: no extra properties, and the
    readable time is the signed one."""
    at = a.get("at")
    return set(a) <= _STORED and at is not None and int(at.to_native().timestamp() * 1000) == a.get("atMs")


@dataclass
class Verification:
    events: int
    broken_at: int | None  # the first sequence number whose hash does not follow
    chain: str | None = None  # the chain it broke in
    chains: int = 0

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(driver: Driver, key: bytes, database: str | None = None, page: int = 10_000) -> Verification:
    """Recompute every chain from its first event to the head it had when verify began, and
    check that no event lies outside a chain. Safe while gateways write: events appended since
    are left for the next run (an event and its head's move commit together)."""
    heads, _, _ = driver.execute_query(
        "MATCH (h:AuditHead) RETURN h.id AS chain, h.seq AS seq, h.hash AS hash ORDER BY chain",
        database_=database,
    )
    total = 0
    for head in heads:
        chain = head["chain"]
        count, broken_at = _verify_chain(driver, key, database, page, chain, head["seq"] or 0, head["hash"] or GENESIS)
        if broken_at is not None:
            return Verification(total + count, broken_at, chain, len(heads))
        total += count
    # An event of no chain, or beyond its chain's head, judged against the heads as they are
    # now (a concurrent append moves its head in the same transaction).
    orphans, _, _ = driver.execute_query(
        "MATCH (a:AccessEvent) WHERE NOT EXISTS { MATCH (h:AuditHead) "
        "WHERE h.id = coalesce(a.chain, $legacy) AND a.seq <= h.seq } "
        "RETURN coalesce(a.chain, $legacy) AS chain, min(a.seq) AS seq ORDER BY seq LIMIT 1",
        legacy=LEGACY_CHAIN, database_=database,
    )  # fmt: skip
    if orphans:
        return Verification(total, orphans[0]["seq"], orphans[0]["chain"], len(heads))
    return Verification(total, None, None, len(heads))


def _verify_chain(
    driver: Driver, key: bytes, database: str | None, page: int, chain: str, head_seq: int, head_hash: str
) -> tuple[int, int | None]:
    """(events verified, the first sequence number that does not follow, or None)."""
    # The legacy chain's events carry no chain id (the seq index finds them).
    events_of = "a.chain IS NULL" if chain == LEGACY_CHAIN else "a.chain = $chain"
    previous, expected_seq, count = GENESIS, 1, 0
    while True:
        records, _, _ = driver.execute_query(
            f"MATCH (a:AccessEvent) WHERE {events_of} AND $from <= a.seq <= $head "
            "RETURN a ORDER BY a.seq LIMIT $page",
            {"from": expected_seq, "head": head_seq, "page": page, "chain": chain},
            database_=database,
        )
        if not records:
            break
        for record in records:
            a = dict(record["a"])
            if a["seq"] != expected_seq or a.get("prevHash") != previous:
                return count, expected_seq
            if chain_hash(a, previous, key) != a.get("hash") or not _consistent(a):
                return count, a["seq"]
            previous, expected_seq, count = a["hash"], expected_seq + 1, count + 1
    if head_seq != count or head_hash != previous:
        return count, count + 1
    return count, None
