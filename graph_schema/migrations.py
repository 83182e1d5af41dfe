"""Versioned, idempotent schema migrations.

Each migration is a list of schema statements that are safe to run twice (``IF NOT
EXISTS``). ``apply`` runs the pending ones in order and records each in a
``(:SchemaMigration {version})`` node, so a re-run is a no-op and a new migration applies
once. The service refuses readiness until the graph is at ``LATEST_VERSION``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from neo4j import Driver

from gateway.cypher.names import name_keys

BACKFILL_BATCH = 5_000


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    # Data a new index needs, computed in Python; idempotent, run after the statements.
    backfill: Callable[[Driver, str | None], None] | None = None


def _backfill_name_keys(driver: Driver, database: str | None) -> None:
    """Compute ``Person.nameKeys`` for persons written before migration 6, in batches."""
    after = ""
    while True:
        records, _, _ = driver.execute_query(
            "MATCH (p:Person) WHERE p.id > $after RETURN p.id AS id, properties(p) AS p ORDER BY p.id LIMIT $n",
            after=after, n=BACKFILL_BATCH, database_=database,
        )  # fmt: skip
        if not records:
            return
        rows = [{"id": r["id"], "keys": name_keys(r["p"])} for r in records]
        driver.execute_query(
            "UNWIND $rows AS row MATCH (p:Person {id: row.id}) SET p.nameKeys = row.keys",
            rows=rows, database_=database,
        )  # fmt: skip
        after = records[-1]["id"]


def _unique(label: str, *props: str) -> str:
    name = f"{label.lower()}_{'_'.join(props).lower()}_unique"
    keys = ", ".join(f"n.{p}" for p in props)
    keys = keys if len(props) == 1 else f"({keys})"
    return f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE {keys} IS UNIQUE"


def _index(label: str, *props: str) -> str:
    name = f"{label.lower()}_{'_'.join(props).lower()}"
    keys = ", ".join(f"n.{p}" for p in props)
    return f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{label}) ON ({keys})"


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "uniqueness constraints on every key",
        (
            _unique("Country", "code"),
            _unique("Agency", "id"),
            _unique("Person", "id"),
            _unique("TravelDocument", "issuingCountry", "number"),
            _unique("Notice", "id"),
            _unique("Diffusion", "id"),
            _unique("AsylumApplication", "id"),
            _unique("StatusNotification", "id"),
            _unique("AccessEvent", "seq"),
            _unique("AccessEvent", "id"),
            _unique("SchemaMigration", "version"),
        ),
    ),
    Migration(
        2,
        "indexes for the API's filters and sorts",
        (
            _index("Agency", "kind"),
            _index("Person", "familyName"),
            _index("Person", "dateOfBirth"),
            _index("TravelDocument", "number"),
            _index("Notice", "status"),
            _index("Notice", "type"),
            _index("Notice", "sourceCountry"),
            _index("Notice", "requestedAt"),
            _index("Diffusion", "sourceCountry"),
            _index("Diffusion", "sentAt"),
            _index("AsylumApplication", "status"),
            _index("AsylumApplication", "receivingCountry"),
            _index("AsylumApplication", "fearedCountry"),
            _index("AccessEvent", "at"),
        ),
    ),
    Migration(
        3,
        "full-text index over person names for screening (R11)",
        (
            "CREATE FULLTEXT INDEX person_names IF NOT EXISTS FOR (n:Person) "
            "ON EACH [n.familyName, n.givenNames, n.aliases, n.nameOriginalScript, "
            "n.nameVariants] OPTIONS {indexConfig: {`fulltext.analyzer`: 'standard-folding', "
            "`fulltext.eventually_consistent`: false}}",
        ),
    ),
    Migration(
        4,
        "the audit chain's head (R15)",
        (_unique("AuditHead", "id"),),
    ),
    Migration(
        5,
        "idempotency keys of mutations",
        (_unique("IdempotencyRecord", "key"),),
    ),
    Migration(
        6,
        "exhaustive screening look-up: name and birth keys per person (R10, R11)",
        (
            # The whitespace analyser keeps each key one exact term: a look-up returns every
            # person holding it, which the fuzzy person_names index cannot promise.
            "CREATE FULLTEXT INDEX person_name_keys IF NOT EXISTS FOR (n:Person) ON EACH [n.nameKeys] "
            "OPTIONS {indexConfig: {`fulltext.analyzer`: 'whitespace', `fulltext.eventually_consistent`: false}}",
        ),
        backfill=_backfill_name_keys,
    ),
    Migration(
        7,
        "live alerts: the change marker of notices and diffusions; watches and saved screenings",
        (
            # Each workflow that changes what a caller is shown sets changedAt; the alert
            # poller asks for the items changed since its last look.
            _index("Notice", "changedAt"),
            _index("Diffusion", "changedAt"),
            _unique("Watch", "agency", "personId"),
            _unique("SavedScreening", "id"),
            _index("SavedScreening", "agency"),
        ),
    ),
    Migration(
        8,
        "identity links (multiple-identity detection): one link per pair of persons",
        (
            _unique("IdentityLink", "id"),
            _unique("IdentityLink", "key"),
            _index("IdentityLink", "status"),
        ),
    ),
    Migration(
        9,
        "one audit chain per writer process (R15): sequence numbers are unique within a chain",
        (
            "DROP CONSTRAINT accessevent_seq_unique IF EXISTS",
            _unique("AccessEvent", "chain", "seq"),
            _index("AccessEvent", "seq"),  # the walk of the events written before chains had ids
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


def current_version(driver: Driver, database: str | None = None) -> int:
    records, _, _ = driver.execute_query(
        "MATCH (m:SchemaMigration) RETURN coalesce(max(m.version), 0) AS v", database_=database
    )
    return int(records[0]["v"])


def apply(
    driver: Driver,
    database: str | None = None,
    report: Callable[[Migration], None] = lambda m: None,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> list[Migration]:
    """Apply the pending migrations in order; return those applied."""
    done = current_version(driver, database)
    applied = []
    for migration in migrations:
        if migration.version <= done:
            continue
        for statement in migration.statements:
            driver.execute_query(statement, database_=database)
        if migration.backfill is not None:
            migration.backfill(driver, database)
        driver.execute_query(
            "MERGE (m:SchemaMigration {version: $version}) "
            "ON CREATE SET m.name = $name, m.appliedAt = datetime()",
            version=migration.version,
            name=migration.name,
            database_=database,
        )
        report(migration)
        applied.append(migration)
    return applied
