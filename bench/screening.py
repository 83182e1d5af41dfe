"""`make bench-screening`: does screening find every visible hit, and only from visible records?

Seeds BENCH_PERSONS persons (100,000 by default) into a Neo4j of its own, kept per size in
.local/bench-neo4j-<N> so that sizes never refuse each other's seed, starts a gateway, and
screens through HTTP, as the NCBs of a few countries:

- for persons the caller may screen against (a live notice or diffusion its country may
  see), one query per variant family: exact, transliteration (another recorded spelling),
  original script, diacritics, swapped name order, alias, one typo; each with the date of
  birth, and the exact name without it;
- for persons whose live items the caller may not see: the exact name and date of birth.

It prints, per family: recall (the person's visible items among the matches), precision
(matches that concern the person sought, out of all matches), and the count of answers that
depended on hidden records (a reference the caller may not screen against, or a hidden
person's item; must be 0); then p50/p99 latency at concurrency 1 and 4.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from neo4j import GraphDatabase

from bench.processes import GatewayProcess, free_port
from gateway.http.auth import mint
from gateway.neo4j_local import LocalNeo4j
from gateway.rules import policy
from gateway.rules.caller import Caller
from gateway.settings import LOCAL_DIR, Settings
from graph_schema import migrations
from graph_schema.model import AgencyKind
from seed.loader import load

PERSONS = int(os.environ.get("BENCH_PERSONS", "100000"))
TARGETS = int(os.environ.get("BENCH_TARGETS", "60"))  # per caller country, visible and hidden each
COUNTRIES = ("DE", "JP", "FR", "RU", "EG")
SECRET = "bench-secret-" + "y" * 40
SCREEN = (
    """query($i: ScreeningInput!) { screen(input: $i) { outcome matches { reference person { id } } } }"""
)
FAMILIES = ("exact", "transliteration", "original-script", "diacritics", "swapped", "alias", "typo",
            "name-only")  # fmt: skip


@dataclass
class Query:
    family: str
    country: str
    person: str
    visible: bool
    refs: set[str]  # the person's items: screenable ones if visible, hidden ones if not
    data: dict[str, Any]


@dataclass
class Tally:
    asked: int = 0
    found: int = 0
    matches: int = 0
    on_person: int = 0
    hidden_dependent: int = 0
    errors: int = 0  # answered with an error (a timeout on a loaded machine): counted as not found
    latencies: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))


def _view(country: str) -> Caller:
    return Caller(user="bench", agency_id=f"ncb-{country.lower()}", kind=AgencyKind.NCB, country=country,
                  scopes=frozenset())  # fmt: skip


def _targets(driver: Any, country: str, visible: bool, rng: random.Random) -> list[dict[str, Any]]:
    view = _view(country)
    notice_ok = policy.screening_notice(view, "n")
    diffusion_ok = policy.screening_diffusion(view, "n")
    if visible:
        where = f"EXISTS {{ MATCH (n:Notice)-[:CONCERNS]->(p) WHERE {notice_ok} }} OR EXISTS {{ MATCH (n:Diffusion)-[:CONCERNS]->(p) WHERE {diffusion_ok} }}"
        refs = (f"[(n:Notice)-[:CONCERNS]->(p) WHERE {notice_ok} | n.id] + "
                f"[(n:Diffusion)-[:CONCERNS]->(p) WHERE {diffusion_ok} | n.id]")  # fmt: skip
    else:  # live items exist, none screenable by this country
        live = "n.status = 'PUBLISHED' AND NOT coalesce(n.blocked, false) AND n.expiresAt > datetime()"
        where = (
            f"EXISTS {{ MATCH (n:Notice)-[:CONCERNS]->(p) WHERE {live} }} "
            f"AND NOT EXISTS {{ MATCH (n:Notice)-[:CONCERNS]->(p) WHERE {notice_ok} }} "
            f"AND NOT EXISTS {{ MATCH (n:Diffusion)-[:CONCERNS]->(p) WHERE {diffusion_ok} }}"
        )
        refs = f"[(n:Notice)-[:CONCERNS]->(p) WHERE {live} | n.id]"
    ids = [r["id"] for r in driver.execute_query(
        f"MATCH (p:Person) WHERE p.id STARTS WITH 'P-0' AND ({where}) RETURN p.id AS id", country=country
    ).records]  # fmt: skip
    chosen = rng.sample(ids, min(TARGETS, len(ids)))
    return [r.data() for r in driver.execute_query(
        f"UNWIND $ids AS id MATCH (p:Person {{id: id}}) RETURN p.id AS id, properties(p) AS p, {refs} AS refs",
        ids=chosen, country=country,
    ).records]  # fmt: skip


def _split(name: str) -> tuple[str, str | None]:
    words = name.split()
    return words[-1], " ".join(words[:-1]) or None


def _diacritics(name: str, rng: random.Random) -> str:
    bare = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    if bare != name:
        return bare
    vowels = [i for i, c in enumerate(name) if c in "aeiou"]
    if not vowels:
        return name
    i = rng.choice(vowels)
    return name[:i] + unicodedata.normalize("NFC", name[i] + rng.choice("\u0301\u0308\u0300")) + name[i + 1 :]


def _typo(name: str, rng: random.Random) -> str | None:
    if len(name) < 4 or not name.isalpha():
        return None
    i = rng.randrange(1, len(name) - 1)
    kind = rng.randrange(4)
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if kind == 0:
        return name[:i] + letter + name[i + 1 :]
    if kind == 1:
        return name[:i] + name[i + 1 :]
    if kind == 2:
        return name[:i] + letter + name[i:]
    return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]


def _variants(p: dict[str, Any], rng: random.Random) -> dict[str, dict[str, Any] | None]:
    family, given = p["familyName"], p.get("givenNames")
    born = p["dateOfBirth"].iso_format() if p.get("dateOfBirth") else None
    base = {"dateOfBirth": born} if born else {}
    spellings = [v for v in p.get("nameVariants") or [] if v != f"{given} {family}"]
    out: dict[str, dict[str, Any] | None] = {
        "exact": {"familyName": family, "givenNames": given},
        "diacritics": {"familyName": _diacritics(family, rng), "givenNames": given},
        "swapped": {"familyName": given or family, "givenNames": family if given else None},
        "name-only": {"familyName": family, "givenNames": given},
        "transliteration": None, "original-script": None, "alias": None, "typo": None,
    }  # fmt: skip
    if spellings:
        f, g = _split(rng.choice(spellings))
        out["transliteration"] = {"familyName": f, "givenNames": g}
    if p.get("nameOriginalScript"):
        out["original-script"] = {"familyName": p["nameOriginalScript"]}
    if p.get("aliases"):
        f, g = _split(rng.choice(p["aliases"]))
        out["alias"] = {"familyName": f, "givenNames": g}
    if (typo := _typo(family, rng)) is not None:
        out["typo"] = {"familyName": typo, "givenNames": given}
    return {
        k: None if v is None else {**{a: b for a, b in v.items() if b}, **({} if k == "name-only" else base)}
        for k, v in out.items()
    }


def queries(driver: Any) -> list[Query]:
    rng = random.Random(7)
    out: list[Query] = []
    for country in COUNTRIES:
        for row in _targets(driver, country, True, rng):
            for family, data in _variants(row["p"], rng).items():
                if data is not None:
                    out.append(Query(family, country, row["id"], True, set(row["refs"]), data))
        for row in _targets(driver, country, False, rng):
            data = _variants(row["p"], rng)["exact"]
            assert data is not None
            out.append(Query("hidden", country, row["id"], False, set(row["refs"]), data))
    return out


def screenable(driver: Any, country: str, refs: set[str]) -> set[str]:
    view = _view(country)
    rows = driver.execute_query(
        f"MATCH (n:Notice) WHERE n.id IN $refs AND {policy.screening_notice(view, 'n')} RETURN n.id AS id "
        f"UNION MATCH (n:Diffusion) WHERE n.id IN $refs AND {policy.screening_diffusion(view, 'n')} RETURN n.id AS id",
        refs=list(refs), country=country,
    ).records  # fmt: skip
    return {r["id"] for r in rows}


async def run(
    url: str, qs: list[Query], level: int, answers: dict[int, Any], tallies: dict[str, Tally]
) -> None:
    settings = Settings(GATEWAY_JWT_SECRET=SECRET, GATEWAY_ENV="development")  # type: ignore[call-arg]
    tokens = {c: mint(settings, f"ncb-{c.lower()}", "bench", 3600) for c in COUNTRIES}
    pending = iter(enumerate(qs))
    done = 0
    began = time.perf_counter()
    async with httpx.AsyncClient(timeout=60) as http:

        async def worker() -> None:
            nonlocal done
            for i, q in pending:
                start = time.perf_counter()
                r = await http.post(f"{url}/graphql", json={"query": SCREEN, "variables": {"i": q.data}},
                                    headers={"Authorization": f"Bearer {tokens[q.country]}",
                                             "X-Purpose": "BORDER_CHECK"})  # fmt: skip
                tallies[q.family].latencies[level].append((time.perf_counter() - start) * 1000)
                body = r.json()
                if body.get("errors"):
                    codes = {e.get("extensions", {}).get("code") for e in body["errors"]}
                    if codes != {"QUERY_TOO_COMPLEX"}:  # only the read timeout is tolerated
                        raise SystemExit(f"{q.family} query failed: {body['errors']}")
                    tallies[q.family].errors += 1
                answers[i] = None if body.get("errors") else body["data"]["screen"]["matches"]
                done += 1
                if done % 200 == 0:
                    print(f"  concurrency {level}: {done}/{len(qs)} in {time.perf_counter() - began:.0f} s",
                          file=sys.stderr, flush=True)  # fmt: skip

        await asyncio.gather(*(worker() for _ in range(level)))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def report(driver: Any, qs: list[Query], answers: dict[int, Any], tallies: dict[str, Tally]) -> None:
    returned: dict[str, set[str]] = defaultdict(set)
    for i, q in enumerate(qs):
        returned[q.country] |= {m["reference"] for m in answers[i] or []}
    allowed = {c: screenable(driver, c, refs) for c, refs in returned.items()}
    for i, q in enumerate(qs):
        t = tallies[q.family]
        t.asked += 1
        if answers[i] is None:
            continue
        refs = {m["reference"] for m in answers[i]}
        t.matches += len(answers[i])
        t.on_person += sum(1 for m in answers[i] if m["person"]["id"] == q.person)
        if q.visible:
            t.found += bool(refs & q.refs)
        leaked = refs - allowed[q.country]
        if leaked or (not q.visible and refs & q.refs):
            t.hidden_dependent += 1
    print(f"\n{PERSONS:,} persons; callers: the NCBs of {', '.join(COUNTRIES)}")
    print(f"{'family':16} {'queries':>7} {'recall':>7} {'precision':>9} {'hidden-dep':>10} | "
          f"{'c1 p50':>7} {'c1 p99':>7} {'c4 p50':>7} {'c4 p99':>7} {'errors':>6}  (ms)")  # fmt: skip
    everything: dict[int, list[float]] = defaultdict(list)
    for family in (*FAMILIES, "hidden"):
        t = tallies.get(family)
        if t is None or not t.asked:
            continue
        recall = f"{t.found / t.asked:.3f}" if family != "hidden" else "-"
        precision = f"{t.on_person / t.matches:.3f}" if t.matches and family != "hidden" else "-"
        lat = {level: t.latencies[level] for level in (1, 4)}
        for level, values in lat.items():
            everything[level] += values
        print(f"{family:16} {t.asked:>7} {recall:>7} {precision:>9} {t.hidden_dependent:>10} | "
              f"{statistics.median(lat[1]):7.1f} {percentile(lat[1], 0.99):7.1f} "
              f"{statistics.median(lat[4]):7.1f} {percentile(lat[4], 0.99):7.1f} {t.errors:>6}")  # fmt: skip
    print(f"{'all':16} {len(qs):>7} {'':>7} {'':>9} {sum(t.hidden_dependent for t in tallies.values()):>10} | "
          f"{statistics.median(everything[1]):7.1f} {percentile(everything[1], 0.99):7.1f} "
          f"{statistics.median(everything[4]):7.1f} {percentile(everything[4], 0.99):7.1f}")  # fmt: skip


def main() -> None:
    server = LocalNeo4j(home=LOCAL_DIR / f"bench-neo4j-{PERSONS}", lib=LOCAL_DIR / "neo4j-lib",
                        bolt_port=free_port(), http_port=free_port(), heap="3g", pagecache="3g")  # fmt: skip
    server.start()
    try:
        with GraphDatabase.driver(server.bolt_uri, auth=("neo4j", server.password())) as driver:
            migrations.apply(driver)
            print(load(driver, PERSONS, 1, progress=True), flush=True)
            qs = queries(driver)
            print(f"{len(qs)} screening queries", flush=True)
            env = {**os.environ, "NEO4J_URI": server.bolt_uri, "NEO4J_PASSWORD": server.password(),
                   "GATEWAY_JWT_SECRET": SECRET, "GATEWAY_PLAYGROUND": "false",
                   # One client address sends everything: development tokens, no rate limits.
                   "GATEWAY_ENV": "development", "GATEWAY_RATE_PER_ADDRESS": "0", "GATEWAY_RATE_PER_AGENCY": "0",
                   "GATEWAY_NEW_DOCUMENTS_PER_ADDRESS": "0"}  # fmt: skip
            gateway = GatewayProcess(env)
            tallies: dict[str, Tally] = defaultdict(Tally)
            answers: dict[int, Any] = {}
            try:
                # One query of each shape first, so that planning (seconds on a loaded machine)
                # is not timed.
                shapes = list({(q.family, q.country): q for q in qs}.values())
                asyncio.run(run(gateway.url, shapes, 1, {}, defaultdict(Tally)))
                asyncio.run(run(gateway.url, qs, 1, answers, tallies))
                asyncio.run(run(gateway.url, qs, 4, {}, tallies))
            finally:
                gateway.stop()
            report(driver, qs, answers, tallies)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
