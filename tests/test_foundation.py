"""The foundation against the real Neo4j: migrations, seed determinism and integrity."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from neo4j import Driver

from graph_schema import migrations
from graph_schema.model import ApplicationStatus, NoticeStatus, NoticeType
from seed.loader import SeedRefused, dump, load
from tests.conftest import TEST_PERSONS, TEST_SEED, seed_standard


def count(driver: Driver, cypher: str) -> int:
    records, _, _ = driver.execute_query(cypher)
    return int(records[0][0])


def test_migrations_are_recorded_and_a_rerun_applies_nothing(driver: Driver) -> None:
    assert migrations.current_version(driver) == migrations.LATEST_VERSION
    assert migrations.apply(driver) == []
    versions = driver.execute_query("MATCH (m:SchemaMigration) RETURN m.version AS v ORDER BY v").records
    assert [r["v"] for r in versions] == [m.version for m in migrations.MIGRATIONS]


def test_a_new_migration_applies_once(driver: Driver) -> None:
    extra = migrations.Migration(
        999, "test index", ("CREATE INDEX test_only IF NOT EXISTS FOR (n:TestOnly) ON (n.x)",)
    )
    try:
        assert migrations.apply(driver, migrations=(*migrations.MIGRATIONS, extra)) == [extra]
        assert migrations.apply(driver, migrations=(*migrations.MIGRATIONS, extra)) == []
        assert count(driver, "SHOW INDEXES YIELD name WHERE name = 'test_only' RETURN count(*)") == 1
    finally:
        driver.execute_query("DROP INDEX test_only IF EXISTS")
        driver.execute_query("MATCH (m:SchemaMigration {version: 999}) DELETE m")


def test_schema_has_the_full_text_index_for_screening(driver: Driver) -> None:
    assert count(driver, "SHOW FULLTEXT INDEXES YIELD name WHERE name = 'person_names' RETURN count(*)") == 1


@pytest.fixture
def scratch_seed(seeded: Driver) -> Iterator[Driver]:
    """Tests that reseed put the standard test graph back afterwards."""
    try:
        yield seeded
    finally:
        seed_standard(seeded, reset=True)


@pytest.mark.slow
def test_same_persons_and_seed_give_the_same_graph_and_another_seed_differs(scratch_seed: Driver) -> None:
    load(scratch_seed, TEST_PERSONS, TEST_SEED, reset=True, progress=False)
    first = dump(scratch_seed)
    load(scratch_seed, TEST_PERSONS, TEST_SEED, reset=True, progress=False)
    assert dump(scratch_seed) == first
    load(scratch_seed, TEST_PERSONS, TEST_SEED + 1, reset=True, progress=False)
    assert dump(scratch_seed) != first


def test_seeding_the_same_graph_again_is_a_no_op(seeded: Driver) -> None:
    before = count(seeded, "MATCH (n) RETURN count(n)")
    load(seeded, TEST_PERSONS, TEST_SEED, progress=False)
    assert count(seeded, "MATCH (n) RETURN count(n)") == before


def test_another_seed_over_a_seeded_graph_is_refused_and_writes_nothing(seeded: Driver) -> None:
    before = count(seeded, "MATCH (n) RETURN count(n)")
    with pytest.raises(SeedRefused, match="--reset"):
        load(seeded, TEST_PERSONS + 1, TEST_SEED, progress=False)
    assert count(seeded, "MATCH (n) RETURN count(n)") == before


@pytest.mark.slow
def test_an_interrupted_seed_is_refused_clearly_and_reset_repairs_it(scratch_seed: Driver) -> None:
    scratch_seed.execute_query("MATCH (r:SeedRun) SET r.status = 'IN_PROGRESS'")
    with pytest.raises(SeedRefused, match="interrupted"):
        load(scratch_seed, TEST_PERSONS, TEST_SEED, progress=False)
    load(scratch_seed, TEST_PERSONS, TEST_SEED, reset=True, progress=False)
    assert count(scratch_seed, "MATCH (r:SeedRun {status: 'COMPLETE'}) RETURN count(r)") == 1


@pytest.mark.parametrize(
    ("what", "cypher"),
    [
        ("notice without subject", "MATCH (n:Notice) WHERE NOT (n)-[:CONCERNS]->(:Person) RETURN count(n)"),
        ("notice without source", "MATCH (n:Notice) WHERE NOT (n)-[:REQUESTED_BY]->(:Agency) RETURN count(n)"),
        ("diffusion without subject", "MATCH (d:Diffusion) WHERE NOT (d)-[:CONCERNS]->(:Person) RETURN count(d)"),
        ("diffusion without sender", "MATCH (d:Diffusion) WHERE NOT (d)-[:SENT_BY]->(:Agency) RETURN count(d)"),
        (
            "national entity not authorised by its own NCB",
            "MATCH (a:Agency {kind: 'NATIONAL_ENTITY'})-[:OF_COUNTRY]->(c:Country) "
            "WHERE NOT (a)-[:AUTHORIZED_BY]->(:Agency {kind: 'NCB'})-[:OF_COUNTRY]->(c) RETURN count(a)",
        ),
        (
            "application received in the country it fears",
            "MATCH (a:AsylumApplication)-[:LODGED_IN]->(c)<-[:FEARS_PERSECUTION_IN]-(a) RETURN count(a)",
        ),
        (
            "source country that is not the requesting agency's",
            "MATCH (n:Notice)-[:REQUESTED_BY]->(:Agency)-[:OF_COUNTRY]->(c) "
            "WHERE n.sourceCountry <> c.code RETURN count(n)",
        ),
        (
            "granted refugee's notice from the feared country not blocked (R8)",
            "MATCH (p:Person)-[:APPLIED_FOR]->(a:AsylumApplication {status: 'GRANTED'}), "
            "(n:Notice)-[:CONCERNS]->(p) WHERE n.sourceCountry = a.fearedCountry AND NOT n.blocked "
            "RETURN count(n)",
        ),
    ],
)
def test_seed_integrity(seeded: Driver, what: str, cypher: str) -> None:
    assert count(seeded, cypher) == 0, what


def test_seed_has_every_notice_type_and_status_and_application_status(seeded: Driver) -> None:
    types = {r["t"] for r in seeded.execute_query("MATCH (n:Notice) RETURN DISTINCT n.type AS t").records}
    statuses = {r["s"] for r in seeded.execute_query("MATCH (n:Notice) RETURN DISTINCT n.status AS s").records}
    app = {r["s"] for r in seeded.execute_query("MATCH (a:AsylumApplication) RETURN DISTINCT a.status AS s").records}
    assert types == {t.value for t in NoticeType}
    assert statuses == {s.value for s in NoticeStatus}
    assert app == {s.value for s in ApplicationStatus}


def test_seed_has_refugees_wanted_by_the_country_they_fear(seeded: Driver) -> None:
    assert count(
        seeded,
        "MATCH (p:Person)-[:APPLIED_FOR]->(a:AsylumApplication), (n:Notice {type: 'RED'})-[:CONCERNS]->(p) "
        "WHERE n.sourceCountry = a.fearedCountry RETURN count(DISTINCT p)",
    ) >= 2
