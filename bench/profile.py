"""PROFILE db hits per request, for every system alike.

The hand-written Cypher is PROFILEd directly. The two GraphQL servers send Cypher of their
own making, so a second instance of each runs behind a Bolt tap: a TCP relay that reads the
RUN messages (statement and parameters) a request makes. Each read statement is then
PROFILEd with its parameters; writes (the gateway's audit record) are counted, not run
again. Neo4j Community has no query log to read them from."""

from __future__ import annotations

import asyncio
import re
import struct
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from neo4j import AsyncDriver, GraphDatabase, NotificationMinimumSeverity

_WRITE = re.compile(r"\b(CREATE|MERGE|SET|DELETE|REMOVE)\b", re.IGNORECASE)
_RUN = 0x10


class _Unhydrated:
    """A PackStream structure (a temporal or spatial value) the tap does not rebuild."""


def unpack(data: bytes, at: int = 0) -> tuple[Any, int]:
    """One PackStream value from ``data`` at ``at``: (value, next offset)."""
    m = data[at]
    at += 1
    hi, lo = m & 0xF0, m & 0x0F
    if m < 0x80:
        return m, at
    if m >= 0xF0:
        return m - 0x100, at
    sized = {0x80: "str", 0x90: "list", 0xA0: "map", 0xB0: "struct"}
    if hi in sized:
        return _sized(sized[hi], lo, data, at)
    if m == 0xC0:
        return None, at
    if m in (0xC2, 0xC3):
        return m == 0xC3, at
    if m == 0xC1:
        return struct.unpack_from(">d", data, at)[0], at + 8
    ints = {0xC8: ">b", 0xC9: ">h", 0xCA: ">i", 0xCB: ">q"}
    if m in ints:
        return struct.unpack_from(ints[m], data, at)[0], at + struct.calcsize(ints[m])
    lengths = {0xD0: ("str", ">B"), 0xD1: ("str", ">H"), 0xD2: ("str", ">I"), 0xD4: ("list", ">B"),
               0xD5: ("list", ">H"), 0xD6: ("list", ">I"), 0xD8: ("map", ">B"), 0xD9: ("map", ">H"),
               0xDA: ("map", ">I"), 0xCC: ("bytes", ">B"), 0xCD: ("bytes", ">H"), 0xCE: ("bytes", ">I")}  # fmt: skip
    if m in lengths:
        kind, fmt = lengths[m]
        return _sized(kind, struct.unpack_from(fmt, data, at)[0], data, at + struct.calcsize(fmt))
    raise ValueError(f"PackStream marker {m:#x}")


def _sized(kind: str, n: int, data: bytes, at: int) -> tuple[Any, int]:
    if kind in ("str", "bytes"):
        raw = data[at : at + n]
        return (raw.decode() if kind == "str" else raw), at + n
    if kind == "list":
        items = []
        for _ in range(n):
            v, at = unpack(data, at)
            items.append(v)
        return items, at
    if kind == "map":
        out = {}
        for _ in range(n):
            k, at = unpack(data, at)
            out[k], at = unpack(data, at)
        return out, at
    tag, at = data[at], at + 1  # a structure: its tag, then n fields
    fields = []
    for _ in range(n):
        v, at = unpack(data, at)
        fields.append(v)
    return (tag, fields) if tag == _RUN else _Unhydrated(), at


class BoltTap:
    """A relay from a local port to Neo4j's Bolt port that records each RUN message."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.runs: list[tuple[str, dict[str, Any]]] = []
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._relay, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        replied: asyncio.Future[bytes] = self.loop.create_future()

        async def downstream() -> None:
            first = await server_r.readexactly(4)
            replied.set_result(first)
            client_w.write(first)
            while data := await server_r.read(65536):
                client_w.write(data)
            client_w.close()

        async def upstream() -> None:
            async def take(n: int) -> bytes:
                data = await client_r.readexactly(n)
                server_w.write(data)
                return data

            async def varint() -> None:
                while (await take(1))[0] & 0x80:
                    pass

            await take(20)  # magic and four proposed versions
            if await replied == b"\x00\x00\x01\xff":  # manifest negotiation: version, capabilities
                await take(4)
                await varint()
            message = b""
            while True:
                size = struct.unpack(">H", await take(2))[0]
                if size:
                    message += await take(size)
                    continue
                if message and message[1] == _RUN:
                    (_tag, fields), _ = unpack(message)
                    self.runs.append((fields[0], fields[1]))
                message = b""

        try:
            await asyncio.gather(upstream(), downstream())
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            server_w.close()



def _with_now(value: Any) -> Any:
    """The parameters with every value the tap does not decode (a temporal struct: the
    gateway's ``$now``) replaced by the present instant."""
    if isinstance(value, dict):
        return {k: _with_now(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_now(v) for v in value]
    return datetime.now(UTC) if isinstance(value, _Unhydrated) else value


def db_hits(plan: Any) -> int:
    return int(plan.get("dbHits", 0) if isinstance(plan, dict) else getattr(plan, "db_hits", 0)) + sum(
        db_hits(c) for c in (plan.get("children", []) if isinstance(plan, dict) else plan.children)
    )


async def profile_cypher(driver: AsyncDriver, statement: str, params: dict[str, Any]) -> dict[str, int]:
    _, summary, _ = await driver.execute_query("PROFILE " + statement, params, routing_="r")
    return {"db_hits": db_hits(summary.profile), "statements": 1, "writes": 0}


def profile_server(
    name: str, start: Callable[[dict[str, str]], Any], env: dict[str, str], bolt_port: int, password: str,
    requests: list[tuple[str, str, Callable[[str], None]]],
) -> dict[tuple[str, str, str], dict[str, int]]:  # fmt: skip
    """Start a second instance of a server behind the tap; for each (query, inputs, send)
    send one request and PROFILE the read statements it made."""
    tap = BoltTap(bolt_port)
    process = start({**env, "NEO4J_URI": f"bolt://127.0.0.1:{tap.port}"})
    out = {}
    try:
        with GraphDatabase.driver(f"bolt://127.0.0.1:{bolt_port}", auth=("neo4j", password),
                                  notifications_min_severity=NotificationMinimumSeverity.OFF) as driver:  # fmt: skip
            for query, inputs, send in requests:
                send(process.url)  # warm: the caller look-up, plan caches
                tap.runs.clear()
                send(process.url)
                hits = statements = writes = 0
                for statement, params in list(tap.runs):
                    if _WRITE.search(statement):
                        writes += 1
                        continue
                    params = _with_now(params)  # the gateway's reading time ($now) is a struct
                    _, summary, _ = driver.execute_query("PROFILE " + statement, params, routing_="r")
                    hits += db_hits(summary.profile)
                    statements += 1
                out[(query, inputs, name)] = {"db_hits": hits, "statements": statements, "writes": writes}
    except httpx.HTTPError as e:
        raise SystemExit(f"profiling {name}: {e}") from e
    finally:
        process.stop()
        tap.stop()
    return out
