"""Fast tests of the seed's pure parts: generator, countries, names and demo (no database)."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import timedelta
from functools import cache
from typing import Any, cast

import pytest

from graph_schema.model import (
    DEFAULT_SCOPES,
    NOTICE_LIFETIME_DAYS,
    REFUGEE_BLOCK_REASON,
    REVIEW_WINDOW_DAYS,
    AgencyKind,
    AgencySubtype,
    ApplicationStatus,
    AssociateKind,
    NoticeStatus,
    NoticeType,
)
from seed import demo
from seed.countries import COUNTRIES, Region
from seed.generator import (
    AS_OF,
    AS_OF_INSTANT,
    UNSC_ID,
    Kind,
    Row,
    generate,
    ncb_id,
    reference_rows,
)
from seed.loader import _canon, _encode, _expected, load
from seed.names import CYRILLIC, WESTERN, Script, make_name


def _rows(persons: int, seed: int, chunk_size: int = 5_000) -> dict[Kind, list[Row]]:
    merged: dict[Kind, list[Row]] = {k: [] for k in Kind}
    for chunk in generate(persons, seed, chunk_size=chunk_size):
        for kind, rows in chunk.rows.items():
            merged[kind].extend(rows)
    return merged


@cache
def _sample() -> dict[Kind, list[Row]]:
    """One mid-sized graph shared by the statistical tests (about 600 applications)."""
    return _rows(20_000, 1)


# -- determinism and streaming ----------------------------------------------------------


def test_same_persons_and_seed_give_identical_batches() -> None:
    first = [(c.first, c.persons, c.rows) for c in generate(1_500, 7, chunk_size=500)]
    again = [(c.first, c.persons, c.rows) for c in generate(1_500, 7, chunk_size=500)]
    assert first == again


def test_chunk_size_only_regroups_the_same_rows() -> None:
    assert _rows(1_200, 3, chunk_size=100) == _rows(1_200, 3, chunk_size=5_000)


def test_a_different_seed_gives_a_different_graph() -> None:
    a, b = _rows(300, 1)[Kind.PERSON], _rows(300, 2)[Kind.PERSON]
    assert [r["props"]["familyName"] for r in a] != [r["props"]["familyName"] for r in b]


def test_a_larger_seed_extends_a_smaller_one() -> None:
    small, large = _rows(400, 5), _rows(800, 5)
    assert large[Kind.PERSON][:400] == small[Kind.PERSON]


def test_generation_is_lazy_so_a_million_persons_stream() -> None:
    chunk = next(generate(1_000_000, 1, chunk_size=1_000))
    assert (chunk.first, chunk.persons, len(chunk.rows[Kind.PERSON])) == (1, 1_000, 1_000)


def test_negative_persons_are_refused_before_touching_the_database() -> None:
    with pytest.raises(ValueError):
        next(generate(-1, 1))
    with pytest.raises(ValueError):
        load(cast(Any, None), -1, 1)


def test_zero_persons_generate_nothing() -> None:
    assert list(generate(0, 1)) == []


# -- reference data -----------------------------------------------------------------------


def test_every_country_code_is_unique_and_two_upper_letters() -> None:
    codes = [c.code for c in COUNTRIES]
    assert len(codes) == len(set(codes)) == 195
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in codes)
    assert {c.region for c in COUNTRIES} == set(Region)


def test_every_country_has_an_ncb_and_four_national_entities_authorised_by_it() -> None:
    rows = reference_rows()
    agencies = {r["props"]["id"]: r for r in rows[Kind.AGENCY]}
    assert len(agencies) == 5 * len(COUNTRIES) + 5
    for c in COUNTRIES:
        assert agencies[ncb_id(c.code)]["props"]["kind"] == AgencyKind.NCB
    grants = {(g["from"], g["to"]): g["scopes"] for g in rows[Kind.AUTHORIZATION]}
    for subtype in AgencySubtype:
        aid = f"{subtype.value.lower()}-fr"
        assert agencies[aid]["country"] == "FR"
        assert grants[(aid, "ncb-fr")] == [s.value for s in DEFAULT_SCOPES[subtype]]
    for aid in ("gs", "ccf", "intl-europol", "intl-icc", UNSC_ID):
        assert agencies[aid]["country"] is None


# -- generated records --------------------------------------------------------------------


def test_every_notice_type_and_status_occurs_for_2000_persons() -> None:
    notices = _rows(2_000, 1)[Kind.NOTICE]
    assert {n["props"]["type"] for n in notices} == set(NoticeType)
    assert {n["props"]["status"] for n in notices} == set(NoticeStatus)


def test_every_application_status_occurs() -> None:
    statuses = {a["props"]["status"] for a in _sample()[Kind.APPLICATION]}
    assert statuses == set(ApplicationStatus)


def test_applicants_never_fear_persecution_in_the_receiving_country() -> None:
    apps = _sample()[Kind.APPLICATION]
    assert len(apps) > 300
    assert all(a["props"]["receivingCountry"] != a["props"]["fearedCountry"] for a in apps)


def _items_by_person(rows: dict[Kind, list[Row]]) -> dict[str, list[Row]]:
    by_person: dict[str, list[Row]] = {}
    for row in (*rows[Kind.NOTICE], *rows[Kind.DIFFUSION]):
        by_person.setdefault(row["person"], []).append(row)
    return by_person


def test_granted_applications_block_and_pending_ones_flag_items_from_the_feared_country() -> None:
    rows = _sample()
    items = _items_by_person(rows)
    checked = Counter[str]()
    for app in rows[Kind.APPLICATION]:
        a = app["props"]
        for item in items.get(app["person"], []):
            p = item["props"]
            from_feared = p.get("sourceCountry") == a["fearedCountry"]
            granted = from_feared and a["status"] == ApplicationStatus.GRANTED
            assert p["blocked"] is granted
            assert (p.get("blockReason") == REFUGEE_BLOCK_REASON) is granted
            assert p["reviewFlag"] is (from_feared and a["status"] == ApplicationStatus.PENDING)
            checked[a["status"]] += from_feared
    assert checked[ApplicationStatus.GRANTED] > 0 and checked[ApplicationStatus.PENDING] > 0


def test_only_refugee_protection_blocks_or_flags_anything() -> None:
    rows = _sample()
    applicants = {a["person"] for a in rows[Kind.APPLICATION]}
    for row in (*rows[Kind.NOTICE], *rows[Kind.DIFFUSION]):
        if row["props"]["blocked"] or row["props"]["reviewFlag"]:
            assert row["person"] in applicants


def test_about_forty_percent_of_applicants_are_wanted_by_their_feared_country() -> None:
    rows = _sample()
    items = _items_by_person(rows)
    apps = rows[Kind.APPLICATION]
    wanted = sum(
        any(
            i["props"].get("sourceCountry") == a["props"]["fearedCountry"]
            and ("purpose" in i["props"] or i["props"]["type"] == NoticeType.RED)
            for i in items.get(a["person"], [])
        )
        for a in apps
    )
    assert 0.30 < wanted / len(apps) < 0.55


def test_screening_refs_name_the_applicants_own_items_and_decide_hit() -> None:
    rows = _sample()
    items = _items_by_person(rows)
    for app in rows[Kind.APPLICATION]:
        a = app["props"]
        own = {i["props"]["id"] for i in items.get(app["person"], [])}
        assert set(a["screeningRefs"]) <= own
        assert a["screeningResult"] == ("HIT" if a["screeningRefs"] else "NO_HIT")


def test_decided_applications_and_only_those_have_a_status_notification() -> None:
    rows = _sample()
    reported = {n["application"]: n["props"] for n in rows[Kind.NOTIFICATION]}
    for app in rows[Kind.APPLICATION]:
        a = app["props"]
        if a["status"] == ApplicationStatus.PENDING:
            assert a["id"] not in reported and "decidedAt" not in a
        else:
            n = reported[a["id"]]
            assert a["decidedAt"] >= a["lodgedAt"] and a["decidedAt"] < AS_OF
            assert (n["outcome"], n["decidedAt"], n["fearedCountry"]) == (
                a["status"], a["decidedAt"], a["fearedCountry"]
            )
        if a["deniedOnCriminalGrounds"]:
            assert a["status"] == ApplicationStatus.DENIED


def test_notice_dates_are_consistent_with_status() -> None:
    lifetime, window = timedelta(days=NOTICE_LIFETIME_DAYS), timedelta(days=REVIEW_WINDOW_DAYS)
    published_live = published_total = 0
    for row in _sample()[Kind.NOTICE]:
        p = row["props"]
        assert p["requestedAt"] < AS_OF_INSTANT
        if p["status"] in (NoticeStatus.REQUESTED, NoticeStatus.REFUSED):
            assert "publishedAt" not in p and "expiresAt" not in p
            continue
        assert p["requestedAt"] < p["publishedAt"]
        assert p["expiresAt"] == p["publishedAt"] + lifetime
        assert p["reviewDueAt"] == p["expiresAt"] - window
        if p["status"] == NoticeStatus.EXPIRED:
            assert p["expiresAt"] < AS_OF_INSTANT
        if p["status"] == NoticeStatus.PUBLISHED:
            published_total += 1
            published_live += p["expiresAt"] > AS_OF_INSTANT
    assert published_live / published_total > 0.9


def test_notice_sources_and_restrictions_are_consistent() -> None:
    for row in _sample()[Kind.NOTICE]:
        p = row["props"]
        if p["type"] == NoticeType.UN_SPECIAL:
            assert row["requestedBy"] == UNSC_ID and "sourceCountry" not in p
        else:
            assert row["requestedBy"].endswith("-" + p["sourceCountry"].lower())
        assert not (p["allowCountries"] and p["denyCountries"])
        assert p.get("sourceCountry") not in p["allowCountries"] + p["denyCountries"]
        if p["publicExtract"]:
            assert p["type"] == NoticeType.UN_SPECIAL or (
                p["status"] == NoticeStatus.PUBLISHED
                and p["type"] in (NoticeType.RED, NoticeType.YELLOW)
            )


def test_diffusions_are_never_sent_to_their_source() -> None:
    for row in _sample()[Kind.DIFFUSION]:
        p = row["props"]
        assert row["sentBy"] == ncb_id(p["sourceCountry"])
        assert p["sourceCountry"] not in row["sentTo"]
        assert p["toAllMembers"] == (not row["sentTo"])
        assert 0 <= len(row["sentTo"]) <= 5


def test_ids_and_document_keys_are_unique_and_well_formed() -> None:
    rows = _sample()
    patterns = {
        Kind.PERSON: r"P-\d{7}",
        Kind.NOTICE: r"N-\d{7}",
        Kind.DIFFUSION: r"D-\d{7}",
        Kind.APPLICATION: r"A-\d{7}",
        Kind.NOTIFICATION: r"SN-\d{7}",
    }
    for kind, pattern in patterns.items():
        ids = [r["props"]["id"] for r in rows[kind]]
        assert len(ids) == len(set(ids))
        assert all(re.fullmatch(pattern, i) for i in ids)
    keys = [(d["props"]["issuingCountry"], d["props"]["number"]) for d in rows[Kind.DOCUMENT]]
    assert len(keys) == len(set(keys))
    assert 1.1 < len(keys) / len(rows[Kind.PERSON]) < 1.3


def test_associate_links_point_at_earlier_persons_without_duplicate_pairs() -> None:
    rows = _sample()
    pairs = [frozenset((r["from"], r["to"])) for r in rows[Kind.ASSOCIATE]]
    assert all(len(p) == 2 for p in pairs)
    assert len(pairs) == len(set(pairs))
    assert 0.4 < len(pairs) / len(rows[Kind.PERSON]) < 0.6
    assert {r["kind"] for r in rows[Kind.ASSOCIATE]} == set(AssociateKind)


def test_persons_have_plausible_names_birth_dates_and_biometrics() -> None:
    persons = [r["props"] for r in _sample()[Kind.PERSON]]
    scripts = Counter(p["script"] for p in persons)
    assert set(scripts) == set(Script)
    for p in persons:
        assert 1940 <= p["dateOfBirth"].year <= 2006
        assert ("nameOriginalScript" in p) is (p["script"] != Script.LATIN)
        assert p["givenNames"] + " " + p["familyName"] not in p["nameVariants"]
        assert len(p["aliases"]) <= 2
    fingerprints = sum("fingerprintRef" in p for p in persons) / len(persons)
    dna = sum("dnaRef" in p for p in persons) / len(persons)
    assert 0.35 < fingerprints < 0.45 and 0.07 < dna < 0.13


def test_cyrillic_names_carry_their_transliteration_variants() -> None:
    rng = random.Random(4)
    names = [make_name(rng, CYRILLIC, female=False) for _ in range(50)]
    assert all(n.original_script and re.search("[\u0400-\u04ff]", n.original_script) for n in names)
    assert any(n.variants for n in names)
    latin = make_name(rng, WESTERN, female=True)
    assert latin.original_script is None and latin.script is Script.LATIN


# -- demo records ---------------------------------------------------------------------------


def test_demo_records_tell_the_refugee_story() -> None:
    rows = demo.demo_rows()
    notices = {n["props"]["id"]: n["props"] for n in rows[Kind.NOTICE]}
    diffusions = {d["props"]["id"]: d["props"] for d in rows[Kind.DIFFUSION]}
    apps = {a["props"]["id"]: a["props"] for a in rows[Kind.APPLICATION]}
    granted = apps[demo.DEMO_APPLICATION_GRANTED]
    assert (granted["receivingCountry"], granted["fearedCountry"]) == ("NL", "KZ")
    assert granted["screeningRefs"] == [demo.DEMO_NOTICE_BLOCKED, demo.DEMO_DIFFUSION_BLOCKED]
    for item in (notices[demo.DEMO_NOTICE_BLOCKED], diffusions[demo.DEMO_DIFFUSION_BLOCKED]):
        assert item["blocked"] and item["blockReason"] == REFUGEE_BLOCK_REASON
    assert notices[demo.DEMO_NOTICE_FLAGGED]["reviewFlag"]
    assert not notices[demo.DEMO_NOTICE_FLAGGED]["blocked"]
    assert notices[demo.DEMO_NOTICE_BLOCKED]["denyCountries"] == ["CA"]
    assert notices[demo.DEMO_NOTICE_ALLOW_LIST]["allowCountries"] == ["DE", "NL"]
    assert "publishedAt" not in notices[demo.DEMO_NOTICE_REQUESTED]
    assert "sourceCountry" not in notices[demo.DEMO_NOTICE_UN]
    assert [n["application"] for n in rows[Kind.NOTIFICATION]] == [granted["id"]]
    assert {p["props"]["id"] for p in rows[Kind.PERSON]} == set(demo.DEMO_PERSON_IDS)


def test_demo_ids_never_collide_with_generated_ids() -> None:
    generated = r"(P|N|D|A|SN)-\d{7}"
    for kind, rows in demo.demo_rows().items():
        for row in rows:
            if "id" in row.get("props", {}):
                assert "DEMO" in row["props"]["id"], kind
                assert not re.fullmatch(generated, row["props"]["id"])


# -- loader helpers (pure) ------------------------------------------------------------------


def test_temporal_values_are_sent_as_iso_strings_and_nothing_else_changes() -> None:
    notice = demo.demo_rows()[Kind.NOTICE][0]
    (encoded,) = _encode(Kind.NOTICE, [notice])
    assert encoded["t"]["publishedAt"] == "2025-06-01T09:00:00+00:00"
    assert "publishedAt" not in encoded["props"] and "publishedAt" in notice["props"]
    assert _expected(Kind.DIFFUSION, demo.demo_rows()[Kind.DIFFUSION]) == (2, 2 + 2 + 2)


def test_canonical_values_are_stable_text() -> None:
    assert _canon(["a", 1, True, None, 1.5]) == '["a", 1, true, null, 1.5]'
