"""The runner's arithmetic, kept pure so that it can be tested without a server: percentiles,
per-round ratios with their median and spread, and the rows of bench/results.json."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (q in [0, 1]) of a non-empty sample."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


@dataclass
class Sample:
    """One timed measurement: one system, one query, one concurrency level, one round."""

    query: str
    inputs: str  # visible, hidden or all
    concurrency: int
    system: str
    round: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    server_cpu_s: float | None = None  # the system's own process; None for in-bench Cypher
    neo4j_cpu_s: float = 0.0
    server_rss_mb: float | None = None  # the server's resident memory after the run

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.median:.2f} ({self.low:.2f}-{self.high:.2f})"


def spread(values: Iterable[float]) -> Spread:
    v = list(values)
    return Spread(statistics.median(v), min(v), max(v))


Key = tuple[str, str, int]  # query, inputs, concurrency


def by_round(samples: Iterable[Sample]) -> dict[Key, dict[str, dict[int, Sample]]]:
    out: dict[Key, dict[str, dict[int, Sample]]] = defaultdict(lambda: defaultdict(dict))
    for s in samples:
        out[(s.query, s.inputs, s.concurrency)][s.system][s.round] = s
    return out


def ratios(samples: Iterable[Sample], numerator: str, denominator: str, metric: str) -> dict[Key, Spread]:
    """Per (query, inputs, concurrency): numerator/denominator of ``metric`` (rps, p50 or
    cpu) computed within each round, then the median and min-max over rounds."""
    out = {}
    for key, systems in by_round(samples).items():
        a, b = systems.get(numerator, {}), systems.get(denominator, {})
        values = [_metric(a[r], metric) / _metric(b[r], metric) for r in sorted(a.keys() & b.keys())]
        values = [v for v in values if v == v]  # a round without CPU figures gives NaN
        if values:
            out[key] = spread(values)
    return out


def cpu_ms(s: Sample) -> float:
    """Server plus Neo4j CPU per request, in milliseconds."""
    return ((s.server_cpu_s or 0.0) + s.neo4j_cpu_s) * 1000 / max(1, s.requests)


def _metric(s: Sample, metric: str) -> float:
    if metric == "rps":
        return s.rps
    if metric == "p50":
        return s.p50
    if metric == "cpu":
        return cpu_ms(s)
    raise ValueError(metric)


def results(samples: Iterable[Sample]) -> list[dict[str, Any]]:
    """bench/results.json: one row per (query, inputs, concurrency, system); throughput and
    CPU are medians over rounds, p50 and p99 are over every request of every round."""
    rows = []
    for (query, inputs, level), systems in by_round(samples).items():
        for system, rounds in systems.items():
            runs = list(rounds.values())
            latencies = [x for s in runs for x in s.latencies_ms]
            server = [s.server_cpu_s * 1000 / max(1, s.requests) for s in runs if s.server_cpu_s is not None]
            rows.append({
                "query": query, "inputs": inputs, "concurrency": level, "system": system,
                "rps": round(statistics.median(s.rps for s in runs), 1),
                "p50_ms": round(statistics.median(latencies), 2),
                "p99_ms": round(percentile(latencies, 0.99), 2),
                "cpu_ms": round(statistics.median(cpu_ms(s) for s in runs), 3),
                "server_cpu_ms": round(statistics.median(server), 3) if server else None,
                "neo4j_cpu_ms": round(statistics.median(s.neo4j_cpu_s * 1000 / max(1, s.requests) for s in runs), 3),
                "server_rss_mb": max((s.server_rss_mb for s in runs if s.server_rss_mb is not None), default=None),
                "requests": len(latencies), "rounds": len(runs),
            })  # fmt: skip
    return rows


def round_order(systems: Sequence[str], round_index: int) -> list[str]:
    """A B B A …: even rounds in the given order, odd rounds reversed, so that drift in the
    machine's load falls on every system alike."""
    return list(systems) if round_index % 2 == 0 else list(reversed(systems))
