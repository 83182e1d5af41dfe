"""The audit journal (GATEWAY_AUDIT_JOURNAL): read events on disk before their response leaves,
shipped to the graph afterwards, never lost and never twice, verified like every chain (R15)."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from neo4j import AsyncGraphDatabase, Driver

from gateway.settings import REPO_ROOT
from gateway.store import audit, journal
from tests.conftest import AUDIT_KEY, GatewayProcess, gateway_env, token

KEY = AUDIT_KEY.encode()
T = TypeVar("T")


def run(neo4j_auth: tuple[str, str, str], scenario: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``scenario(async driver)`` against the suite's Neo4j."""
    uri, user, password = neo4j_auth

    async def main() -> T:
        driver = AsyncGraphDatabase.driver(uri, auth=(user, password))
        try:
            return await scenario(driver)
        finally:
            await driver.close()

    return asyncio.run(main())


def an_event(n: int = 0) -> dict[str, Any]:
    return audit.event("journal-test", "ncb-fr", f"q{n}:person", "INVESTIGATION", [f"Person:P-{n}"], True)


def stored(driver: Driver, chain: str) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        "MATCH (a:AccessEvent {chain: $chain}) RETURN a ORDER BY a.seq", chain=chain
    )
    return [dict(r["a"]) for r in records]


def test_an_event_is_on_disk_when_record_returns_and_in_the_graph_after_shipping(
    driver: Driver, neo4j_auth: tuple[str, str, str], tmp_path: Path
) -> None:
    async def scenario(async_driver: Any) -> tuple[str, list[dict[str, Any]], bool]:
        log = journal.AuditJournal(async_driver, None, KEY, tmp_path)
        await log.start()
        await asyncio.gather(*(log.record(an_event(n)) for n in range(20)))
        on_disk = journal.read_journal(next(tmp_path.glob("*.jsonl")))
        await log.flush()
        await log.close()
        return log.chain, on_disk, any(tmp_path.iterdir())

    chain, on_disk, left = run(neo4j_auth, scenario)
    assert [e["seq"] for e in on_disk] == list(range(1, 21))
    assert sorted(e["operation"] for e in on_disk) == sorted(f"q{n}:person" for n in range(20))
    in_graph = stored(driver, chain)
    assert [{k: v for k, v in e.items() if k != "at"} for e in in_graph] == on_disk
    assert not left, "a wholly shipped journal is removed at shutdown"
    assert audit.verify(driver, KEY).ok


def test_the_shipper_sends_events_to_the_graph_without_being_asked(
    driver: Driver, neo4j_auth: tuple[str, str, str], tmp_path: Path
) -> None:
    async def scenario(async_driver: Any) -> tuple[str, int]:
        log = journal.AuditJournal(async_driver, None, KEY, tmp_path)
        await log.start()
        await log.record(an_event())
        deadline = time.monotonic() + 10
        while log.unshipped and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        unshipped = log.unshipped
        await log.close()
        return log.chain, unshipped

    chain, unshipped = run(neo4j_auth, scenario)
    assert unshipped == 0
    assert len(stored(driver, chain)) == 1


