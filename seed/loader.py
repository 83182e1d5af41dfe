"""Write the seed into Neo4j with batched ``UNWIND`` statements, and dump it canonically.

Interrupt protocol. ``load`` first writes ``(:SeedRun {persons, seed, status: 'IN_PROGRESS'})``
and sets ``status = 'COMPLETE'`` only after the last batch. Because a started seed is never
resumed, every statement can use plain ``CREATE`` (about twice as fast as ``MERGE``): a graph
with an ``IN_PROGRESS`` run, or with any data not from this very seed, is refused
(``SeedRefused``) unless ``reset=True``, which wipes everything but ``:SchemaMigration`` and
seeds again. A ``COMPLETE`` run with the same persons, seed and generator version is a no-op.

The caller owns the driver; nothing here creates one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from neo4j import Driver, ManagedTransaction, Session
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from gateway.cypher.names import name_keys
from graph_schema.migrations import LATEST_VERSION, current_version
from graph_schema.model import Label, Rel
from seed.demo import demo_rows
from seed.generator import LOAD_ORDER, Kind, Row, generate, reference_rows

SEED_RUN_LABEL = "SeedRun"
# Bump when the generator's output changes, so an old COMPLETE seed is not taken for this one.
GENERATOR_VERSION = 4  # 3: persons carry nameKeys (migration 6); 4: planted duplicate persons
WIPE_BATCH_ROWS = 10_000

# Nodes the dump leaves out: the audit chain, the schema bookkeeping and the seed bookkeeping.
# ``AuditHead`` is the audit chain's head (migration 4); it has no Label member yet.
AUDIT_HEAD_LABEL = "AuditHead"
_AUDIT_LABELS = (Label.ACCESS_EVENT.value, AUDIT_HEAD_LABEL)
_DUMP_EXCLUDED = (*_AUDIT_LABELS, Label.SCHEMA_MIGRATION.value, SEED_RUN_LABEL)


class SeedStatus(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETE = "COMPLETE"


class SeedRefused(RuntimeError):
    """The graph holds something other than this seed; ``reset=True`` would wipe it."""


@dataclass(frozen=True)
class SeedSummary:
    persons: int
    seed: int
    counts: dict[str, int]  # nodes per label in the graph after the load
    relationships: int
    elapsed_seconds: float  # the whole call, wipe included
    skipped: bool = False  # the graph already held this COMPLETE seed: nothing written
    wiped: bool = False  # reset=True deleted the previous content first
    wipe_seconds: float = 0.0
    written: dict[str, int] = field(default_factory=dict)  # rows written per kind

    @property
    def nodes(self) -> int:
        return sum(self.counts.values())

    @property
    def nodes_per_second(self) -> float:
        """Write throughput: the wipe's time is not the seed's."""
        seconds = self.elapsed_seconds - self.wipe_seconds
        return self.nodes / seconds if seconds > 0 else 0.0

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        if self.skipped:
            head = f"graph already holds seed persons={self.persons} seed={self.seed}: no-op"
        else:
            head = (
                f"seeded persons={self.persons} seed={self.seed} in "
                f"{self.elapsed_seconds:.1f}s ({self.nodes_per_second:,.0f} nodes/s"
                + (f", after a {self.wipe_seconds:.1f}s wipe)" if self.wiped else ")")
            )
        counts = ", ".join(f"{k}={v:,}" for k, v in self.counts.items() if v)
        return f"{head}; {counts}; relationships={self.relationships:,}"


L, R = Label, Rel

# Temporal properties travel as ISO strings and are rebuilt by Cypher: the pure-Python driver
# packs a native date or datetime about 4x slower than a string (measured: notices 0.48s ->
# 0.11s per 10,000 rows), and packing, not the server, bounds the load.
_TEMPORAL: dict[Kind, dict[str, str]] = {
    Kind.PERSON: {"dateOfBirth": "date"},
    Kind.NOTICE: {
        "requestedAt": "datetime",
        "publishedAt": "datetime",
        "expiresAt": "datetime",
        "reviewDueAt": "datetime",
    },
    Kind.DIFFUSION: {"sentAt": "datetime"},
    Kind.APPLICATION: {"lodgedAt": "date", "decidedAt": "date"},
    Kind.NOTIFICATION: {"createdAt": "datetime", "decidedAt": "date"},
}


def _set_props(var: str, kind: Kind) -> str:
    """``SET var = row.props``, plus the temporal properties rebuilt from ``row.t``."""
    fields = _TEMPORAL.get(kind)
    if not fields:
        return f"SET {var} = row.props"
    # date(null) and datetime(null) are null, and += with null sets nothing: absent stays absent.
    rebuilt = ", ".join(f"{name}: {fn}(row.t.{name})" for name, fn in fields.items())
    return f"SET {var} = row.props SET {var} += {{{rebuilt}}}"


def _encode(kind: Kind, rows: list[Row]) -> list[Row]:
    fields = _TEMPORAL.get(kind)
    if not fields:
        return rows
    encoded = []
    for row in rows:
        props = dict(row["props"])
        if kind is Kind.PERSON:  # screening's exhaustive look-up keys (migration 6)
            props["nameKeys"] = name_keys(props)
        t = {name: props.pop(name).isoformat() for name in fields if name in props}
        encoded.append({**row, "props": props, "t": t})
    return encoded


# One statement per kind. Endpoints are matched on their unique keys (migration 1's
# constraints back them with indexes); the expected-writes check below catches any row that
# a MATCH silently dropped.
_STATEMENTS: dict[Kind, str] = {
    Kind.COUNTRY: f"UNWIND $rows AS row CREATE (c:{L.COUNTRY}) SET c = row",
    Kind.AGENCY: f"""
        UNWIND $rows AS row
        CREATE (a:{L.AGENCY}) {_set_props("a", Kind.AGENCY)}
        WITH a, row WHERE row.country IS NOT NULL
        MATCH (c:{L.COUNTRY} {{code: row.country}})
        CREATE (a)-[:{R.OF_COUNTRY}]->(c)""",
    Kind.AUTHORIZATION: f"""
        UNWIND $rows AS row
        MATCH (e:{L.AGENCY} {{id: row.from}})
        MATCH (n:{L.AGENCY} {{id: row.to}})
        CREATE (e)-[:{R.AUTHORIZED_BY} {{scopes: row.scopes}}]->(n)""",
    Kind.PERSON: f"""
        UNWIND $rows AS row
        MATCH (a:{L.AGENCY} {{id: row.recordedBy}})
        CREATE (p:{L.PERSON}) {_set_props("p", Kind.PERSON)}
        CREATE (p)-[:{R.RECORDED_BY}]->(a)
        WITH p, row UNWIND row.nationalities AS code
        MATCH (c:{L.COUNTRY} {{code: code}})
        CREATE (p)-[:{R.NATIONAL_OF}]->(c)""",
    Kind.DOCUMENT: f"""
        UNWIND $rows AS row
        MATCH (p:{L.PERSON} {{id: row.holder}})
        MATCH (c:{L.COUNTRY} {{code: row.props.issuingCountry}})
        CREATE (d:{L.TRAVEL_DOCUMENT}) {_set_props("d", Kind.DOCUMENT)}
        CREATE (p)-[:{R.HOLDS}]->(d)
        CREATE (d)-[:{R.ISSUED_BY}]->(c)""",
    Kind.NOTICE: f"""
        UNWIND $rows AS row
        MATCH (p:{L.PERSON} {{id: row.person}})
        MATCH (a:{L.AGENCY} {{id: row.requestedBy}})
        CREATE (n:{L.NOTICE}) {_set_props("n", Kind.NOTICE)}
        CREATE (n)-[:{R.CONCERNS}]->(p)
        CREATE (n)-[:{R.REQUESTED_BY}]->(a)""",
    Kind.DIFFUSION: f"""
        UNWIND $rows AS row
        MATCH (p:{L.PERSON} {{id: row.person}})
        MATCH (a:{L.AGENCY} {{id: row.sentBy}})
        CREATE (d:{L.DIFFUSION}) {_set_props("d", Kind.DIFFUSION)}
        CREATE (d)-[:{R.CONCERNS}]->(p)
        CREATE (d)-[:{R.SENT_BY}]->(a)
        WITH d, row UNWIND row.sentTo AS code
        MATCH (c:{L.COUNTRY} {{code: code}})
        CREATE (d)-[:{R.SENT_TO}]->(c)""",
    Kind.APPLICATION: f"""
        UNWIND $rows AS row
        MATCH (p:{L.PERSON} {{id: row.person}})
        MATCH (r:{L.COUNTRY} {{code: row.props.receivingCountry}})
        MATCH (f:{L.COUNTRY} {{code: row.props.fearedCountry}})
        CREATE (a:{L.ASYLUM_APPLICATION}) {_set_props("a", Kind.APPLICATION)}
        CREATE (p)-[:{R.APPLIED_FOR}]->(a)
        CREATE (a)-[:{R.LODGED_IN}]->(r)
        CREATE (a)-[:{R.FEARS_PERSECUTION_IN}]->(f)""",
    Kind.NOTIFICATION: f"""
        UNWIND $rows AS row
        MATCH (a:{L.ASYLUM_APPLICATION} {{id: row.application}})
        CREATE (s:{L.STATUS_NOTIFICATION}) {_set_props("s", Kind.NOTIFICATION)}
        CREATE (s)-[:{R.REPORTS}]->(a)""",
    Kind.ASSOCIATE: f"""
        UNWIND $rows AS row
        MATCH (p:{L.PERSON} {{id: row.from}})
        MATCH (q:{L.PERSON} {{id: row.to}})
        CREATE (p)-[:{R.ASSOCIATE_OF} {{kind: row.kind}}]->(q)""",
}

_NODE_KINDS = {
    Kind.COUNTRY, Kind.AGENCY, Kind.PERSON, Kind.DOCUMENT, Kind.NOTICE, Kind.DIFFUSION,
    Kind.APPLICATION, Kind.NOTIFICATION,
}
_FIXED_RELS: dict[Kind, int] = {
    Kind.COUNTRY: 0, Kind.AUTHORIZATION: 1, Kind.DOCUMENT: 2, Kind.NOTICE: 2,
    Kind.APPLICATION: 3, Kind.NOTIFICATION: 1, Kind.ASSOCIATE: 1,
}
_LIST_RELS: dict[Kind, Callable[[Row], int]] = {
    Kind.AGENCY: lambda row: 0 if row["country"] is None else 1,
    Kind.PERSON: lambda row: 1 + len(row["nationalities"]),
    Kind.DIFFUSION: lambda row: 2 + len(row["sentTo"]),
}


def _expected(kind: Kind, rows: list[Row]) -> tuple[int, int]:
    nodes = len(rows) if kind in _NODE_KINDS else 0
    if kind in _FIXED_RELS:
        return nodes, _FIXED_RELS[kind] * len(rows)
    return nodes, sum(_LIST_RELS[kind](row) for row in rows)


def _write(session: Session, kind: Kind, rows: list[Row], batch_size: int) -> None:
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]

        def work(tx: ManagedTransaction, batch: list[Row] = batch) -> tuple[int, int]:
            counters = tx.run(_STATEMENTS[kind], rows=_encode(kind, batch)).consume().counters
            return counters.nodes_created, counters.relationships_created

        got = session.execute_write(work)
        want = _expected(kind, batch)
        if got != want:
            # A MATCH found no endpoint: fail loudly rather than leave a silently partial graph.
            raise RuntimeError(
                f"seed {kind} batch wrote {got[0]} nodes/{got[1]} relationships, "
                f"expected {want[0]}/{want[1]}"
            )


def _write_all(
    session: Session, rows: dict[Kind, list[Row]], batch_size: int, written: dict[str, int]
) -> None:
    for kind in LOAD_ORDER:
        batch = rows.get(kind, [])
        if batch:
            _write(session, kind, batch, batch_size)
            written[kind.value] = written.get(kind.value, 0) + len(batch)


def _runs(session: Session) -> list[dict[str, Any]]:
    result = session.run(
        f"MATCH (r:{SEED_RUN_LABEL}) RETURN r.persons AS persons, r.seed AS seed, "
        "r.status AS status, r.generatorVersion AS generator ORDER BY r.startedAt"
    )
    return [record.data() for record in result]


def _has_other_data(session: Session) -> bool:
    # The audit chain is not seed data: an audited but otherwise empty graph may be seeded.
    ignored = " AND ".join(
        f"NOT n:{x}" for x in (*_AUDIT_LABELS, Label.SCHEMA_MIGRATION.value, SEED_RUN_LABEL)
    )
    record = session.run(f"MATCH (n) WHERE {ignored} RETURN n LIMIT 1").single()
    return record is not None


def _describe_run(run: dict[str, Any]) -> str:
    return (
        f"{run['status']} seed persons={run['persons']} seed={run['seed']} "
        f"generator={run['generator']}"
    )


def _check_state(session: Session, persons: int, seed: int) -> bool:
    """True when this exact seed is already complete; raise if something else is there."""
    runs = _runs(session)
    hint = "`gateway seed --reset` (load(..., reset=True)) wipes it and seeds again"
    unfinished = [r for r in runs if r["status"] != SeedStatus.COMPLETE]
    if unfinished:
        raise SeedRefused(
            f"the graph holds an interrupted seed ({_describe_run(unfinished[0])}); {hint}"
        )
    same = [
        r
        for r in runs
        if (r["persons"], r["seed"], r["generator"]) == (persons, seed, GENERATOR_VERSION)
    ]
    if same and len(runs) == 1:
        return True
    if runs:
        raise SeedRefused(
            f"the graph holds another seed ({_describe_run(runs[0])}), not persons={persons} "
            f"seed={seed} generator={GENERATOR_VERSION}; {hint}"
        )
    if _has_other_data(session):
        raise SeedRefused(f"the graph holds data that no recorded seed wrote; {hint}")
    return False


def wipe(driver: Driver, database: str | None = None) -> None:
    """Delete every node but ``:SchemaMigration``, in batches so the heap stays small."""
    with driver.session(database=database) as session:
        # CALL ... IN TRANSACTIONS needs an auto-commit transaction, hence session.run.
        # Relationships first, then bare nodes: measured 15-25% faster than DETACH DELETE.
        session.run(
            "MATCH ()-[r]->() "
            f"CALL (r) {{ DELETE r }} IN TRANSACTIONS OF {WIPE_BATCH_ROWS} ROWS"
        ).consume()
        session.run(
            f"MATCH (n) WHERE NOT n:{L.SCHEMA_MIGRATION} "
            f"CALL (n) {{ DELETE n }} IN TRANSACTIONS OF {WIPE_BATCH_ROWS} ROWS"
        ).consume()


def _counts(session: Session) -> tuple[dict[str, int], int]:
    counts: dict[str, int] = {}
    for label in Label:
        if label in (Label.ACCESS_EVENT, Label.SCHEMA_MIGRATION):
            continue
        # Label counts come from the count store: constant time even at 1M persons.
        record = session.run(f"MATCH (n:{label}) RETURN count(n) AS c").single()
        counts[label.value] = int(record["c"]) if record else 0
    record = session.run("MATCH ()-[r]->() RETURN count(r) AS c").single()
    return counts, int(record["c"]) if record else 0


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]seeding persons"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    )


def load(
    driver: Driver,
    persons: int,
    seed: int,
    *,
    reset: bool = False,
    progress: bool = True,
    batch_size: int = 10_000,
    database: str | None = None,
) -> SeedSummary:
    """Seed countries, agencies, the demo records and ``persons`` generated persons."""
    if persons < 0:
        raise ValueError(f"persons must be >= 0, got {persons}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    started = time.perf_counter()
    version = current_version(driver, database)
    if version != LATEST_VERSION:
        # Without migration 1's constraints every endpoint MATCH would scan all nodes.
        raise SeedRefused(
            f"the graph schema is at version {version}, expected {LATEST_VERSION}: "
            "apply the migrations first"
        )
    with driver.session(database=database) as session:
        wipe_seconds = 0.0
        if reset:
            wipe(driver, database)
            wipe_seconds = time.perf_counter() - started
        elif _check_state(session, persons, seed):
            counts, rels = _counts(session)
            return SeedSummary(persons, seed, counts, rels, time.perf_counter() - started,
                               skipped=True)

        session.run(
            f"CREATE (:{SEED_RUN_LABEL} {{persons: $persons, seed: $seed, status: $status, "
            "generatorVersion: $generator, startedAt: datetime()})",
            persons=persons, seed=seed, status=SeedStatus.IN_PROGRESS.value,
            generator=GENERATOR_VERSION,
        ).consume()

        written: dict[str, int] = {}
        _write_all(session, reference_rows(), batch_size, written)
        _write_all(session, demo_rows(), batch_size, written)
        with _progress(progress) as bar:
            task = bar.add_task("persons", total=persons)
            # A chunk of batch_size persons keeps every statement near batch_size rows.
            for chunk in generate(persons, seed, chunk_size=batch_size):
                _write_all(session, chunk.rows, batch_size, written)
                bar.advance(task, chunk.persons)

        session.run(
            f"MATCH (r:{SEED_RUN_LABEL} {{persons: $persons, seed: $seed, status: $running}}) "
            "SET r.status = $done, r.completedAt = datetime()",
            persons=persons, seed=seed, running=SeedStatus.IN_PROGRESS.value,
            done=SeedStatus.COMPLETE.value,
        ).consume()
        counts, rels = _counts(session)
    return SeedSummary(persons, seed, counts, rels, time.perf_counter() - started,
                       wiped=reset, wipe_seconds=wipe_seconds, written=written)


# -- canonical dump --------------------------------------------------------------------


def _canon(value: Any) -> str:
    """One canonical text form per value, stable across runs and driver versions."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_canon(v) for v in value) + "]"
    iso = getattr(value, "iso_format", None)  # neo4j.time Date, DateTime, Duration...
    if callable(iso):
        return f"{type(value).__name__}({iso()})"
    return repr(value)


