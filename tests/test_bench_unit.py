"""The benchmark runner's pure parts: percentiles, per-round ratios and their spread, the
rows of bench/results.json, the interleaving order, and the Bolt tap's PackStream reader."""

from __future__ import annotations

import struct

import pytest

from bench import stats
from bench.processes import pagecache_for
from bench.profile import unpack
from bench.queries import CARD, LINKS, NAMES, NOTICES


def sample(
    system: str, round_: int, rps: float, p50: float, level: int = 1, cpu: float = 0.1
) -> stats.Sample:
    # rps requests in one second, all at latency p50; cpu seconds of server and of Neo4j.
    return stats.Sample("card", "visible", level, system, round_, 1.0, [p50] * int(rps), cpu, cpu)


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))
    assert stats.percentile(values, 0.5) == 50
    assert stats.percentile(values, 0.99) == 99
    assert stats.percentile([7.0], 0.99) == 7.0
    with pytest.raises(ValueError):
        stats.percentile([], 0.5)


def test_ratios_are_taken_within_each_round_then_summarised() -> None:
    samples = [
        sample("gateway", 0, 300, 2.0), sample("peer", 0, 100, 4.0),
        sample("gateway", 1, 200, 2.0), sample("peer", 1, 200, 8.0),
        sample("gateway", 2, 100, 3.0), sample("peer", 2, 50, 3.0),
    ]  # fmt: skip
    rps = stats.ratios(samples, "gateway", "peer", "rps")[("card", "visible", 1)]
    assert (rps.median, rps.low, rps.high) == (2.0, 1.0, 3.0)
    p50 = stats.ratios(samples, "gateway", "peer", "p50")[("card", "visible", 1)]
    assert (p50.median, p50.low, p50.high) == (0.5, 0.25, 1.0)
    assert str(rps) == "2.00 (1.00-3.00)"


def test_a_round_missing_for_one_system_is_left_out_of_its_ratios() -> None:
    samples = [sample("gateway", 0, 300, 2.0), sample("peer", 0, 100, 4.0), sample("gateway", 1, 50, 2.0)]
    ratio = stats.ratios(samples, "gateway", "peer", "rps")[("card", "visible", 1)]
    assert (ratio.low, ratio.high) == (3.0, 3.0)


def test_results_rows_have_the_documented_shape() -> None:
    samples = [sample("gateway", r, 100 + r, 2.0 + r) for r in range(3)]
    samples.append(stats.Sample("card", "visible", 1, "cypher", 0, 1.0, [1.0, 3.0], None, 0.004))
    rows = stats.results(samples)
    assert len(rows) == 2
    for row in rows:
        assert {"query", "concurrency", "system", "rps", "p50_ms", "p99_ms", "cpu_ms"} <= row.keys()
    gateway = next(r for r in rows if r["system"] == "gateway")
    assert (gateway["rps"], gateway["p50_ms"], gateway["rounds"], gateway["requests"]) == (101.0, 3.0, 3, 303)
    assert gateway["cpu_ms"] == pytest.approx(200 / 101, rel=1e-2)  # (0.1 + 0.1) s over 101 requests
    cypher = next(r for r in rows if r["system"] == "cypher")
    assert gateway["server_rss_mb"] is None and cypher["server_rss_mb"] is None  # not measured here
    assert cypher["server_cpu_ms"] is None and cypher["cpu_ms"] == 2.0 and cypher["p99_ms"] == 3.0


def test_rounds_alternate_a_b_b_a() -> None:
    systems = ("gateway", "peer", "cypher")
    assert [stats.round_order(systems, r) for r in range(3)] == [
        ["gateway", "peer", "cypher"], ["cypher", "peer", "gateway"], ["gateway", "peer", "cypher"],
    ]  # fmt: skip


def test_packstream_reader_decodes_a_run_message() -> None:
    query = "MATCH (p:Person {id: $id}) RETURN p"
    message = (
        bytes([0xB3, 0x10])  # a structure of three fields, tagged RUN
        + bytes([0xD0, len(query)]) + query.encode()
        + bytes([0xA3, 0x82]) + b"id" + bytes([0x89]) + b"P-0000001"
        + bytes([0x85]) + b"first" + bytes([0xC9]) + struct.pack(">h", 300)
        + bytes([0x82]) + b"on" + bytes([0x92, 0xC3, 0xC0])
        + bytes([0xA0])  # no extra
    )  # fmt: skip
    (tag, fields), end = unpack(message)
    assert tag == 0x10 and end == len(message)
    assert fields == [query, {"id": "P-0000001", "first": 300, "on": [True, None]}, {}]


def test_each_query_reads_the_same_ids_from_every_systems_answer() -> None:
    notices = [{"id": "N-2"}, {"id": "N-1"}]
    card = {"id": "P-1", "notices": notices}
    assert (
        CARD.gateway_ids({"person": card})
        == CARD.peer_ids({"people": [card]})
        == CARD.cypher_ids([{"person": card}])
    )
    assert CARD.gateway_ids({"person": None}) == CARD.peer_ids({"people": []}) == CARD.cypher_ids([]) == ()
    page = {"totalCount": 7, "edges": [{"node": {"id": "N-9"}}, {"node": {"id": "N-3"}}]}
    assert (
        NOTICES.gateway_ids({"notices": page})
        == NOTICES.peer_ids({"noticesConnection": page})
        == (7, "N-9", "N-3")
    )
    assert NAMES.cypher_ids([{"total": 1, "rows": [{"id": "P-4"}]}]) == (1, "P-4")
    peer = {"id": "P-1", "associatesConnection": {"edges": [
        {"node": {"id": "P-2", "associatesConnection": {"edges": [{"node": {"id": "P-1"}}, {"node": {"id": "P-3"}}]}}},
    ]}}  # fmt: skip
    gateway = {"links": {"nodes": [{"id": "P-3"}, {"id": "P-1"}, {"id": "P-2"}]}}
    assert LINKS.peer_ids({"people": [peer]}) == LINKS.gateway_ids(gateway) == ("P-1", "P-2", "P-3")


def test_bench_page_cache_grows_with_the_seed_between_2_and_8_gb() -> None:
    assert pagecache_for(10_000) == "2048m"  # the floor: the 10,000 and 100,000 points' setting
    assert pagecache_for(100_000) == "2048m"
    assert pagecache_for(1_000_000) == "4883m"  # 5 KB a person: the 2.2 GB store fits
    assert pagecache_for(10_000_000) == "8192m"  # the cap on a shared 24 GiB machine
