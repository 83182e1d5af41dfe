"""The access rules of domain.md (R1-R18), end to end: real tokens over real HTTP to a real
gateway process over a real Neo4j seeded with the generated persons and the demo records
(seed/demo.py).

Each rule gets tables of (caller, expected) covering the kinds of caller: the NCB of the
source, the NCB of a third country, a denied country, national entities (police, border,
asylum, judicial), the feared-persecution country, the GS, the CCF, international entities
and the public. Every table holds callers that must see and callers that must not.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from neo4j import Driver

from tests.conftest import JWT_SECRET, Client, token

GENERIC_REASON = "not compliant with the rules"
CONTACT_NCB = "contact your NCB"
ME = "{ me { user public countryCode scopes agency { id } } }"
PURPOSES = [
    "INVESTIGATION", "ASYLUM_SCREENING", "BORDER_CHECK", "IDENTIFICATION",
    "DATA_PROTECTION_REVIEW", "ADMINISTRATION",
]  # fmt: skip

NOTICE = "query($id: ID!) { notice(id: $id) { %s } }"
DIFFUSION = "query($id: ID!) { diffusion(id: $id) { %s } }"
PERSON = "query($id: ID!) { person(id: $id) { %s } }"
APPLICATIONS = "query($id: ID!) { asylumApplication(id: $id) { id status receivingCountryCode } }"
LINKS = "query($p: ID!, $d: Int!) { links(personId: $p, depth: $d) { nodes { id } edges { source target kind } } }"
PATH = "query($a: ID!, $b: ID!) { path(fromPersonId: $a, toPersonId: $b) { length nodes { id } edges { source target } } }"
SCREEN = """query($i: ScreeningInput!) { screen(input: $i) { outcome hit matches {
  reference kind noticeType sourceCountryCode instruction person { id } notice { id } diffusion { id } } } }"""
AUDIT = """query($f: AccessEventFilter) { auditEvents(filter: $f, first: 5) { totalCount edges { node {
  userId agencyId operation purpose ids hit outcome } } } }"""


# --- helpers ------------------------------------------------------------------------------


def notice(client: Client, nid: str, agency: str | None, fields: str = "id status") -> Any:
    return client.data(NOTICE % fields, {"id": nid}, agency=agency)["notice"]


def diffusion(client: Client, did: str, agency: str | None, fields: str = "id status") -> Any:
    return client.data(DIFFUSION % fields, {"id": did}, agency=agency)["diffusion"]


def person(client: Client, pid: str, agency: str | None, fields: str = "id") -> Any:
    return client.data(PERSON % fields, {"id": pid}, agency=agency)["person"]


def screen(client: Client, agency: str | None, **data: Any) -> Any:
    return client.data(SCREEN, {"i": data}, agency=agency)["screen"]


def as_user(client: Client, agency: str, user: str, query: str, variables: dict[str, Any] | None = None,
            purpose: str = "INVESTIGATION") -> Any:  # fmt: skip
    """A request by a named user, so that its audit event can be found by userId."""
    response = client.post(
        query, variables, agency=None, purpose=purpose,
        headers={"Authorization": f"Bearer {token(agency, user=user)}"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


def audit_events(client: Client, **flt: str) -> list[dict[str, Any]]:
    data = client.data(AUDIT, {"f": flt}, agency="gs", purpose="DATA_PROTECTION_REVIEW")
    return [e["node"] for e in data["auditEvents"]["edges"]]


def all_nodes(client: Client, field: str, selection: str, agency: str | None,
              flt: dict[str, Any] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Every node of a connection, page by page."""
    query = (
        f"query($f: {field[0].upper()}{field[1:-1]}Filter, $after: String) {{ {field}(filter: $f, first: 50, after: $after) "
        f"{{ pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {selection} }} }} }} }}"
    )
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = client.data(query, {"f": flt, "after": after}, agency=agency)[field]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def wait_for_status(client: Client, agency: str, status: int, timeout: float = 5.0) -> int:
    """Poll until the agency's requests answer with ``status`` (the caller cache is 0.5 s)."""
    deadline = time.monotonic() + timeout
    while True:
        code = client.post(ME, agency=agency).status_code
        if code == status or time.monotonic() > deadline:
            return code
        time.sleep(0.1)


def unauthenticated(response: Any) -> bool:
    body = response.json()
    return (
        response.status_code == 401
        and body["data"] is None
        and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    )


# --- R1 Authentication --------------------------------------------------------------------


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"sub": "tester", "agency": "ncb-fr", "iss": "gateway-dev", "aud": "gateway",
              "iat": now, "nbf": now, "exp": now + 600, **overrides}  # fmt: skip
    return {k: v for k, v in claims.items() if v is not None}


def _tampered() -> str:
    """A valid ncb-fr token whose payload was rewritten to claim the GS."""
    header, _payload, signature = token("ncb-fr").split(".")
    forged = base64.urlsafe_b64encode(json.dumps(_claims(agency="gs")).encode()).decode().rstrip("=")
    return f"Bearer {header}.{forged}.{signature}"


BAD_AUTHORIZATION: dict[str, Callable[[], str]] = {
    "bearer without token": lambda: "Bearer",
    "basic scheme": lambda: "Basic dGVzdGVyOnNlY3JldA==",
    "not a jwt": lambda: "Bearer not-a-token",
    "expired": lambda: f"Bearer {token('ncb-fr', exp=int(time.time()) - 120)}",
    "not yet valid": lambda: f"Bearer {token('ncb-fr', nbf=int(time.time()) + 600)}",
    "wrong audience": lambda: f"Bearer {token('ncb-fr', aud='another-service')}",
    "wrong issuer": lambda: f"Bearer {token('ncb-fr', iss='someone-else')}",
    "wrong key": lambda: f"Bearer {jwt.encode(_claims(), 'another-secret-' + 'y' * 40, algorithm='HS256')}",
    "alg none": lambda: f"Bearer {jwt.encode(_claims(), None, algorithm='none')}",
    "tampered payload": _tampered,
    "no expiry": lambda: f"Bearer {token('ncb-fr', exp=None)}",
    "no agency claim": lambda: f"Bearer {jwt.encode(_claims(agency=None), JWT_SECRET, algorithm='HS256')}",
    "unknown agency": lambda: f"Bearer {token('ncb-zz')}",
    "unknown agency id": lambda: f"Bearer {token('nobody')}",
}


@pytest.mark.parametrize("authorization", BAD_AUTHORIZATION.values(), ids=BAD_AUTHORIZATION.keys())
def test_invalid_tokens_are_refused_with_401_and_no_data(client: Client, authorization: Callable[[], str]) -> None:
    response = client.post('{ person(id: "P-DEMO-003") { id } }', headers={"Authorization": authorization()})
    assert unauthenticated(response), response.text