def _props(props: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_canon(props[k])}" for k in sorted(props)) + "}"


def _key(labels: list[str], props: dict[str, Any]) -> str:
    label = ":".join(sorted(labels))
    if Label.COUNTRY.value in labels:
        return f"{label} {props.get('code')}"
    if Label.TRAVEL_DOCUMENT.value in labels:
        return f"{label} {props.get('issuingCountry')}/{props.get('number')}"
    return f"{label} {props.get('id')}"


def _dump_lines(session: Session) -> Iterator[str]:
    excluded = " OR ".join(f"n:{x}" for x in _DUMP_EXCLUDED)
    for record in session.run(
        f"MATCH (n) WHERE NOT ({excluded}) RETURN labels(n) AS labels, properties(n) AS props"
    ):
        labels = sorted(record["labels"])
        yield f"(:{':'.join(labels)} {_props(record['props'])})"
    excluded_a = excluded.replace("n:", "a:")
    excluded_b = excluded.replace("n:", "b:")
    for record in session.run(
        f"MATCH (a)-[r]->(b) WHERE NOT ({excluded_a}) AND NOT ({excluded_b}) "
        "RETURN labels(a) AS la, a{.id, .code, .issuingCountry, .number} AS ka, type(r) AS t, "
        "properties(r) AS props, labels(b) AS lb, b{.id, .code, .issuingCountry, .number} AS kb"
    ):
        yield (
            f"({_key(record['la'], record['ka'])})-[:{record['t']} {_props(record['props'])}]->"
            f"({_key(record['lb'], record['kb'])})"
        )


def dump(driver: Driver, database: str | None = None) -> list[str]:
    """Every node and relationship (but the audit and bookkeeping ones), sorted, as text."""
    with driver.session(database=database) as session:
        return sorted(_dump_lines(session))
