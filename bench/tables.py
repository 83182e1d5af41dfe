"""The tables `make bench` prints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench import stats

SYSTEMS = ("gateway", "gateway+journal", "peer", "cypher", "cypher+audit", "cypher+journal")
SHORT = {"gateway": "gw", "gateway+journal": "gw+j", "peer": "peer", "cypher": "cy", "cypher+audit": "cy+a",
         "cypher+journal": "cy+j"}  # fmt: skip


def _label(query: str, inputs: str) -> str:
    return f"{query} [{inputs}]" if inputs in ("visible", "hidden") else query


def print_all(samples: Sequence[stats.Sample], rows: list[dict[str, Any]], hits: dict[tuple[str, str, str], dict[str, int]],
              persons: int, rounds: int, seconds: float) -> None:  # fmt: skip
    print(f"\n{persons:,} persons; {rounds} interleaved rounds of {seconds:g} s per system, query and level; "
          "p50/p99 over every request of every round; rps and CPU: median of the rounds.")  # fmt: skip
    index = {(r["query"], r["inputs"], r["concurrency"], r["system"]): r for r in rows}
    keys = list(dict.fromkeys((r["query"], r["inputs"], r["concurrency"]) for r in rows))  # measured order

    print("\nThroughput (requests/s) and latency p50 / p99 (ms)")
    print(f"{'query':48} {'c':>3} | " + " | ".join(f"{SHORT[s]:>6} {'p50':>6} {'p99':>6}" for s in SYSTEMS))
    for q, i, c in keys:
        cells = []
        for s in SYSTEMS:
            r = index.get((q, i, c, s))
            cells.append(f"{r['rps']:6.0f} {r['p50_ms']:6.1f} {r['p99_ms']:6.1f}" if r else f"{'-':>20}")
        print(f"{_label(q, i):48} {c:>3} | " + " | ".join(cells))

    for s in ("gateway", "gateway+journal", "peer"):
        peak = max((r["server_rss_mb"] or 0 for r in rows if r["system"] == s), default=0)
        if peak:
            print(f"{s}: resident memory after a run, at most {peak:.0f} MB")
    print("\nCPU per request (ms): the system's server process + Neo4j (the Cypher systems have no server)")
    print(f"{'query':48} {'c':>3} | " + " | ".join(f"{SHORT[s]:>15}" for s in SYSTEMS))
    for q, i, c in keys:
        cells = []
        for s in SYSTEMS:
            r = index.get((q, i, c, s))
            server = f"{r['server_cpu_ms']:.2f}" if r and r["server_cpu_ms"] is not None else "-"
            cells.append(f"{server:>6} + {r['neo4j_cpu_ms']:6.2f}" if r else f"{'-':>15}")
        print(f"{_label(q, i):48} {c:>3} | " + " | ".join(cells))

    print("\nRatios, median (min-max over rounds), each computed within a round")
    columns = (
        ("gw/peer rps", "gateway", "peer", "rps"),
        ("gw/peer CPU", "gateway", "peer", "cpu"),
        ("gw/cy p50", "gateway", "cypher", "p50"),
        ("gw/cy+a p50", "gateway", "cypher+audit", "p50"),
        ("gw+j/peer rps", "gateway+journal", "peer", "rps"),
        ("gw+j/peer CPU", "gateway+journal", "peer", "cpu"),
        ("gw+j/cy+a p50", "gateway+journal", "cypher+audit", "p50"),
        ("gw+j/cy+j p50", "gateway+journal", "cypher+journal", "p50"),
        ("peer/cy+a p50", "peer", "cypher+audit", "p50"),
    )
    computed = {name: stats.ratios(samples, a, b, m) for name, a, b, m in columns}
    print(f"{'query':48} {'c':>3} | " + " | ".join(f"{name:>18}" for name, *_ in columns))
    for key in keys:
        cells = [f"{computed[name].get(key, '-')!s:>18}" for name, *_ in columns]
        print(f"{_label(key[0], key[1]):48} {key[2]:>3} | " + " | ".join(cells))

    if hits:
        print("\nPROFILE db hits per request (read statements; +w: writes not profiled)")
        profiled = ("gateway", "peer", "cypher")  # the journal's gateway runs the gateway's statements
        print(f"{'query':48} | " + " | ".join(f"{SHORT[s]:>14}" for s in profiled))
        for q, i in dict.fromkeys((q, i) for q, i, _ in keys):
            cells = []
            for s in profiled:
                h = hits.get((q, i, s))
                text = (
                    f"{h['db_hits']:,}"
                    + (f" ({h['statements']}+{h['writes']}w)" if h and h["writes"] else "")
                    if h
                    else "-"
                )
                cells.append(f"{text:>14}")
            print(f"{_label(q, i):48} | " + " | ".join(cells))