@pytest.mark.parametrize(
    ("agency", "country", "scopes"),
    [
        ("ncb-fr", "FR", ["asylum", "read", "screen"]),
        ("police-nl", "NL", ["read", "screen"]),
        ("border-nl", "NL", ["screen"]),
        ("asylum-nl", "NL", ["asylum", "screen"]),
        ("judicial-fr", "FR", ["read"]),
        ("gs", None, []),
        ("intl-europol", None, []),
    ],
)
def test_valid_token_is_resolved_against_the_graph(
    client: Client, agency: str, country: str | None, scopes: list[str]
) -> None:
    me = client.data(ME, agency=agency)["me"]
    assert (me["agency"]["id"], me["public"], me["countryCode"], me["scopes"]) == (agency, False, country, scopes)


def test_a_request_without_authorization_is_the_public_not_an_error(client: Client) -> None:
    response = client.post(ME)
    assert response.status_code == 200
    assert response.json()["data"]["me"] == {
        "user": None, "public": True, "countryCode": None, "scopes": [], "agency": None
    }  # fmt: skip


def test_deactivated_agency_is_cut_off_within_seconds(client: Client, seeded: Driver) -> None:
    assert person(client, "P-DEMO-003", "judicial-fr") == {"id": "P-DEMO-003"}  # also primes the cache
    try:
        seeded.execute_query("MATCH (a:Agency {id:'judicial-fr'}) SET a.active=false")
        assert wait_for_status(client, "judicial-fr", 401) == 401
        assert unauthenticated(client.post('{ person(id: "P-DEMO-003") { id } }', agency="judicial-fr"))
    finally:
        seeded.execute_query("MATCH (a:Agency {id:'judicial-fr'}) SET a.active=true")
        assert wait_for_status(client, "judicial-fr", 200) == 200


def test_deactivated_ncb_cuts_off_its_national_entities(client: Client, seeded: Driver) -> None:
    assert client.post(ME, agency="police-nl").status_code == 200
    try:
        seeded.execute_query("MATCH (a:Agency {id:'ncb-nl'}) SET a.active=false")
        assert wait_for_status(client, "police-nl", 401) == 401
        assert wait_for_status(client, "ncb-nl", 401) == 401
        assert client.post(ME, agency="police-de").status_code == 200  # another country is untouched
    finally:
        seeded.execute_query("MATCH (a:Agency {id:'ncb-nl'}) SET a.active=true")
        assert wait_for_status(client, "police-nl", 200) == 200
        assert wait_for_status(client, "ncb-nl", 200) == 200


@pytest.mark.parametrize("replacement", [None, "ncb-de"], ids=["withdrawn", "granted by a foreign NCB"])
def test_national_entity_without_its_own_ncb_authorisation_is_cut_off(
    client: Client, seeded: Driver, replacement: str | None
) -> None:
    records, _, _ = seeded.execute_query(
        "MATCH (:Agency {id:'border-nl'})-[r:AUTHORIZED_BY]->(n:Agency) RETURN n.id AS ncb, r.scopes AS scopes"
    )
    assert [r["ncb"] for r in records] == ["ncb-nl"]
    scopes = records[0]["scopes"]
    assert client.post(ME, agency="border-nl").status_code == 200
    try:
        seeded.execute_query("MATCH (:Agency {id:'border-nl'})-[r:AUTHORIZED_BY]->() DELETE r")
        if replacement:
            seeded.execute_query(
                "MATCH (a:Agency {id:'border-nl'}), (n:Agency {id:$n}) CREATE (a)-[:AUTHORIZED_BY {scopes:$s}]->(n)",
                n=replacement, s=scopes,
            )  # fmt: skip
        assert wait_for_status(client, "border-nl", 401) == 401
    finally:
        seeded.execute_query("MATCH (:Agency {id:'border-nl'})-[r:AUTHORIZED_BY]->() DELETE r")
        seeded.execute_query(
            "MATCH (a:Agency {id:'border-nl'}), (n:Agency {id:'ncb-nl'}) CREATE (a)-[:AUTHORIZED_BY {scopes:$s}]->(n)",
            s=scopes,
        )  # fmt: skip
        assert wait_for_status(client, "border-nl", 200) == 200


def test_scopes_come_from_the_graph_at_once(client: Client, seeded: Driver) -> None:
    """Withdrawing `read` from police-nl takes away the member view, without a new token."""
    assert notice(client, "N-DEMO-002", "police-nl") is not None
    try:
        seeded.execute_query("MATCH (:Agency {id:'police-nl'})-[r:AUTHORIZED_BY]->() SET r.scopes=['screen']")
        deadline = time.monotonic() + 5
        while notice(client, "N-DEMO-002", "police-nl") is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert notice(client, "N-DEMO-002", "police-nl") is None
    finally:
        seeded.execute_query(
            "MATCH (:Agency {id:'police-nl'})-[r:AUTHORIZED_BY]->() SET r.scopes=['screen','read']"
        )
        time.sleep(0.6)
    assert notice(client, "N-DEMO-002", "police-nl") is not None


# --- R2 Purpose ---------------------------------------------------------------------------

PERSONAL_QUERIES = {
    "person": '{ person(id: "P-DEMO-003") { id } }',
    "notices": "{ notices(first: 1) { totalCount } }",
    "diffusion": '{ diffusion(id: "D-DEMO-002") { id } }',
    "asylumApplications": "{ asylumApplications(first: 1) { totalCount } }",
    "screen": '{ screen(input: {familyName: "Moreau"}) { hit } }',
    "links": '{ links(personId: "P-DEMO-003") { nodes { id } } }',
    "path": '{ path(fromPersonId: "P-DEMO-002", toPersonId: "P-DEMO-003") { length } }',
}


