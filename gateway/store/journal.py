"""The audit journal (R15 at the cost of a local fsync): read events made durable in a local
append-only file before their response leaves, then shipped to the graph in the background.

Why: committing each read's event to Neo4j before answering costs a network round trip and a
graph transaction (Neo4j's own log flush included) per request, as much as the read itself on a
millisecond look-up. An ``fdatasync`` of a local file costs about a tenth of that, and shipping
hundreds of events in one statement costs the graph little per event.

What stays true:
- **Durable before the response**: ``record`` returns only after its line is on disk; if the
  write fails, the request fails (``AuditUnavailable``) and the file is cut back to where it was.
- **Tamper-evident**: events are HMAC-chained exactly like the graph's (``audit.chain_events``), on a
  chain of their own per journal (``<process chain>~<random>``), so ``gateway audit verify``
  checks the shipped events like any other chain.
- **Nothing lost, nothing twice**: shipping checks the chain's head in the graph; a batch whose
  commit outcome was unknown is recognised by its hashes and not appended again. A journal left
  by a process that died (its file no longer locked) is shipped by the next one to start with the
  same directory, then removed.

What changes: events reach the graph (and ``auditEvents``) after a short delay
(``SHIP_INTERVAL``), and the directory must be on a persistent volume: a journal on a disk that
is lost with its container loses the events not yet shipped. Writes still append their events
inside their own graph transaction (``audit.append``).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from neo4j import AsyncDriver, Query

from gateway.observability import hooks, metrics
from gateway.store.audit import GENESIS, AuditUnavailable, GroupWriter, Head, chain_events, chain_id
from gateway.store.db import WRITE_TIMEOUT

log = logging.getLogger("gateway.audit")

SHIP_INTERVAL = 0.2  # seconds between shipments while events are waiting
SHIP_BATCH = 1_000  # events per shipping statement
COMPACT_BYTES = 1 << 20  # a journal larger than this is cut to its unshipped events
RECOVER_EVERY = 60.0  # seconds between looks for journals left by dead processes
RECOVER_RETRY = 2.0  # seconds before trying again when one could not be shipped
SUFFIX = ".jsonl"

# Lock the chain's head (the SET), check it is where the journal left it, then chain on; the
# first shipment of a chain creates its head.
_SHIP = (
    "MERGE (h:AuditHead {id: $chain}) ON CREATE SET h.seq = 0, h.hash = $genesis "
    "SET h.touchedAt = datetime() "
    "WITH h WHERE h.seq = $from AND h.hash = $previous SET h.seq = $seq, h.hash = $hash "
    "WITH h UNWIND $events AS e CREATE (a:AccessEvent) SET a = e, a.at = datetime({epochMillis: e.atMs}) "
    "RETURN count(a) AS written"
)
_HEAD = "MATCH (h:AuditHead {id: $chain}) RETURN h.seq AS seq, h.hash AS hash"


class ChainConflict(Exception):
    """The graph's head of a journal's chain is neither where the journal left it nor one of its
    events: something else wrote to the chain."""


class JournalDamaged(OSError):
    """A failed write could not be cut back: the file's end is unknown, so nothing more is
    appended to it."""


@dataclass
class _Open:
    """A journal file held (locked) by this process."""

    path: Path
    fd: int

    @classmethod
    def create(cls, path: Path) -> _Open:
        """A new journal file, locked, its name made durable."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # nobody else knows it yet
        _sync_directory(path.parent)
        return cls(path, fd)

    @classmethod
    def take_over(cls, path: Path) -> _Open | None:
        """Another process's file, locked, or None while a live process holds it (or it is gone,
        or was replaced by its owner's compaction between the open and the lock)."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held, named = os.fstat(fd), os.stat(path, follow_symlinks=False)
            if (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino):
                return cls(path, fd)
        except (BlockingIOError, FileNotFoundError):
            pass
        os.close(fd)
        return None

    def replace(self, lines: bytes) -> None:
        """Keep only ``lines``, swapped in whole: a crash leaves the old file or the new one,
        and the new one is locked before its name appears."""
        temporary = self.path.with_suffix(".compacting")
        temporary.unlink(missing_ok=True)  # left by a crash during an earlier compaction
        fresh = _Open.create(temporary)
        try:
            fresh.append(lines)
            os.rename(temporary, self.path)
        except BaseException:
            fresh.close(remove=True)
            raise
        _sync_directory(self.path.parent)
        old, self.fd = self.fd, fresh.fd
        os.close(old)

    def read(self) -> list[dict[str, Any]]:
        """The events of this file (see ``read_journal``), read through the locked descriptor."""
        with open(f"/proc/self/fd/{self.fd}", "rb") as file:
            return _events(file.read())

    def append(self, lines: bytes) -> None:
        """Write and make durable, or leave the file as it was and raise."""
        before = os.fstat(self.fd).st_size
        try:
            view = memoryview(lines)
            while view:  # a full disk may take part of a write without an error
                written = os.write(self.fd, view)
                if written == 0:
                    raise OSError(28, "No space left on device")
                view = view[written:]
            os.fdatasync(self.fd)
        except OSError as error:
            try:
                os.ftruncate(self.fd, before)
                os.fdatasync(self.fd)
            except OSError:
                raise JournalDamaged(error.errno, error.strerror) from error
            raise

    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def close(self, remove: bool) -> None:
        if remove:
            self.path.unlink(missing_ok=True)
        os.close(self.fd)


def problem(directory: Path) -> str | None:
    """Why ``directory`` cannot hold journals (it is created if missing), or None."""
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        return f"GATEWAY_AUDIT_JOURNAL {str(directory)!r} cannot be created: {error.strerror}"
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"GATEWAY_AUDIT_JOURNAL {str(directory)!r} is not writable by this process"
    return None


def _encode(events: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(e, separators=(",", ":"), ensure_ascii=False).encode() + b"\n" for e in events)


def read_journal(path: Path) -> list[dict[str, Any]]:
    """The events of a journal file. A last line without its newline was being written when its
    process died: its request never had an answer, so it is dropped."""
    return _events(path.read_bytes())


def _events(content: bytes) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in content.split(b"\n")[:-1] if line]
    if not all(isinstance(e, dict) for e in events):
        raise ValueError("a line is not an event")
    return events


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AuditJournal(GroupWriter):
    """Read events group-committed to a local file, then shipped to the graph."""

    def __init__(
        self, driver: AsyncDriver, database: str | None, key: bytes, directory: Path, batch: int = 256,
        timeout: float = WRITE_TIMEOUT,
    ) -> None:  # fmt: skip
        super().__init__(key, batch)
        self._driver = driver
        self._database = database
        self._directory = directory
        self._timeout = timeout
        self.chain = f"{chain_id()}~{secrets.token_hex(4)}"
        self._file: _Open | None = None
        self._head: Head = (0, GENESIS)  # the newest event on disk
        self._pending: list[dict[str, Any]] = []  # on disk, not yet in the graph
        self._shipper: asyncio.Task[None] | None = None
        self._file_lock = asyncio.Lock()  # appends against compaction
        self._ship_lock = asyncio.Lock()  # the shipper against flush
        self._wake = asyncio.Event()
        self._orphaned = 0  # events of dead processes' journals found but not shipped yet
        self._compacting: asyncio.Future[None] | None = None

    @property
    def unshipped(self) -> int:
        return len(self._pending) + self._orphaned

    def _count(self) -> None:
        metrics.AUDIT_UNSHIPPED.set(self.unshipped)

    async def start(self) -> None:
        if reason := problem(self._directory):
            raise OSError(reason)
        self._file = _Open.create(self._directory / (quote(self.chain, safe="") + SUFFIX))
        self._shipper = asyncio.create_task(self._ship_forever())

    async def flush(self) -> None:
        """Ship every event on disk now."""
        async with self._ship_lock:
            await self._ship(self.chain, self._pending)

    async def close(self) -> None:
        """Finish, ship what is waiting (left on disk for the next start if the graph cannot
        take it), and release the file."""
        await super().close()
        if self._shipper is not None:
            self._shipper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._shipper
        if self._compacting is not None:  # a swap under way finishes before the file closes
            with contextlib.suppress(Exception):
                await self._compacting
        if self._file is None:
            return
        try:
            async with asyncio.timeout(self._timeout):
                await self.flush()
        except Exception as error:  # left on disk: the next start ships it
            log.warning("audit journal not shipped at shutdown (%s); it stays in %s",
                        type(error).__name__, self._directory)  # fmt: skip
        self._file.close(remove=not self._pending)
        self._file = None

    async def _commit(self, events: list[dict[str, Any]]) -> None:
        await self._append(events)

    @hooks.audit_commit
    async def _append(self, events: list[dict[str, Any]]) -> None:
        if self._file is None:
            raise AuditUnavailable("the audit journal is not open")
        chained, head = chain_events(events, self._head, self.key, self.chain)
        try:
            async with self._file_lock:
                await asyncio.to_thread(self._file.append, _encode(chained))
                self._head = head
                self._pending.extend(chained)
                self._count()
        except JournalDamaged as error:
            self._broken = "the audit journal is damaged"
            log.error("audit journal write failed and could not be cut back: %s", error.strerror)
            raise AuditUnavailable(self._broken) from None
        except OSError as error:
            log.error("audit journal write failed: %s", error.strerror)
            raise AuditUnavailable(f"the audit journal cannot be written ({error.strerror})") from None
        self._wake.set()

    async def _ship_forever(self) -> None:
        loop = asyncio.get_running_loop()
        recover_at = 0.0
        while True:
            if loop.time() >= recover_at:
                # Soon again if a journal of a dead process is still waiting (the graph was
                # down): its events are on disk only until then. Never in the way of our own.
                recover_at = loop.time() + (RECOVER_EVERY if await self._recover() else RECOVER_RETRY)
            try:
                if self._pending:
                    await self.flush()
                    await self._compact()
            except ChainConflict as conflict:
                # Reads stop rather than pile up events that cannot join their chain.
                self._broken = "the audit journal's chain was written by another process"
                log.error("%s: %s", self._broken, conflict)
                return
            except Exception as error:  # the graph is unavailable: the events wait on disk
                log.warning("audit journal shipping failed (%s); retrying", type(error).__name__)
            await asyncio.sleep(SHIP_INTERVAL)  # events gather meanwhile: one statement ships them
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(recover_at - loop.time(), 0.0)):
                    await self._wake.wait()
            self._wake.clear()

    async def _ship(self, chain: str, pending: list[dict[str, Any]]) -> None:
        """Append ``pending`` (consecutive events of ``chain``) to the graph, removing each batch
        from the list once it is committed."""
        while pending:
            batch = pending[:SHIP_BATCH]
            params = {"chain": chain, "genesis": GENESIS, "from": batch[0]["seq"] - 1,
                      "previous": batch[0]["prevHash"], "seq": batch[-1]["seq"], "hash": batch[-1]["hash"],
                      "events": batch}  # fmt: skip
            async with self._driver.session(database=self._database) as session:
                result = await session.run(Query(_SHIP, timeout=self._timeout), params)  # type: ignore[arg-type]
                record = await result.single()
                if record is not None and record["written"] == len(batch):
                    del pending[: len(batch)]
                    self._count()
                    continue
                # Not where the batch begins: an earlier attempt may have committed although its
                # answer was lost. Drop what the head already holds and go on.
                result = await session.run(Query(_HEAD, timeout=self._timeout), chain=chain)  # type: ignore[arg-type]
                head = await result.single()
                held = (head["seq"], head["hash"]) if head else (0, GENESIS)
                del pending[: _already_shipped(pending, *held)]

    async def _compact(self) -> None:
        """Keep the file to the events not yet shipped once it has grown (under steady load
        something is always waiting, so it is rewritten rather than emptied). Shielded: a
        shutdown waits for a swap under way instead of leaving it half seen."""
        async with self._file_lock:
            if self._file is not None and self._file.size() > COMPACT_BYTES:
                self._compacting = asyncio.ensure_future(asyncio.to_thread(self._file.replace, _encode(self._pending)))
                await asyncio.shield(self._compacting)

    async def _recover(self) -> bool:
        """Ship and remove the journals of processes that are gone (their files are unlocked);
        whether every one was dealt with. One that fails is logged and tried again later."""
        own = self._file.path if self._file else None
        self._orphaned, done = 0, True
        for path in sorted(self._directory.glob("*" + SUFFIX)):
            if path == own:
                continue
            try:
                done = await self._recover_one(path) and done
            except Exception as error:
                log.warning("audit journal %s of a stopped process not shipped yet (%s)", path.name,
                            type(error).__name__)  # fmt: skip
                done = False
        return done

    async def _recover_one(self, path: Path) -> bool:
        """Ship one dead process's file and remove it; True once it is dealt with."""
        orphan = await asyncio.to_thread(_Open.take_over, path)
        if orphan is None:  # a live process holds it, or it is gone
            return True
        found = 0
        try:
            events = await asyncio.to_thread(orphan.read)
            found = len(events)
            if len({e.get("chain") for e in events}) > 1:
                raise ChainConflict(f"{path.name} holds events of several chains")
            self._orphaned += found
            self._count()
            if events:
                await self._ship(events[0]["chain"], events)
            self._orphaned -= found
            self._count()
        except (ChainConflict, ValueError) as error:
            # Kept aside for a person to look at (still locked: the name is ours to change).
            log.error("audit journal %s cannot be shipped: %s", path.name, error)
            path.rename(path.with_suffix(".unshippable"))
            orphan.close(remove=False)
            return True
        except BaseException:
            orphan.close(remove=False)
            raise
        orphan.close(remove=True)
        log.info("audit journal %s of a stopped process shipped (%d events on disk)", path.name, found)
        return True


def _already_shipped(pending: list[dict[str, Any]], head_seq: int, head_hash: str) -> int:
    """How many of ``pending`` the graph's head already holds; ChainConflict if it holds none of
    them and is not where they begin."""
    first = pending[0]["seq"]
    index = head_seq - first
    if 0 <= index < len(pending) and pending[index]["hash"] == head_hash:
        return index + 1
    where = "where they begin (the shipment wrote nothing)" if index == -1 else f"at {head_seq}"
    raise ChainConflict(f"chain {pending[0]['chain']!r}: the graph's head is {where}, "
                        f"the journal holds {first}..{pending[-1]['seq']}")  # fmt: skip
