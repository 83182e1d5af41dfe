"""The audit's chains (R15): one per writer process, each signed with its id; the events written
before chains were per process stay one chain, ``main``, signed and verified as before."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from typing import Any

import pytest
from neo4j import Driver

from gateway.store import audit
from tests.conftest import AUDIT_KEY

KEY = AUDIT_KEY.encode()


def an_event(**extra: Any) -> dict[str, Any]:
    return {**audit.event("u", "ncb-fr", "q:person", "INVESTIGATION", ["Person:P-1"], None), "seq": 1, **extra}


def test_a_legacy_event_without_a_chain_is_signed_exactly_as_before() -> None:
    e = an_event()
    body = json.dumps([e.get(k) for k in audit._FIELDS], separators=(",", ":"), ensure_ascii=False)
    before = hmac.new(KEY, ("\n" + body).encode(), hashlib.sha256).hexdigest()
    assert audit.chain_hash(e, "", KEY) == before


def test_the_chain_id_is_signed_so_an_event_cannot_move_to_another_chain() -> None:
    assert audit.chain_hash(an_event(chain="a:1"), "", KEY) != audit.chain_hash(an_event(chain="b:2"), "", KEY)
    assert audit.chain_hash(an_event(chain="a:1"), "", KEY) != audit.chain_hash(an_event(), "", KEY)


def test_each_process_has_its_own_chain_and_the_legacy_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "_CHAIN_ID", None)
    monkeypatch.delenv("GATEWAY_AUDIT_CHAIN", raising=False)
    assert audit.chain_id().endswith(f":{__import__('os').getpid()}")
    monkeypatch.setattr(audit, "_CHAIN_ID", None)
    monkeypatch.setenv("GATEWAY_AUDIT_CHAIN", "replica-a")
    assert audit.chain_id() == "replica-a"
    monkeypatch.setattr(audit, "_CHAIN_ID", None)
    monkeypatch.setenv("GATEWAY_AUDIT_CHAIN", audit.LEGACY_CHAIN)
    with pytest.raises(ValueError):
        audit.chain_id()
    monkeypatch.setattr(audit, "_CHAIN_ID", None)


def _store(driver: Driver, chain: str | None, count: int) -> list[dict[str, Any]]:
    """``count`` events chained by hand, as a writer would, with their head."""
    previous, stored = audit.GENESIS, []
    for seq in range(1, count + 1):
        e = {**audit.event("chain-test", "ncb-fr", "q:person", "INVESTIGATION", ["Person:P-1"], None),
             "seq": seq, "prevHash": previous}  # fmt: skip
        if chain is not None:
            e["chain"] = chain
        e["hash"] = previous = audit.chain_hash(e, e["prevHash"], KEY)
        stored.append(e)
    driver.execute_query(
        "UNWIND $events AS e CREATE (a:AccessEvent) SET a = e, a.at = datetime({epochMillis: e.atMs}) "
        "WITH count(a) AS n MERGE (h:AuditHead {id: $head}) SET h.seq = $seq, h.hash = $hash",
        events=stored, head=chain or audit.LEGACY_CHAIN, seq=count, hash=previous,
    )  # fmt: skip
    return stored


def test_verify_checks_the_legacy_chain_and_every_process_chain_and_names_the_broken_one(seeded: Driver) -> None:
    assert audit.verify(seeded, KEY).ok
    try:
        _store(seeded, None, 3)
        _store(seeded, "verify-test:1", 2)
        result = audit.verify(seeded, KEY)
        assert result.ok and result.chains >= 2
        seeded.execute_query("MATCH (a:AccessEvent {chain: 'verify-test:1', seq: 2}) SET a.purpose = 'TAMPERED'")
        broken = audit.verify(seeded, KEY)
        assert (broken.chain, broken.broken_at) == ("verify-test:1", 2)
        seeded.execute_query("MATCH (a:AccessEvent {chain: 'verify-test:1'}) DETACH DELETE a")
        orphaned = audit.verify(seeded, KEY)  # its head now claims events that are gone
        assert (orphaned.chain, orphaned.broken_at) == ("verify-test:1", 1)
        seeded.execute_query("MATCH (h:AuditHead {id: 'verify-test:1'}) DELETE h")
        _store(seeded, "verify-test:2", 1)
        seeded.execute_query("MATCH (h:AuditHead {id: 'verify-test:2'}) DELETE h")
        headless = audit.verify(seeded, KEY)  # an event of no chain
        assert (headless.chain, headless.broken_at) == ("verify-test:2", 1)
    finally:
        seeded.execute_query(
            "MATCH (a:AccessEvent) WHERE a.userId = 'chain-test' DETACH DELETE a "
            "WITH count(*) AS gone MATCH (h:AuditHead) WHERE h.id IN ['main', 'verify-test:1', 'verify-test:2'] "
            "DELETE h"
        )
    assert audit.verify(seeded, KEY).ok


def test_verify_holds_while_a_writer_appends(seeded: Driver) -> None:
    """Found by the outside test: verify read heads, then events appended since, and reported a
    break on every run under load."""
    done = threading.Event()

    def writer() -> None:
        while not done.is_set():
            with seeded.session() as session:
                session.execute_write(audit.append_sync, [an_event(userId="concurrent-writer")], KEY)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        results = [audit.verify(seeded, KEY) for _ in range(5)]
    finally:
        done.set()
        thread.join()
    assert [r.ok for r in results] == [True] * 5, [(r.chain, r.broken_at) for r in results]
    assert audit.verify(seeded, KEY).ok