@pytest.mark.parametrize("field", PERSONAL_QUERIES)
def test_personal_data_without_purpose_is_refused(client: Client, field: str) -> None:
    body = client.post(PERSONAL_QUERIES[field], agency="ncb-fr", purpose=None).json()
    assert body["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"
    assert body["data"] is None or body["data"][field] is None


@pytest.mark.parametrize("field", PERSONAL_QUERIES)
def test_personal_data_with_a_purpose_is_answered(client: Client, field: str) -> None:
    assert client.data(PERSONAL_QUERIES[field], agency="ncb-fr")[field] is not None


@pytest.mark.parametrize("purpose", PURPOSES)
def test_every_declared_purpose_is_accepted(client: Client, purpose: str) -> None:
    assert client.data(PERSON % "id", {"id": "P-DEMO-003"}, agency="ncb-fr", purpose=purpose)["person"]


@pytest.mark.parametrize("purpose", ["CURIOSITY", "investigation", "INVESTIGATION,ADMINISTRATION"])
def test_unknown_purpose_is_refused(client: Client, purpose: str) -> None:
    response = client.post(PERSONAL_QUERIES["person"], agency="ncb-fr", purpose=purpose)
    assert response.status_code == 400
    assert response.json()["data"] is None
    assert response.json()["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"


@pytest.mark.parametrize("query", ["{ countries { code } }", ME, '{ agency(id: "ncb-fr") { id kind } }'])
def test_non_personal_queries_need_no_purpose(client: Client, query: str) -> None:
    data = client.data(query, agency="ncb-fr", purpose=None)
    assert all(v for v in data.values())
    if "countries" in data:
        assert {"FR", "KZ", "NL"} <= {c["code"] for c in data["countries"]}


# --- R4 Source restrictions ----------------------------------------------------------------

ALLOW_LIST_VIEWERS = [
    ("ncb-de", True), ("ncb-nl", True), ("police-de", True), ("ncb-fr", True), ("police-fr", True),
    ("gs", True), ("ccf", True),
    ("ncb-jp", False), ("ncb-it", False), ("police-jp", False), ("border-de", False),
    ("asylum-nl", False), ("intl-europol", False), (None, False),
]  # fmt: skip


@pytest.mark.parametrize(("caller", "sees"), ALLOW_LIST_VIEWERS)
def test_allow_list_admits_only_listed_countries_the_source_and_oversight(
    client: Client, caller: str | None, sees: bool
) -> None:
    assert (notice(client, "N-DEMO-003", caller) is not None) is sees


@pytest.mark.parametrize(
    ("caller", "allow"),
    [("ncb-fr", ["DE", "NL"]), ("gs", ["DE", "NL"]), ("ccf", ["DE", "NL"]), ("ncb-de", None), ("police-de", None)],
)
def test_restriction_lists_are_shown_to_the_source_and_oversight_only(
    client: Client, caller: str, allow: list[str] | None
) -> None:
    assert notice(client, "N-DEMO-003", caller, "id allowCountries")["allowCountries"] == allow


@pytest.fixture(scope="module")
def denied_notice(seeded: Driver) -> dict[str, Any]:
    """A generated live notice with a deny list, and countries that are neither denied nor its source."""
    records, _, _ = seeded.execute_query(
        "MATCH (n:Notice) WHERE n.status = 'PUBLISHED' AND NOT coalesce(n.blocked, false) "
        "AND n.expiresAt > datetime() AND size(coalesce(n.allowCountries, [])) = 0 "
        "AND size(coalesce(n.denyCountries, [])) > 0 AND n.sourceCountry IS NOT NULL "
        "RETURN n.id AS id, n.denyCountries AS deny, n.sourceCountry AS source ORDER BY n.id LIMIT 1"
    )
    assert records, "the seed should hold a live notice with a deny list"
    row = dict(records[0])
    row["other"] = next(c for c in ("JP", "DE", "BR", "FR") if c not in row["deny"] and c != row["source"])
    return row


def test_deny_list_hides_the_notice_from_denied_countries(client: Client, denied_notice: dict[str, Any]) -> None:
    nid = denied_notice["id"]
    for denied in denied_notice["deny"]:
        assert notice(client, nid, f"ncb-{denied.lower()}") is None
        assert notice(client, nid, f"police-{denied.lower()}") is None
    assert notice(client, nid, f"ncb-{denied_notice['other'].lower()}") == {"id": nid, "status": "PUBLISHED"}
    source = notice(client, nid, f"ncb-{denied_notice['source'].lower()}", "id denyCountries")
    assert source == {"id": nid, "denyCountries": denied_notice["deny"]}
    assert notice(client, nid, "gs") is not None


def test_deny_list_hides_the_diffusion_from_denied_countries(client: Client, seeded: Driver) -> None:
    records, _, _ = seeded.execute_query(
        "MATCH (d:Diffusion) WHERE d.toAllMembers AND NOT coalesce(d.blocked, false) "
        "AND size(coalesce(d.allowCountries, [])) = 0 AND size(coalesce(d.denyCountries, [])) > 0 "
        "RETURN d.id AS id, d.denyCountries AS deny, d.sourceCountry AS source ORDER BY d.id LIMIT 1"
    )
    assert records, "the seed should hold a diffusion to all members with a deny list"
    did, deny, source = records[0]["id"], records[0]["deny"], records[0]["source"]
    other = next(c for c in ("JP", "DE", "BR", "FR") if c not in deny and c != source)
    assert diffusion(client, did, f"ncb-{deny[0].lower()}") is None
    assert diffusion(client, did, f"ncb-{other.lower()}") is not None
    assert diffusion(client, did, f"ncb-{source.lower()}") is not None
    assert diffusion(client, did, "ccf") is not None


# --- R5 Notice lifecycle --------------------------------------------------------------------

REQUESTED_VIEWERS = [
    ("ncb-fr", True), ("police-fr", True), ("judicial-fr", True), ("gs", True), ("ccf", True),
    ("ncb-de", False), ("ncb-jp", False), ("ncb-nl", False), ("asylum-fr", False), ("border-fr", False),
    ("intl-europol", False), (None, False),
]  # fmt: skip


@pytest.mark.parametrize(("caller", "sees"), REQUESTED_VIEWERS)
def test_requested_notice_is_seen_only_by_its_source_and_oversight(
    client: Client, caller: str | None, sees: bool
) -> None:
    found = notice(client, "N-DEMO-004", caller)
    assert found == ({"id": "N-DEMO-004", "status": "REQUESTED"} if sees else None)


@pytest.mark.parametrize(
    "condition",
    ["n.status = 'REFUSED'", "n.status = 'CANCELLED'", "n.status = 'EXPIRED'",
     "n.status = 'PUBLISHED' AND n.expiresAt < datetime()"],
    ids=["refused", "cancelled", "expired", "published-past-expiry"],
)  # fmt: skip
def test_inactive_notices_are_seen_only_by_their_source_and_oversight(
    client: Client, seeded: Driver, condition: str
) -> None:
    records, _, _ = seeded.execute_query(
        f"MATCH (n:Notice) WHERE {condition} AND NOT coalesce(n.blocked, false) AND n.sourceCountry IS NOT NULL "
        "RETURN n.id AS id, n.sourceCountry AS source, n.status AS status ORDER BY n.id LIMIT 1"
    )
    assert records
    nid, source = records[0]["id"], records[0]["source"]
    expected = "EXPIRED" if records[0]["status"] == "PUBLISHED" else records[0]["status"]
    third = "ncb-jp" if source != "JP" else "ncb-de"
    assert notice(client, nid, f"ncb-{source.lower()}") == {"id": nid, "status": expected}
    assert notice(client, nid, "ccf") == {"id": nid, "status": expected}
    assert notice(client, nid, third) is None
    assert notice(client, nid, "intl-europol") is None
    assert notice(client, nid, None) is None


@pytest.mark.parametrize(
    ("caller", "sees"),
    [("ncb-jp", True), ("ncb-fr", True), ("police-de", True), ("ncb-kz", True), ("intl-europol", True),
     ("border-de", False), ("asylum-de", False), (None, False)],
)  # fmt: skip
def test_published_notice_is_seen_by_member_agencies(client: Client, caller: str | None, sees: bool) -> None:
    assert (notice(client, "N-DEMO-002", caller) is not None) is sees


# --- R6 Diffusions --------------------------------------------------------------------------

DIFFUSION_VIEWERS = [
    ("ncb-fr", True), ("ncb-de", True), ("ncb-jp", True), ("police-jp", True), ("police-fr", True),
    ("gs", True), ("ccf", True),
    ("ncb-it", False), ("ncb-nl", False), ("ncb-kz", False), ("border-jp", False), ("asylum-de", False),
    ("intl-europol", False), (None, False),
]  # fmt: skip


@pytest.mark.parametrize(("caller", "sees"), DIFFUSION_VIEWERS)
def test_diffusion_is_seen_by_sender_recipients_and_oversight(
    client: Client, caller: str | None, sees: bool
) -> None:
    found = diffusion(client, "D-DEMO-002", caller, "id subjectToReview recipients { code }")
    expected = {"id": "D-DEMO-002", "subjectToReview": True, "recipients": [{"code": "DE"}, {"code": "JP"}]}
    assert found == (expected if sees else None)


def test_reviewed_diffusion_is_no_longer_subject_to_review(client: Client) -> None:
    assert diffusion(client, "D-DEMO-001", "gs", "subjectToReview") == {"subjectToReview": False}
    assert diffusion(client, "D-DEMO-002", "gs", "subjectToReview") == {"subjectToReview": True}


@pytest.mark.parametrize("caller", [None, "intl-europol"])
def test_diffusions_are_never_public_nor_international(client: Client, caller: str | None) -> None:
    data = client.data("{ diffusions(first: 50) { totalCount edges { node { id } } } }", agency=caller)
    assert data["diffusions"] == {"totalCount": 0, "edges": []}
    for did in ("D-DEMO-001", "D-DEMO-002"):
        assert diffusion(client, did, caller) is None


def test_member_diffusion_list_is_not_empty(client: Client) -> None:
    ids = {n["id"] for n in all_nodes(client, "diffusions", "id", "ncb-jp")}
    assert "D-DEMO-002" in ids
    assert "D-DEMO-001" not in ids


# --- R7 Asylum confidentiality ----------------------------------------------------------------

APPLICATION_VIEWERS = [
    ("ncb-nl", True), ("asylum-nl", True), ("gs", True), ("ccf", True),
    ("ncb-kz", False), ("asylum-kz", False), ("police-kz", False), ("ncb-jp", False), ("asylum-de", False),
    ("police-nl", False), ("border-nl", False), ("judicial-nl", False), ("intl-europol", False), (None, False),
]  # fmt: skip


@pytest.mark.parametrize(("caller", "sees"), APPLICATION_VIEWERS)
@pytest.mark.parametrize(("aid", "status"), [("A-DEMO-001", "GRANTED"), ("A-DEMO-002", "PENDING")])
def test_application_is_seen_only_by_receiving_country_and_oversight(
    client: Client, caller: str | None, sees: bool, aid: str, status: str
) -> None:
    found = client.data(APPLICATIONS, {"id": aid}, agency=caller)["asylumApplication"]
    assert found == ({"id": aid, "status": status, "receivingCountryCode": "NL"} if sees else None)


@pytest.mark.parametrize("pid", ["P-DEMO-001", "P-DEMO-002"])
def test_feared_country_never_sees_the_application(client: Client, pid: str) -> None:
    seen = person(client, pid, "ncb-kz", "id asylumApplications { id }")
    assert seen == {"id": pid, "asylumApplications": []}  # KZ recorded the person, sees no application
    assert person(client, pid, "ncb-nl", "asylumApplications { id }")["asylumApplications"]


def test_feared_country_finds_no_application_through_nested_selections(client: Client) -> None:
    query = """{ notices(filter: {subjectId: "P-DEMO-002"}) { edges { node { id reviewFlag
      subject { asylumApplications { id } } } } }
      screen(input: {familyName: "Nurlanova"}) { matches { person { asylumApplications { id } } } } }"""
    kz = client.data(query, agency="ncb-kz")
    assert kz["notices"]["edges"] == [{"node": {"id": "N-DEMO-002", "reviewFlag": None,
                                                "subject": {"asylumApplications": []}}}]  # fmt: skip
    assert kz["screen"]["matches"] == [{"person": {"asylumApplications": []}}]
    nl = client.data(query, agency="ncb-nl")
    assert nl["screen"]["matches"] == [{"person": {"asylumApplications": [{"id": "A-DEMO-002"}]}}]


def test_feared_country_counts_and_filters_show_no_trace(client: Client, seeded: Driver) -> None:
    lodged_in_kz = seeded.execute_query(
        "MATCH (a:AsylumApplication {receivingCountry: 'KZ'}) RETURN count(a) AS n"
    ).records[0]["n"]
    query = """{ all: asylumApplications { totalCount }
      nl: asylumApplications(filter: {receivingCountry: "NL"}) { totalCount edges { node { id } } }
      granted: asylumApplications(filter: {status: GRANTED}) { totalCount } }"""
    kz = client.data(query, agency="ncb-kz")
    assert kz["all"]["totalCount"] == lodged_in_kz
    assert kz["nl"] == {"totalCount": 0, "edges": []}
    # exactly what a country without any link to the applications sees for NL
    assert client.data(query, agency="ncb-jp")["nl"] == kz["nl"]
    nl = client.data(query, agency="ncb-nl")
    assert {"A-DEMO-001", "A-DEMO-002"} <= {e["node"]["id"] for e in nl["nl"]["edges"]}


@pytest.mark.parametrize(("caller", "expected"), [("gs", ["SN-DEMO-001"]), ("ccf", ["SN-DEMO-001"]),
                                                   ("ncb-nl", []), ("asylum-nl", [])])  # fmt: skip
def test_status_notifications_reach_oversight_only(client: Client, caller: str, expected: list[str]) -> None:
    query = '{ asylumApplication(id: "A-DEMO-001") { notifications { id } } }'
    found = client.data(query, agency=caller)["asylumApplication"]["notifications"]
    assert [n["id"] for n in found] == expected


# --- R8 Refugee protection (read side) ------------------------------------------------------------

BLOCK_FIELDS = "id status statusReason blocked blockReason reviewFlag"


@pytest.mark.parametrize("caller", ["ncb-kz", "police-kz"])
@pytest.mark.parametrize(("read", "rid"), [(notice, "N-DEMO-001"), (diffusion, "D-DEMO-001")], ids=["notice", "diffusion"])
def test_source_of_a_blocked_item_sees_it_cancelled_for_a_generic_reason(
    client: Client, caller: str, read: Callable[..., Any], rid: str
) -> None:
    assert read(client, rid, caller, BLOCK_FIELDS) == {
        "id": rid, "status": "CANCELLED", "statusReason": GENERIC_REASON,
        "blocked": None, "blockReason": None, "reviewFlag": None,
    }  # fmt: skip


@pytest.mark.parametrize("caller", ["gs", "ccf"])
@pytest.mark.parametrize(("read", "rid", "label"), [(notice, "N-DEMO-001", "Notice"), (diffusion, "D-DEMO-001", "Diffusion")],
                         ids=["notice", "diffusion"])  # fmt: skip
def test_oversight_sees_the_real_block_reason(
    client: Client, seeded: Driver, caller: str, read: Callable[..., Any], rid: str, label: str
) -> None:
    real = seeded.execute_query(f"MATCH (x:{label} {{id: $id}}) RETURN x.blockReason AS r", id=rid).records[0]["r"]
    assert real and real != GENERIC_REASON
    found = read(client, rid, caller, BLOCK_FIELDS)
    assert (found["blocked"], found["blockReason"], found["statusReason"]) == (True, real, real)


@pytest.mark.parametrize("caller", ["ncb-jp", "ncb-de", "ncb-nl", "police-nl", "ncb-ca", "intl-europol", None])
def test_blocked_items_are_hidden_from_everyone_but_source_and_oversight(client: Client, caller: str | None) -> None:
    assert notice(client, "N-DEMO-001", caller) is None
    assert diffusion(client, "D-DEMO-001", caller) is None


@pytest.mark.parametrize(("caller", "flag"), [("gs", True), ("ccf", True), ("ncb-kz", None), ("ncb-jp", None),
                                              ("ncb-nl", None), (None, None)])  # fmt: skip
def test_review_flag_is_visible_to_oversight_only(client: Client, caller: str | None, flag: bool | None) -> None:
    found = notice(client, "N-DEMO-002", caller, "id reviewFlag")
    if caller is None:
        assert found is None  # not a public notice at all
    else:
        assert found == {"id": "N-DEMO-002", "reviewFlag": flag}


@pytest.mark.parametrize(
    ("caller", "query", "expected"),
    [("ncb-kz", '{ notice(id: "N-DEMO-001") { r: blockReason ... on Notice { b: blocked } ...F } }'
                " fragment F on Notice { f: reviewFlag }", {"r": None, "b": None, "f": None}),
     ("gs", '{ notice(id: "N-DEMO-001") { r: blockReason ... on Notice { b: blocked } ...F } }'
            " fragment F on Notice { f: reviewFlag }", {"r": "*", "b": True, "f": False}),
     ("police-fr", '{ person(id: "P-DEMO-003") { ... on Person { fp: fingerprintRef } } }', {"fp": None}),
     ("ncb-fr", '{ person(id: "P-DEMO-003") { ... on Person { fp: fingerprintRef } } }', {"fp": "FP-DEMO-003"})],
    ids=["source", "oversight", "read-scope", "ncb"],
)  # fmt: skip
def test_aliases_and_fragments_do_not_unmask_fields(
    client: Client, caller: str, query: str, expected: dict[str, Any]
) -> None:
    found = next(iter(client.data(query, agency=caller).values()))
    if expected.get("r") == "*":
        assert found.pop("r") not in (None, GENERIC_REASON)
        expected = {k: v for k, v in expected.items() if k != "r"}
    assert found == expected


# --- R11 Screening ---------------------------------------------------------------------------------

DANA = {"familyName": "Nurlanova", "givenNames": "Dana"}


@pytest.mark.parametrize("caller", ["asylum-nl", "border-nl", "border-jp"])
def test_screen_only_entity_gets_a_reference_and_an_instruction(client: Client, caller: str) -> None:
    result = screen(client, caller, **DANA)
    assert (result["outcome"], result["hit"]) == ("HIT", True)
    [match] = [m for m in result["matches"] if m["reference"] == "N-DEMO-002"]
    assert (match["kind"], match["noticeType"], match["sourceCountryCode"]) == ("NOTICE", "RED", "KZ")
    assert CONTACT_NCB in match["instruction"]
    assert (match["person"], match["notice"], match["diffusion"]) == (None, None, None)


@pytest.mark.parametrize("caller", ["ncb-nl", "police-nl", "ncb-jp", "gs"])
def test_ncb_and_read_scope_get_the_records_behind_a_hit(client: Client, caller: str) -> None:
    result = screen(client, caller, **DANA)
    [match] = [m for m in result["matches"] if m["reference"] == "N-DEMO-002"]
    assert match["person"] == {"id": "P-DEMO-002"}
    assert match["notice"] == {"id": "N-DEMO-002"}
    assert match["instruction"] is None


@pytest.mark.parametrize(
    "data",
    [{"familyName": "Nurlanowa", "givenNames": "Dana"}, {"familyName": "Nourlanova"},
     {"familyName": "Нурланова"}, {"familyName": "Nurlanova", "dateOfBirth": "1990-11-02", "nationality": "KZ"}],
    ids=["spelling", "transliteration", "original-script", "with-dob-and-nationality"],
)  # fmt: skip
def test_screening_tolerates_spelling_and_transliteration(client: Client, data: dict[str, str]) -> None:
    result = screen(client, "asylum-nl", **data)
    assert result["outcome"] == "HIT"
    assert "N-DEMO-002" in {m["reference"] for m in result["matches"]}


@pytest.mark.parametrize(
    "data",
    [{"familyName": "Zzyxqvortplat", "givenNames": "Quenby"},
     {"familyName": "Nurlanova", "givenNames": "Dana", "dateOfBirth": "1971-01-01"},
     {"familyName": "Nurlanova", "givenNames": "Dana", "nationality": "FR"}],
    ids=["made-up-name", "other-date-of-birth", "other-nationality"],
)  # fmt: skip
def test_screening_without_a_match_is_no_hit(client: Client, data: dict[str, str]) -> None:
    assert screen(client, "asylum-nl", **data) == {"outcome": "NO_HIT", "hit": False, "matches": []}


@pytest.mark.parametrize("caller", [None, "intl-europol"])
def test_public_and_international_callers_may_not_screen(client: Client, caller: str | None) -> None:
    assert client.error_code(SCREEN, {"i": DANA}, agency=caller) == "FORBIDDEN"


@pytest.mark.parametrize(
    ("caller", "hits", "misses"),
    [("ncb-de", {"N-DEMO-003", "D-DEMO-002"}, set()),
     ("ncb-jp", {"D-DEMO-002"}, {"N-DEMO-003", "N-DEMO-004"}),
     ("border-jp", {"D-DEMO-002"}, {"N-DEMO-003", "N-DEMO-004"}),
     ("ncb-it", set(), {"N-DEMO-003", "D-DEMO-002", "N-DEMO-004"}),
     ("gs", {"N-DEMO-003", "D-DEMO-002"}, {"N-DEMO-004"})],
)  # fmt: skip
def test_screening_hits_only_what_the_country_may_see(
    client: Client, caller: str, hits: set[str], misses: set[str]
) -> None:
    refs = {m["reference"] for m in screen(client, caller, familyName="Moreau", givenNames="Jean")["matches"]}
    assert hits <= refs
    assert not refs & misses


@pytest.mark.parametrize("caller", ["ncb-nl", "asylum-nl", "ncb-jp", "ncb-kz"])
def test_screening_never_hits_blocked_items(client: Client, caller: str) -> None:
    result = screen(client, caller, familyName="Seitkali", givenNames="Arman", dateOfBirth="1985-03-14")
    assert not {"N-DEMO-001", "D-DEMO-001"} & {m["reference"] for m in result["matches"]}


def test_source_screening_hits_its_own_allow_listed_notice(client: Client) -> None:
    assert notice(client, "N-DEMO-003", "ncb-fr") is not None  # the source sees it by look-up
    refs = {m["reference"] for m in screen(client, "ncb-fr", familyName="Moreau", givenNames="Jean")["matches"]}
    assert "N-DEMO-003" in refs


# --- R12 Sensitive fields --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("caller", "fingerprint"),
    [("ncb-fr", "FP-DEMO-003"), ("ncb-jp", "FP-DEMO-003"), ("ncb-de", "FP-DEMO-003"), ("gs", "FP-DEMO-003"),
     ("ccf", "FP-DEMO-003"), ("police-fr", None), ("judicial-fr", None), ("police-jp", None), (None, None)],
)  # fmt: skip
def test_biometrics_are_visible_to_ncbs_and_oversight_only(
    client: Client, caller: str | None, fingerprint: str | None
) -> None:
    found = person(client, "P-DEMO-003", caller, "id fingerprintRef")
    assert (found or {}).get("fingerprintRef") == fingerprint
    if caller is not None:
        assert found["id"] == "P-DEMO-003"


@pytest.fixture(scope="module")
def public_person(seeded: Driver) -> str:
    """A person on a public notice, with a fingerprint, travel documents and diffusions."""
    records, _, _ = seeded.execute_query(
        "MATCH (n:Notice)-[:CONCERNS]->(p:Person) WHERE n.status = 'PUBLISHED' AND NOT coalesce(n.blocked, false) "
        "AND n.expiresAt > datetime() AND size(coalesce(n.allowCountries, [])) = 0 "
        "AND (n.publicExtract OR n.type = 'UN_SPECIAL') AND p.fingerprintRef IS NOT NULL "
        "AND EXISTS { (p)-[:HOLDS]->() } AND EXISTS { (p)<-[:CONCERNS]-(:Diffusion) } "
        "RETURN DISTINCT p.id AS id ORDER BY id LIMIT 1"
    )
    assert records, "the seed should hold such a person"
    return str(records[0]["id"])


@pytest.mark.parametrize(("caller", "sees_biometrics"), [("gs", True), ("ccf", True), (None, False), ("intl-europol", False)])
def test_biometrics_of_a_public_person(
    client: Client, public_person: str, caller: str | None, sees_biometrics: bool
) -> None:
    found = person(client, public_person, caller, "id fingerprintRef")
    assert found["id"] == public_person
    assert (found["fingerprintRef"] is not None) is sees_biometrics


# --- R13 Public view -------------------------------------------------------------------------------


def test_public_sees_the_un_special_notice_with_extract_fields_only(client: Client) -> None:
    fields = """id type status offenceSummary requestedAt allowCountries denyCountries blocked reviewFlag
      subject { id familyName aliases nameVariants nameOriginalScript fingerprintRef dnaRef
        travelDocuments { number } diffusions { id } asylumApplications { id } }"""
    found = notice(client, "N-DEMO-005", None, fields)
    assert (found["id"], found["type"], found["status"]) == ("N-DEMO-005", "UN_SPECIAL", "PUBLISHED")
    assert found["offenceSummary"]
    assert (found["requestedAt"], found["allowCountries"], found["denyCountries"]) == (None, None, None)
    assert (found["blocked"], found["reviewFlag"]) == (None, None)
    subject = found["subject"]
    assert (subject["id"], subject["familyName"]) == ("P-DEMO-005", "Haddad")
    assert [subject[k] for k in ("aliases", "nameVariants", "nameOriginalScript", "fingerprintRef", "dnaRef")] == [None] * 5
    assert (subject["travelDocuments"], subject["diffusions"], subject["asylumApplications"]) == ([], [], [])
    # the same fields are there for a member
    member = notice(client, "N-DEMO-005", "ncb-jp", "requestedAt subject { nameVariants }")
    assert member["requestedAt"] and member["subject"]["nameVariants"]


def test_public_never_sees_documents_diffusions_or_biometrics_of_a_public_person(
    client: Client, public_person: str
) -> None:
    fields = "id fingerprintRef travelDocuments { number } diffusions { id } asylumApplications { id }"
    public = person(client, public_person, None, fields)
    assert public == {"id": public_person, "fingerprintRef": None, "travelDocuments": [], "diffusions": [],
                      "asylumApplications": []}  # fmt: skip
    oversight = person(client, public_person, "gs", fields)
    assert oversight["travelDocuments"] and oversight["diffusions"]


@pytest.mark.parametrize(
    ("nid", "public"),
    [("N-DEMO-005", True), ("N-DEMO-001", False), ("N-DEMO-002", False), ("N-DEMO-003", False), ("N-DEMO-004", False)],
    ids=["un-special", "public-extract-but-blocked", "no-extract", "allow-list", "requested"],
)  # fmt: skip
def test_public_sees_only_public_notices(client: Client, nid: str, public: bool) -> None:
    assert (notice(client, nid, None) is not None) is public


def test_every_notice_in_the_public_list_is_published_and_public(client: Client, seeded: Driver) -> None:
    nodes = all_nodes(client, "notices", "id type status publicExtract", None)
    assert nodes
    assert all(n["status"] == "PUBLISHED" for n in nodes)
    assert all(n["publicExtract"] or n["type"] == "UN_SPECIAL" for n in nodes)
    expected = seeded.execute_query(
        "MATCH (n:Notice) WHERE n.status = 'PUBLISHED' AND NOT coalesce(n.blocked, false) "
        "AND n.expiresAt > datetime() AND size(coalesce(n.allowCountries, [])) = 0 "
        "AND (n.publicExtract OR n.type = 'UN_SPECIAL') RETURN collect(n.id) AS ids"
    ).records[0]["ids"]
    assert sorted(n["id"] for n in nodes) == sorted(expected)
    assert "N-DEMO-005" in expected and "N-DEMO-001" not in expected


def test_public_sees_no_applications(client: Client) -> None:
    data = client.data("{ asylumApplications { totalCount } }")
    assert data["asylumApplications"]["totalCount"] == 0
    assert client.data("{ asylumApplications { totalCount } }", agency="gs")["asylumApplications"]["totalCount"] > 0


# --- R15 Audit -------------------------------------------------------------------------------------


def test_person_read_is_audited_with_ids_and_purpose(client: Client) -> None:
    user = f"audit-{uuid.uuid4().hex[:10]}"
    body = as_user(client, "ncb-fr", user, PERSON % "id notices { id }", {"id": "P-DEMO-003"}, "IDENTIFICATION")
    assert body["data"]["person"]["id"] == "P-DEMO-003"
    [event] = audit_events(client, agencyId="ncb-fr", userId=user)
    assert event["purpose"] == "IDENTIFICATION"
    assert "Person:P-DEMO-003" in event["ids"]
    assert {"Notice:N-DEMO-003", "Notice:N-DEMO-004"} <= set(event["ids"])
    assert (event["agencyId"], event["outcome"]) == ("ncb-fr", "OK")
    assert "person" in event["operation"]
    newest = audit_events(client, agencyId="ncb-fr")[0]
    assert newest["userId"] == user


def test_screening_is_audited_with_hit_or_no_hit(client: Client) -> None:
    user = f"audit-{uuid.uuid4().hex[:10]}"
    as_user(client, "ncb-nl", user, SCREEN, {"i": DANA}, "ASYLUM_SCREENING")
    as_user(client, "ncb-nl", user, SCREEN, {"i": {"familyName": "Zzyxqvortplat"}}, "ASYLUM_SCREENING")
    events = audit_events(client, userId=user)
    assert [e["hit"] for e in events] == [False, True]  # newest first
    assert "Notice:N-DEMO-002" in events[1]["ids"]
    assert all(e["purpose"] == "ASYLUM_SCREENING" for e in events)


def test_a_hidden_lookup_records_no_ids(client: Client) -> None:
    user = f"audit-{uuid.uuid4().hex[:10]}"
    as_user(client, "ncb-de", user, NOTICE % "id", {"id": "N-DEMO-004"})
    [event] = audit_events(client, userId=user)
    assert event["ids"] == []


def test_screen_only_hit_is_audited_with_its_reference(client: Client) -> None:
    user = f"audit-{uuid.uuid4().hex[:10]}"
    body = as_user(client, "asylum-nl", user, SCREEN, {"i": DANA}, "ASYLUM_SCREENING")
    assert body["data"]["screen"]["matches"][0]["reference"] == "N-DEMO-002"
    [event] = audit_events(client, userId=user)
    assert event["hit"] is True
    assert any("N-DEMO-002" in i for i in event["ids"])


@pytest.mark.parametrize(
    ("caller", "reads"),
    [("gs", True), ("ccf", True), ("ncb-fr", False), ("police-fr", False), ("asylum-nl", False),
     ("intl-europol", False), (None, False)],
)  # fmt: skip
def test_only_oversight_reads_the_audit_log(client: Client, caller: str | None, reads: bool) -> None:
    query = "{ auditEvents(first: 1) { totalCount } }"
    if reads:
        assert client.data(query, agency=caller)["auditEvents"]["totalCount"] > 0
    else:
        assert client.error_code(query, agency=caller) == "FORBIDDEN"


# --- R16 Links and paths -----------------------------------------------------------------------------

LINK_VIEWS = [
    ("ncb-nl", {"P-DEMO-001", "P-DEMO-003"}, {"P-DEMO-004"}),
    ("ncb-jp", {"P-DEMO-003", "P-DEMO-004"}, {"P-DEMO-001"}),
    ("ncb-kz", {"P-DEMO-001"}, {"P-DEMO-003", "P-DEMO-004"}),
    ("ncb-de", {"P-DEMO-003"}, {"P-DEMO-001", "P-DEMO-004"}),
    ("asylum-nl", {"P-DEMO-001"}, {"P-DEMO-003", "P-DEMO-004"}),
    ("gs", {"P-DEMO-001", "P-DEMO-003", "P-DEMO-004"}, set()),
]


@pytest.mark.parametrize(("caller", "included", "excluded"), LINK_VIEWS)
def test_links_traverse_only_visible_persons(
    client: Client, caller: str, included: set[str], excluded: set[str]
) -> None:
    graph = client.data(LINKS, {"p": "P-DEMO-002", "d": 3}, agency=caller)["links"]
    ids = {n["id"] for n in graph["nodes"]}
    assert "P-DEMO-002" in ids
    assert included <= ids
    assert not ids & excluded
    assert all(e["source"] in ids and e["target"] in ids for e in graph["edges"])


@pytest.mark.parametrize("caller", [None, "border-nl"])
def test_callers_who_see_no_person_get_no_links(client: Client, caller: str | None) -> None:
    assert client.data(LINKS, {"p": "P-DEMO-002", "d": 3}, agency=caller)["links"] is None


@pytest.mark.parametrize(
    ("caller", "source", "target", "length"),
    [("ncb-nl", "P-DEMO-001", "P-DEMO-004", None), ("ncb-jp", "P-DEMO-001", "P-DEMO-004", None),
     ("gs", "P-DEMO-001", "P-DEMO-004", 3), ("ccf", "P-DEMO-001", "P-DEMO-004", 3),
     ("ncb-jp", "P-DEMO-002", "P-DEMO-004", 2), ("ncb-de", "P-DEMO-002", "P-DEMO-004", None),
     ("ncb-nl", "P-DEMO-001", "P-DEMO-003", 2), ("ncb-kz", "P-DEMO-001", "P-DEMO-003", None),
     ("ncb-kz", "P-DEMO-001", "P-DEMO-002", 1), (None, "P-DEMO-001", "P-DEMO-004", None)],
)  # fmt: skip
def test_paths_never_run_through_a_hidden_person(
    client: Client, caller: str | None, source: str, target: str, length: int | None
) -> None:
    found = client.data(PATH, {"a": source, "b": target}, agency=caller)["path"]
    if length is None:
        assert found is None
    else:
        assert found["length"] == length
        nodes = [n["id"] for n in found["nodes"]]
        assert (nodes[0], nodes[-1], len(nodes)) == (source, target, length + 1)


# --- R17 No side channels ----------------------------------------------------------------------------

SAME_AS_MISSING = [
    ("ncb-de", NOTICE % "id status", "N-DEMO-004", "N-DOES-NOT-EXIST"),
    ("ncb-jp", NOTICE % "id status", "N-DEMO-001", "N-DOES-NOT-EXIST"),
    ("ncb-it", DIFFUSION % "id", "D-DEMO-002", "D-DOES-NOT-EXIST"),
    ("ncb-kz", "query($id: ID!) { asylumApplication(id: $id) { id } }", "A-DEMO-001", "A-DOES-NOT-EXIST"),
    ("ncb-de", PERSON % "id", "P-DEMO-004", "P-DOES-NOT-EXIST"),
    ("ncb-jp", "query($id: ID!) { links(personId: $id, depth: 2) { nodes { id } } }", "P-DEMO-001", "P-NONE"),
    (None, PERSON % "id", "P-DEMO-003", "P-DOES-NOT-EXIST"),
]


@pytest.mark.parametrize(
    ("caller", "query", "hidden", "missing"), SAME_AS_MISSING, ids=[f"{h}-for-{c}" for c, _q, h, _m in SAME_AS_MISSING]
)
def test_a_hidden_record_looks_exactly_like_a_missing_one(
    client: Client, caller: str | None, query: str, hidden: str, missing: str
) -> None:
    a = client.post(query, {"id": hidden}, agency=caller)
    b = client.post(query, {"id": missing}, agency=caller)
    assert (a.status_code, a.json()) == (b.status_code, b.json())
    assert "errors" not in a.json()
    assert a.json()["data"][next(iter(a.json()["data"]))] is None


@pytest.mark.parametrize(("caller", "total"), [("ncb-jp", 0), ("ncb-de", 0), ("ncb-ca", 0), ("ncb-kz", 1), ("gs", 1)])
def test_totals_count_only_visible_notices(client: Client, caller: str, total: int) -> None:
    query = '{ notices(filter: {subjectId: "P-DEMO-001"}) { totalCount edges { node { id } } } }'
    found = client.data(query, agency=caller)["notices"]
    assert found["totalCount"] == total == len(found["edges"])


@pytest.mark.parametrize(("caller", "listed"), [("ncb-jp", False), ("ncb-nl", False), ("gs", True), ("ncb-kz", True)])
def test_filters_do_not_reveal_hidden_notices(client: Client, caller: str, listed: bool) -> None:
    ids = {n["id"] for n in all_nodes(client, "persons", "id", caller, {"hasNoticeType": "RED"})}
    assert "P-DEMO-002" in ids  # its RED notice is published to all members
    assert ("P-DEMO-001" in ids) is listed


def test_status_filter_follows_what_the_caller_sees(client: Client) -> None:
    query = """query($s: NoticeStatus) { notices(filter: {subjectId: "P-DEMO-001", status: $s}) { totalCount } }"""
    assert client.data(query, {"s": "PUBLISHED"}, agency="ncb-kz")["notices"]["totalCount"] == 0
    assert client.data(query, {"s": "CANCELLED"}, agency="ncb-kz")["notices"]["totalCount"] == 1
    assert client.data(query, {"s": "PUBLISHED"}, agency="gs")["notices"]["totalCount"] == 1


# --- R18 Persons and links ------------------------------------------------------------------------------

PERSON_VIEWERS = [
    ("P-DEMO-004", "ncb-jp", True), ("P-DEMO-004", "police-jp", True), ("P-DEMO-004", "gs", True),
    ("P-DEMO-004", "ccf", True), ("P-DEMO-004", "ncb-fr", False), ("P-DEMO-004", "ncb-de", False),
    ("P-DEMO-004", "border-jp", False), ("P-DEMO-004", None, False),
    ("P-DEMO-003", "ncb-fr", True), ("P-DEMO-003", "ncb-de", True), ("P-DEMO-003", "ncb-jp", True),
    ("P-DEMO-003", "ncb-it", False), ("P-DEMO-003", "ncb-kz", False), ("P-DEMO-003", "intl-europol", False),
    ("P-DEMO-001", "ncb-kz", True), ("P-DEMO-001", "ncb-nl", True), ("P-DEMO-001", "asylum-nl", True),
    ("P-DEMO-001", "ncb-jp", False), ("P-DEMO-001", "ncb-ca", False), ("P-DEMO-001", "police-nl", False),
    ("P-DEMO-001", None, False),
]  # fmt: skip


@pytest.mark.parametrize(("pid", "caller", "sees"), PERSON_VIEWERS)
def test_person_is_visible_through_its_record_or_a_visible_item(
    client: Client, pid: str, caller: str | None, sees: bool
) -> None:
    assert (person(client, pid, caller) is not None) is sees


@pytest.mark.parametrize(
    ("pid", "caller", "documents"),
    [("P-DEMO-003", "ncb-fr", ["FR-DEMO-0001"]), ("P-DEMO-003", "ncb-jp", ["FR-DEMO-0001"]),
     ("P-DEMO-001", "ncb-kz", ["N12345678"]), ("P-DEMO-001", "ncb-jp", None), ("P-DEMO-003", "ncb-it", None)],
)  # fmt: skip
def test_travel_documents_go_with_their_holder(
    client: Client, pid: str, caller: str, documents: list[str] | None
) -> None:
    found = person(client, pid, caller, "travelDocuments { number }")
    assert (found and [d["number"] for d in found["travelDocuments"]]) == documents