def test_a_growing_journal_is_cut_to_its_unshipped_events_and_the_chain_goes_on(
    driver: Driver, neo4j_auth: tuple[str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal, "COMPACT_BYTES", 2_000)

    async def scenario(async_driver: Any) -> tuple[str, int]:
        log = journal.AuditJournal(async_driver, None, KEY, tmp_path)
        await log.start()
        for n in range(40):
            await log.record(an_event(n))
        path = next(tmp_path.glob("*.jsonl"))
        deadline = time.monotonic() + 10
        while (log.unshipped or path.stat().st_size > 2_000) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        size = path.stat().st_size
        for n in range(40, 45):
            await log.record(an_event(n))
        await log.close()
        return log.chain, size

    chain, size = run(neo4j_auth, scenario)
    assert size < 2_000
    assert [e["seq"] for e in stored(driver, chain)] == list(range(1, 46))
    assert audit.verify(driver, KEY).ok


def write_journal(directory: Path, chain: str, count: int, partial_tail: bool) -> list[dict[str, Any]]:
    """The file a process that died would leave: ``count`` chained events, perhaps a half line."""
    events, _ = audit.chain_events([an_event(n) for n in range(count)], (0, audit.GENESIS), KEY, chain)
    body = b"".join(json.dumps(e).encode() + b"\n" for e in events)
    if partial_tail:
        body += b'{"seq": 99, "half'
    (directory / f"{chain}.jsonl").write_bytes(body)
    return events


def start_a_journal_until_shipped(neo4j_auth: tuple[str, str, str], directory: Path, chain: str) -> None:
    """Start a journal on ``directory`` and wait until the file of ``chain`` is gone (shipped, or
    set aside), then stop it."""

    async def scenario(async_driver: Any) -> None:
        log = journal.AuditJournal(async_driver, None, KEY, directory)
        await log.start()
        deadline = time.monotonic() + 10
        while (directory / f"{chain}.jsonl").exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await log.close()

    run(neo4j_auth, scenario)


def test_a_journal_left_by_a_dead_process_is_shipped_at_the_next_start_and_removed(
    driver: Driver, neo4j_auth: tuple[str, str, str], tmp_path: Path
) -> None:
    events = write_journal(tmp_path, "dead-process~0001", 7, partial_tail=True)

    start_a_journal_until_shipped(neo4j_auth, tmp_path, "dead-process~0001")
    assert not (tmp_path / "dead-process~0001.jsonl").exists()
    assert [e["hash"] for e in stored(driver, "dead-process~0001")] == [e["hash"] for e in events]
    assert audit.verify(driver, KEY).ok


def test_a_dead_processs_journal_that_cannot_be_shipped_yet_is_counted_and_retried_within_seconds(
    driver: Driver, neo4j_auth: tuple[str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the outside test: after a Neo4j outage the next try came a minute later, and the
    unshipped gauge read 0 meanwhile."""
    write_journal(tmp_path, "after-outage~0004", 4, partial_tail=False)
    real_ship = journal.AuditJournal._ship
    refusals = iter([True])

    async def ship_after_one_refusal(self: journal.AuditJournal, chain: str, pending: list[dict[str, Any]]) -> None:
        if chain == "after-outage~0004" and next(refusals, False):
            raise ConnectionError("the graph is still starting")
        await real_ship(self, chain, pending)

    monkeypatch.setattr(journal.AuditJournal, "_ship", ship_after_one_refusal)

    async def scenario(async_driver: Any) -> tuple[int, float]:
        log = journal.AuditJournal(async_driver, None, KEY, tmp_path)
        started = time.monotonic()
        await log.start()
        await asyncio.sleep(0.3)
        counted = log.unshipped
        while (tmp_path / "after-outage~0004.jsonl").exists() and time.monotonic() - started < 30:
            await asyncio.sleep(0.05)
        took = time.monotonic() - started
        await log.close()
        return counted, took

    counted, took = run(neo4j_auth, scenario)
    assert counted == 4
    assert took < 15, f"shipped after {took:.1f} s"
    assert len(stored(driver, "after-outage~0004")) == 4


def test_events_the_graph_already_holds_are_not_shipped_twice(
    driver: Driver, neo4j_auth: tuple[str, str, str], tmp_path: Path
) -> None:
    """A shipment whose commit answered nothing (connection lost) may have committed: the next
    attempt finds its events in the chain's head and ships only the rest."""
    chain = "lost-answer~0002"
    events = write_journal(tmp_path, chain, 10, partial_tail=False)
    first = events[:4]
    driver.execute_query(
        "CREATE (h:AuditHead {id: $chain, seq: $seq, hash: $hash}) WITH h "
        "UNWIND $events AS e CREATE (a:AccessEvent) SET a = e, a.at = datetime({epochMillis: e.atMs})",
        chain=chain, seq=4, hash=first[-1]["hash"], events=first,
    )  # fmt: skip

    start_a_journal_until_shipped(neo4j_auth, tmp_path, chain)
    assert [e["seq"] for e in stored(driver, chain)] == list(range(1, 11))
    assert audit.verify(driver, KEY).ok


def test_a_journal_whose_chain_another_writer_moved_is_set_aside_not_forced_in(
    driver: Driver, neo4j_auth: tuple[str, str, str], tmp_path: Path
) -> None:
    chain = "conflict~0003"
    write_journal(tmp_path, chain, 3, partial_tail=False)
    driver.execute_query("CREATE (:AuditHead {id: $chain, seq: 1, hash: 'someone-else'})", chain=chain)

    start_a_journal_until_shipped(neo4j_auth, tmp_path, chain)
    assert (tmp_path / f"{chain}.unshippable").exists()
    assert stored(driver, chain) == []
    driver.execute_query("MATCH (h:AuditHead {id: $chain}) DELETE h", chain=chain)


def test_a_failed_disk_write_fails_its_requests_and_the_chain_goes_on_unbroken(
    driver: Driver, neo4j_auth: tuple[str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_sync = os.fdatasync
    failures = iter([True])

    def failing_once(fd: int) -> None:
        if next(failures, False):
            raise OSError(errno.EIO, "Input/output error")
        real_sync(fd)

    async def scenario(async_driver: Any) -> tuple[str, BaseException | None]:
        log = journal.AuditJournal(async_driver, None, KEY, tmp_path)
        await log.start()
        await log.record(an_event(1))
        monkeypatch.setattr(journal.os, "fdatasync", failing_once)
        refused: BaseException | None = None
        try:
            await log.record(an_event(2))
        except audit.AuditUnavailable as error:
            refused = error
        await log.record(an_event(3))
        await log.flush()
        await log.close()
        return log.chain, refused

    chain, refused = run(neo4j_auth, scenario)
    assert isinstance(refused, audit.AuditUnavailable)
    assert [e["operation"] for e in stored(driver, chain)] == ["q1:person", "q3:person"]
    assert audit.verify(driver, KEY).ok


@pytest.fixture
def journal_gateway(seeded: Driver, neo4j_auth: tuple[str, str, str], tmp_path: Path) -> Iterator[GatewayProcess]:
    process = GatewayProcess(gateway_env(neo4j_auth, GATEWAY_AUDIT_JOURNAL=str(tmp_path / "journal")))
    try:
        yield process
    finally:
        if process.process.poll() is None:
            process.stop()


def test_a_gateway_with_a_journal_records_each_read_on_disk_and_ships_it(
    journal_gateway: GatewayProcess, driver: Driver, tmp_path: Path
) -> None:
    directory = tmp_path / "journal"
    answer = httpx.post(
        f"{journal_gateway.url}/graphql",
        json={"query": 'query JournalCard { person(id: "P-DEMO-003") { id familyName } }',
              "operationName": "JournalCard"},
        headers={"Authorization": f"Bearer {token('ncb-fr', user='journal-reader')}", "X-Purpose": "INVESTIGATION"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert "errors" not in answer.json()
    files = list(directory.glob("*.jsonl"))
    assert len(files) == 1
    on_disk = [e for e in journal.read_journal(files[0]) if e["userId"] == "journal-reader"]
    assert [e["operation"] for e in on_disk] == ["JournalCard:person"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        records, _, _ = driver.execute_query(
            "MATCH (a:AccessEvent {userId: 'journal-reader'}) RETURN a.hash AS hash"
        )
        if records:
            break
        time.sleep(0.1)
    assert [r["hash"] for r in records] == [on_disk[0]["hash"]]
    journal_gateway.stop()
    assert list(directory.glob("*.jsonl")) == [], "a clean shutdown ships everything and removes its journal"
    assert audit.verify(driver, KEY).ok


def test_serve_refuses_an_audit_journal_it_cannot_create_in_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    env = {**os.environ, "GATEWAY_ENV": "development", "GATEWAY_AUDIT_JOURNAL": str(blocker / "journal")}
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--port", "9"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "GATEWAY_AUDIT_JOURNAL" in result.stderr and "cannot be created" in result.stderr
    assert "Traceback" not in result.stderr
