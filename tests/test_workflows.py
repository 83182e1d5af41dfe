"""Scenario tests of the workflows (the GraphQL mutations), told from every side.

Each story creates its own persons, notices, diffusions and applications, in countries the
demo records do not use, and measures every list total relative to a "before" taken in the
same test or filters by its own ids: the session's graph is shared with other test files.

1. The refugee story (R3, R5-R10, R16-R18): AZ wants X, SE grants protection, PT is a
   third country, BR is on the notice's deny list; then protection is revoked and the GS
   restores what was blocked.
2. The same with a denial on criminal grounds: nothing is blocked (R8, R9).
3. The notice lifecycle (R3, R4, R14).
4. Bad input, wrong callers, hidden targets and idempotent retries; every refusal writes
   nothing and is audited (R15).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from neo4j import Driver

from graph_schema.model import GENERIC_BLOCK_REASON, NOTICE_LIFETIME_DAYS, REFUGEE_BLOCK_REASON
from tests.conftest import Client

TODAY = date.today()
OVERSIGHT = ("gs", "ccf")

# --- GraphQL --------------------------------------------------------------------------

CREATE_PERSON = (
    "mutation($i: PersonInput!, $k: String) { createPerson(input: $i, idempotencyKey: $k) "
    "{ id familyName recordedBy { id } } }"
)
UPDATE_PERSON = "mutation($id: ID!, $i: PersonUpdateInput!) { updatePerson(id: $id, input: $i) { id familyName } }"
ADD_DOCUMENT = (
    "mutation($p: ID!, $i: TravelDocumentInput!) { addTravelDocument(personId: $p, input: $i) "
    "{ id travelDocuments { number } } }"
)
LINK = "mutation($a: ID!, $b: ID!, $k: AssociateKind!) { linkPersons(a: $a, b: $b, kind: $k) { id } }"
REQUEST_NOTICE = (
    "mutation($i: RequestNoticeInput!, $k: String) { requestNotice(input: $i, idempotencyKey: $k) "
    "{ id status denyCountries allowCountries sourceCountryCode } }"
)
REVIEW_NOTICE = (
    "mutation($id: ID!, $d: NoticeDecision!, $r: String) { reviewNotice(id: $id, decision: $d, reason: $r) "
    "{ id status statusReason publishedAt expiresAt reviewDueAt } }"
)
CANCEL_NOTICE = "mutation($id: ID!, $r: String!) { cancelNotice(id: $id, reason: $r) { id status statusReason } }"
EXTEND_NOTICE = "mutation($id: ID!, $r: String!) { extendNotice(id: $id, reason: $r) { id expiresAt reviewDueAt } }"
SET_RESTRICTIONS = (
    "mutation($id: ID!, $allow: [String!], $deny: [String!]) { "
    "setRestrictions(id: $id, allowCountries: $allow, denyCountries: $deny) { id allowCountries denyCountries } }"
)
RESTORE_NOTICE = "mutation($id: ID!, $r: String!) { restoreNotice(id: $id, reason: $r) { id status statusReason } }"
ISSUE_DIFFUSION = (
    "mutation($i: IssueDiffusionInput!) { issueDiffusion(input: $i) { id status subjectToReview toAllMembers } }"
)
REVIEW_DIFFUSION = (
    "mutation($id: ID!, $d: DiffusionDecision!, $r: String) { reviewDiffusion(id: $id, decision: $d, reason: $r) "
    "{ id status subjectToReview } }"
)
RESTORE_DIFFUSION = "mutation($id: ID!, $r: String!) { restoreDiffusion(id: $id, reason: $r) { id status } }"
FILE_APPLICATION = (
    "mutation($i: AsylumApplicationInput!) { fileAsylumApplication(input: $i) { id status lodgedAt "
    "screeningResult screeningRefs receivingCountryCode fearedPersecutionCountryCode applicant { id } } }"
)
DECIDE = (
    "mutation($id: ID!, $i: AsylumDecisionInput!) { decideAsylumApplication(id: $id, input: $i) "
    "{ id status decidedAt legalBasis deniedOnCriminalGrounds } }"
)

VIEW = """
query($x: ID!, $n: ID!, $d: ID!, $a: ID!, $f: String!, $r: String!) {
  person(id: $x) {
    id familyName recordedBy { id } nationalities { code }
    notices { id status statusReason } diffusions { id status statusReason } asylumApplications { id }
  }
  notice(id: $n) { id status statusReason blocked blockReason reviewFlag denyCountries publicExtract }
  diffusion(id: $d) { id status statusReason blocked blockReason reviewFlag subjectToReview recipients { code } }
  asylumApplication(id: $a) {
    id status screeningResult screeningRefs legalBasis deniedOnCriminalGrounds
    receivingCountryCode fearedPersecutionCountryCode
  }
  notices(filter: {subjectId: $x}) { totalCount }
  diffusions(filter: {senderCountry: $f}, first: 1) { totalCount }
  asylumApplications(filter: {receivingCountry: $r}, first: 1) { totalCount }
}
"""
LINKS = """
query($z: ID!, $w: ID!, $x: ID!) {
  links(personId: $z, depth: 3) { nodes { id } edges { source target kind } }
  toW: path(fromPersonId: $z, toPersonId: $w) { length nodes { id } }
  toX: path(fromPersonId: $z, toPersonId: $x) { length }
}
"""
NEIGHBOURS = "query($x: ID!) { links(personId: $x, depth: 3) { nodes { id familyName } edges { source target } } }"
PERSON = "query($id: ID!) { person(id: $id) { id } }"
NOTIFICATIONS = """
query($r: String) {
  statusNotifications(filter: {receivingCountry: $r}, first: 5) {
    totalCount
    edges { node { id outcome decidedAt legalBasis receivingCountryCode fearedPersecutionCountryCode
                   deniedOnCriminalGrounds application { id } } }
  }
}
"""
SCREEN = (
    "query($f: String!, $g: String, $b: Date) { screen(input: {familyName: $f, givenNames: $g, dateOfBirth: $b}) "
    "{ outcome matches { reference kind noticeType sourceCountryCode instruction notice { id } } } }"
)
AUDIT = (
    "query($a: String) { auditEvents(filter: {agencyId: $a}, first: 1) "
    "{ edges { node { operation outcome purpose ids agencyId } } } }"
)
DUE = (
    "query($after: String) { noticesDueForReview(first: 100, after: $after) "
    "{ totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }"
)


# --- Helpers --------------------------------------------------------------------------


def unique(prefix: str) -> str:
    """A distinctive family name, so that name screenings find only our own records."""
    return prefix + uuid.uuid4().hex[:6].upper().translate(str.maketrans("0123456789", "QWRTYPSDFG"))


def create_person(client: Client, agency: str, family: str, **extra: Any) -> str:
    data = client.data(CREATE_PERSON, {"i": {"familyName": family, **extra}}, agency=agency)
    return str(data["createPerson"]["id"])


def request_notice(client: Client, agency: str, person: str, **extra: Any) -> str:
    payload = {"personId": person, "type": "RED", "offenceSummary": "Wanted for prosecution: fraud", **extra}
    return str(client.data(REQUEST_NOTICE, {"i": payload}, agency=agency)["requestNotice"]["id"])


def publish(client: Client, notice: str) -> dict[str, Any]:
    data = client.data(REVIEW_NOTICE, {"id": notice, "d": "PUBLISH"}, agency="gs", purpose="ADMINISTRATION")
    assert data["reviewNotice"]["status"] == "PUBLISHED"
    return dict(data["reviewNotice"])


def diffuse(client: Client, agency: str, person: str) -> str:
    data = client.data(
        ISSUE_DIFFUSION, {"i": {"personId": person, "purpose": "ARREST", "toAllMembers": True}}, agency=agency
    )
    return str(data["issueDiffusion"]["id"])


def file_application(client: Client, agency: str, person: str, feared: str, lodged: date) -> dict[str, Any]:
    variables = {"i": {"personId": person, "fearedPersecutionCountry": feared, "lodgedAt": lodged.isoformat()}}
    return dict(client.data(FILE_APPLICATION, variables, agency=agency, purpose="ASYLUM_SCREENING")["fileAsylumApplication"])


def decide(client: Client, agency: str, application: str, **decision: Any) -> dict[str, Any]:
    decision.setdefault("decidedAt", TODAY.isoformat())
    return dict(client.data(DECIDE, {"id": application, "i": decision}, agency=agency)["decideAsylumApplication"])


def errors(client: Client, query: str, variables: dict[str, Any], agency: str | None, purpose: str | None = "INVESTIGATION") -> dict[str, Any]:
    body = client.post(query, variables, agency, purpose).json()
    assert body.get("errors"), body
    return dict(body["errors"][0])


def strings(value: Any) -> list[str]:
    """Every string value (not key) in a response, to look for what must not be there."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return [value] if isinstance(value, str) else []


def graph_size(driver: Driver) -> tuple[int, int]:
    """Nodes and relationships, the audit chain aside."""
    nodes = driver.execute_query(
        "MATCH (n) WHERE NOT n:AccessEvent AND NOT n:AuditHead RETURN count(n) AS c"
    ).records[0]["c"]
    rels = driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS c").records[0]["c"]
    return int(nodes), int(rels)


def stored(driver: Driver, id_: str) -> dict[str, Any] | None:
    records = driver.execute_query(
        "MATCH (n) WHERE (n:Person OR n:Notice OR n:Diffusion OR n:AsylumApplication) AND n.id = $id "
        "RETURN properties(n) AS p",
        id=id_,
    ).records
    return dict(records[0]["p"]) if records else None


def last_audit(client: Client, agency: str) -> dict[str, Any]:
    edges = client.data(AUDIT, {"a": agency}, agency="gs", purpose="DATA_PROTECTION_REVIEW")["auditEvents"]["edges"]
    assert edges, f"no audit event for {agency}"
    return dict(edges[0]["node"])


def assert_refused(
    client: Client, seeded: Driver, query: str, variables: dict[str, Any], agency: str | None, code: str, *,
    operation: str | None = None, target: str | None = None, message: str | None = None,
    purpose: str | None = "INVESTIGATION",
) -> dict[str, Any]:  # fmt: skip
    """The mutation is refused with `code`, writes nothing, and (if it reached its workflow)
    leaves a REFUSED audit event naming the mutation."""
    size, before = graph_size(seeded), stored(seeded, target) if target else None
    error = errors(client, query, variables, agency, purpose)
    assert error["extensions"]["code"] == code, error
    if message is not None:
        assert message in error["message"], error
    assert graph_size(seeded) == size, "a refused mutation wrote nodes or relationships"
    if target:
        assert stored(seeded, target) == before, "a refused mutation changed its target"
    if operation and agency:
        event = last_audit(client, agency)
        assert event["operation"] == f"mutation:{operation}", event
        assert event["outcome"] == f"REFUSED:{code}", event
    return error


def notice_ids_about(driver: Driver, person: str) -> set[str]:
    records = driver.execute_query(
        "MATCH (x)-[:CONCERNS]->(:Person {id: $id}) WHERE x:Notice OR x:Diffusion RETURN x.id AS id", id=person
    ).records
    return {r["id"] for r in records}


# --- The refugee story ------------------------------------------------------------------


@dataclass
class Story:
    """One person wanted by `feared`, who applies for asylum in `receiving`."""

    feared: str
    receiving: str
    third: str
    denied: str
    x: str = ""
    family: str = ""
    notice: str = ""
    diffusion: str = ""
    application: str = "A-NOT-FILED-YET"
    z: str = ""
    w: str = ""

    def ncb(self, code: str) -> str:
        return f"ncb-{code.lower()}"

    @property
    def asylum(self) -> str:
        return f"asylum-{self.receiving.lower()}"

    @property
    def callers(self) -> list[str | None]:
        """Every side: source, receiving (asylum and NCB), third, denied, oversight, public."""
        return [self.ncb(self.feared), self.asylum, self.ncb(self.receiving), self.ncb(self.third),
                self.ncb(self.denied), *OVERSIGHT, None]  # fmt: skip

    def view(self, client: Client, agency: str | None) -> dict[str, Any]:
        variables = {"x": self.x, "n": self.notice, "d": self.diffusion, "a": self.application,
                     "f": self.feared, "r": self.receiving}  # fmt: skip
        return client.data(VIEW, variables, agency=agency)

    def views(self, client: Client) -> dict[str | None, dict[str, Any]]:
        return {agency: self.view(client, agency) for agency in self.callers}

    def totals(self, client: Client, views: dict[str | None, dict[str, Any]] | None = None) -> dict[str, dict[str, int]]:
        """Each side's list totals: notices about X, the feared country's diffusions, applications in R."""
        return {
            str(agency): {
                "notices": v["notices"]["totalCount"],
                "diffusions": v["diffusions"]["totalCount"],
                "applications": v["asylumApplications"]["totalCount"],
            }
            for agency, v in (views or self.views(client)).items()
        }


def open_story(client: Client, feared: str, receiving: str, third: str, denied: str) -> Story:
    """The feared country records X, requests a RED notice that denies `denied`, the GS
    publishes it, and the feared country broadcasts an ARREST diffusion."""
    s = Story(feared, receiving, third, denied)
    s.family = unique("Mammadli")
    s.x = create_person(client, s.ncb(feared), s.family, givenNames="Rashad", dateOfBirth="1986-04-02",
                        nationalities=[feared], sex="MALE")  # fmt: skip
    s.notice = request_notice(client, s.ncb(feared), s.x, denyCountries=[denied], publicExtract=True)
    publish(client, s.notice)
    s.diffusion = diffuse(client, s.ncb(feared), s.x)
    return s


@pytest.fixture(scope="module")
def story(client: Client) -> Story:
    return open_story(client, feared="AZ", receiving="SE", third="PT", denied="BR")


def test_story_published_notice_and_diffusion_reach_members_within_the_deny_list(client: Client, story: Story) -> None:
    v = story.views(client)
    source = v["ncb-az"]
    assert source["notice"]["status"] == "PUBLISHED" and source["notice"]["denyCountries"] == ["BR"]
    assert source["notice"]["blocked"] is None and source["notice"]["reviewFlag"] is None  # R8 flags: GS/CCF only
    assert source["diffusion"]["status"] == "ACTIVE" and source["diffusion"]["subjectToReview"] is True
    for member in ("ncb-se", "ncb-pt"):
        assert v[member]["person"]["id"] == story.x  # R18: through the published notice
        assert v[member]["notice"]["status"] == "PUBLISHED"
        assert v[member]["notice"]["denyCountries"] is None  # R4: the source's own settings
        assert v[member]["notices"]["totalCount"] == 1
        assert v[member]["diffusion"]["status"] == "ACTIVE"
    denied = v["ncb-br"]
    assert denied["notice"] is None and denied["notices"]["totalCount"] == 0  # R4
    assert denied["diffusion"]["id"] == story.diffusion  # sent to all members, no deny list
    assert denied["person"]["notices"] == [] and [d["id"] for d in denied["person"]["diffusions"]] == [story.diffusion]
    for gs in OVERSIGHT:
        assert v[gs]["notice"]["blocked"] is False and v[gs]["notice"]["denyCountries"] == ["BR"]
        assert v[gs]["notice"]["reviewFlag"] is False and v[gs]["diffusion"]["reviewFlag"] is False
    public = v[None]
    # R4 with R13: the public could be anyone on the deny list, so a restricted notice is not
    # public even with an extract.
    assert public["notice"] is None and public["notices"]["totalCount"] == 0
    assert public["diffusion"] is None and public["asylumApplication"] is None  # R6, R13
    assert public["diffusions"]["totalCount"] == 0
    # The asylum authority reads no notices (screen + asylum only): X is not visible to it.
    asylum = v["asylum-se"]
    assert asylum["person"] is None and asylum["notice"] is None and asylum["diffusion"] is None
    assert asylum["notices"]["totalCount"] == 0


def test_story_screening_by_the_asylum_authority_gives_references_only(client: Client, story: Story) -> None:
    answer = client.data(SCREEN, {"f": story.family, "g": "Rashad", "b": "1986-04-02"}, agency="asylum-se",
                         purpose="ASYLUM_SCREENING")["screen"]  # fmt: skip
    assert answer["outcome"] == "HIT"
    ours = {m["reference"]: m for m in answer["matches"] if m["reference"] in (story.notice, story.diffusion)}
    assert set(ours) == {story.notice, story.diffusion}
    assert ours[story.notice]["noticeType"] == "RED" and ours[story.notice]["sourceCountryCode"] == "AZ"
    assert all(m["notice"] is None and "NCB" in m["instruction"] for m in ours.values())  # R11: screen scope


def test_story_a_third_country_links_x_to_its_own_persons(client: Client, story: Story) -> None:
    story.z = create_person(client, "ncb-pt", unique("Silva"))
    story.w = create_person(client, "ncb-pt", unique("Costa"))
    client.data(LINK, {"a": story.z, "b": story.x, "k": "ACCOMPLICE"}, agency="ncb-pt")
    client.data(LINK, {"a": story.x, "b": story.w, "k": "CO_TRAVELLER"}, agency="ncb-pt")
    seen = client.data(LINKS, {"z": story.z, "w": story.w, "x": story.x}, agency="ncb-pt")
    assert {n["id"] for n in seen["links"]["nodes"]} == {story.z, story.x, story.w}
    assert seen["toW"]["length"] == 2 and [n["id"] for n in seen["toW"]["nodes"]] == [story.z, story.x, story.w]
    assert seen["toX"]["length"] == 1


def test_story_filing_screens_x_and_flags_the_feared_countrys_items(client: Client, story: Story) -> None:
    before = story.totals(client)
    application = file_application(client, "asylum-se", story.x, "AZ", TODAY - timedelta(days=30))
    story.application = application["id"]
    assert application["status"] == "PENDING" and application["applicant"] == {"id": story.x}
    assert application["screeningResult"] == "HIT"  # R10
    assert application["screeningRefs"] == sorted([story.notice, story.diffusion])
    assert (application["receivingCountryCode"], application["fearedPersecutionCountryCode"]) == ("SE", "AZ")

    v = story.views(client)
    after = story.totals(client, v)
    for agency in ("asylum-se", "ncb-se", *OVERSIGHT):
        assert after[agency]["applications"] == before[agency]["applications"] + 1, agency
        assert v[agency]["asylumApplication"]["status"] == "PENDING"
    for agency in ("ncb-az", "ncb-pt", "ncb-br", "None"):
        assert after[agency]["applications"] == 0, agency  # R7: filtering on SE gives nothing
    assert v["asylum-se"]["person"]["id"] == story.x  # R18: through the application
    assert v["asylum-se"]["notice"] is None  # still reads no notices
    for gs in OVERSIGHT:  # R8: pending, so flagged for GS review
        assert v[gs]["notice"]["reviewFlag"] is True and v[gs]["diffusion"]["reviewFlag"] is True
        assert v[gs]["notice"]["blocked"] is False
    source = v["ncb-az"]  # R7: the feared country notices nothing
    assert source["notice"]["status"] == "PUBLISHED" and source["notice"]["reviewFlag"] is None
    assert source["asylumApplication"] is None and source["person"]["asylumApplications"] == []
    assert v["ncb-pt"]["notice"]["status"] == "PUBLISHED" and v["ncb-pt"]["asylumApplication"] is None
    assert v["ncb-br"]["notice"] is None and v["ncb-br"]["diffusion"]["id"] == story.diffusion


def test_story_granting_blocks_the_feared_countrys_items_for_everyone_but_the_gs(client: Client, story: Story) -> None:
    before = story.totals(client)
    reports_before = {gs: client.data(NOTIFICATIONS, {}, agency=gs)["statusNotifications"]["totalCount"] for gs in OVERSIGHT}
    decided = decide(client, "asylum-se", story.application, outcome="GRANTED", legalBasis="CONVENTION_1951")
    assert decided["status"] == "GRANTED" and decided["legalBasis"] == "CONVENTION_1951"
    assert decided["decidedAt"] == TODAY.isoformat()

    v = story.views(client)
    after = story.totals(client, v)
    # The source sees its items cancelled for the generic reason, and nothing else (R8, R7).
    source = v["ncb-az"]
    assert source["notice"]["status"] == "CANCELLED"
    assert source["notice"]["statusReason"] == GENERIC_BLOCK_REASON
    assert (source["notice"]["blocked"], source["notice"]["blockReason"], source["notice"]["reviewFlag"]) == (None, None, None)
    assert source["diffusion"]["status"] == "CANCELLED"
    assert source["diffusion"]["statusReason"] == GENERIC_BLOCK_REASON and source["diffusion"]["blockReason"] is None
    assert source["person"]["notices"] == [{"id": story.notice, "status": "CANCELLED", "statusReason": GENERIC_BLOCK_REASON}]
    assert source["asylumApplication"] is None and source["person"]["asylumApplications"] == []
    assert after["ncb-az"] == before["ncb-az"]  # same totals: notices 1, AZ diffusions, SE applications 0
    assert after["ncb-az"]["applications"] == 0
    assert errors(client, NOTIFICATIONS, {}, "ncb-az")["extensions"]["code"] == "FORBIDDEN"
    links = client.data(NEIGHBOURS, {"x": story.x}, agency="ncb-az")
    assert [n["id"] for n in links["links"]["nodes"]] == [story.x] and links["links"]["edges"] == []  # PT's persons stay PT's
    hints = {"SE", "Sweden", "asylum-se", "ncb-se", "GRANTED", "CONVENTION_1951", REFUGEE_BLOCK_REASON}
    leaked = [s for s in strings([source, links]) if s in hints or "refugee" in s.lower() or "asylum" in s.lower()]
    assert leaked == [], f"the feared country learns {leaked}"

    # The receiving country: the application, no longer the notice or the diffusion.
    for agency in ("asylum-se", "ncb-se"):
        assert v[agency]["asylumApplication"]["status"] == "GRANTED", agency
        assert v[agency]["asylumApplication"]["legalBasis"] == "CONVENTION_1951"
        assert v[agency]["notice"] is None and v[agency]["diffusion"] is None, agency
        assert v[agency]["person"]["id"] == story.x and v[agency]["notices"]["totalCount"] == 0
    assert after["ncb-se"]["diffusions"] == before["ncb-se"]["diffusions"] - 1

    # Third and denied countries: gone, and X with them (R8, R18), links and paths too (R16).
    for agency in ("ncb-pt", "ncb-br"):
        assert v[agency]["notice"] is None and v[agency]["diffusion"] is None, agency
        assert v[agency]["person"] is None and v[agency]["notices"]["totalCount"] == 0, agency
        assert after[agency]["diffusions"] == before[agency]["diffusions"] - 1, agency
    seen = client.data(LINKS, {"z": story.z, "w": story.w, "x": story.x}, agency="ncb-pt")
    assert [n["id"] for n in seen["links"]["nodes"]] == [story.z] and seen["links"]["edges"] == []
    assert seen["toW"] is None and seen["toX"] is None
    screened = client.data(SCREEN, {"f": story.family, "g": "Rashad", "b": "1986-04-02"}, agency="ncb-pt")["screen"]
    assert {story.notice, story.diffusion}.isdisjoint(m["reference"] for m in screened["matches"])

    # GS and CCF: everything, the real reason, and the report (R9).
    for gs in OVERSIGHT:
        assert v[gs]["notice"]["blocked"] is True and v[gs]["notice"]["blockReason"] == REFUGEE_BLOCK_REASON
        assert v[gs]["notice"]["statusReason"] == REFUGEE_BLOCK_REASON
        assert v[gs]["diffusion"]["blocked"] is True and v[gs]["diffusion"]["blockReason"] == REFUGEE_BLOCK_REASON
        assert v[gs]["person"]["id"] == story.x and after[gs] == before[gs]
        reports = client.data(NOTIFICATIONS, {"r": "SE"}, agency=gs)["statusNotifications"]
        assert client.data(NOTIFICATIONS, {}, agency=gs)["statusNotifications"]["totalCount"] == reports_before[gs] + 1
        report = reports["edges"][0]["node"]  # newest first
        assert report["application"] == {"id": story.application}
        assert (report["outcome"], report["legalBasis"], report["decidedAt"]) == ("GRANTED", "CONVENTION_1951", TODAY.isoformat())
        assert (report["receivingCountryCode"], report["fearedPersecutionCountryCode"]) == ("SE", "AZ")
        assert report["deniedOnCriminalGrounds"] is False
    for agency in ("ncb-se", "asylum-se", "ncb-pt"):
        assert errors(client, NOTIFICATIONS, {}, agency)["extensions"]["code"] == "FORBIDDEN"

    # The public: nothing of this any more (R13).
    public = v[None]
    assert public["notice"] is None and public["person"] is None and public["notices"]["totalCount"] == 0


def test_story_the_feared_country_can_no_longer_request_or_diffuse_about_x(
    client: Client, seeded: Driver, story: Story
) -> None:
    items = notice_ids_about(seeded, story.x)
    payload = {"personId": story.x, "type": "BLUE", "offenceSummary": "Locate: witness"}
    error = assert_refused(client, seeded, REQUEST_NOTICE, {"i": payload}, "ncb-az", "FORBIDDEN",
                           operation="requestNotice", message=GENERIC_BLOCK_REASON)  # fmt: skip
    assert error["message"] == GENERIC_BLOCK_REASON
    error = assert_refused(client, seeded, ISSUE_DIFFUSION, {"i": {"personId": story.x, "purpose": "LOCATE", "recipients": ["PT"]}},
                           "ncb-az", "FORBIDDEN", operation="issueDiffusion")  # fmt: skip
    assert error["message"] == GENERIC_BLOCK_REASON
    assert notice_ids_about(seeded, story.x) == items
    # Nor can it learn of the application by acting on it: the answer for a missing one (R7, R17).
    decision = {"outcome": "REVOKED", "decidedAt": TODAY.isoformat()}
    missing = assert_refused(client, seeded, DECIDE, {"id": "A-000000000000", "i": decision}, "ncb-az", "NOT_FOUND",
                             operation="decideAsylumApplication")  # fmt: skip
    hidden = assert_refused(client, seeded, DECIDE, {"id": story.application, "i": decision}, "ncb-az", "NOT_FOUND",
                            operation="decideAsylumApplication", target=story.application)  # fmt: skip
    assert hidden["message"].replace(story.application, "A-000000000000") == missing["message"]


def test_story_only_the_gs_restores_and_not_while_protection_holds(client: Client, seeded: Driver, story: Story) -> None:
    assert_refused(client, seeded, RESTORE_NOTICE, {"id": story.notice, "r": "review"}, "gs", "CONFLICT",
                   operation="restoreNotice", target=story.notice)  # fmt: skip
    assert_refused(client, seeded, RESTORE_DIFFUSION, {"id": story.diffusion, "r": "review"}, "gs", "CONFLICT",
                   operation="restoreDiffusion", target=story.diffusion)  # fmt: skip
    assert_refused(client, seeded, RESTORE_NOTICE, {"id": story.notice, "r": "review"}, "ccf", "FORBIDDEN",
                   operation="restoreNotice", target=story.notice)  # fmt: skip
    assert_refused(client, seeded, RESTORE_NOTICE, {"id": story.notice, "r": "review"}, "ncb-az", "FORBIDDEN",
                   operation="restoreNotice", target=story.notice)  # fmt: skip
    # A member that cannot see the blocked notice gets the answer for a missing one (R17).
    missing = assert_refused(client, seeded, RESTORE_NOTICE, {"id": "N-NOPE", "r": "x"}, "ncb-pt", "NOT_FOUND")
    hidden = assert_refused(client, seeded, RESTORE_NOTICE, {"id": story.notice, "r": "x"}, "ncb-pt", "NOT_FOUND")
    assert hidden["message"].replace(story.notice, "N-NOPE") == missing["message"]


def test_story_revocation_lets_the_gs_restore_and_members_see_again(client: Client, story: Story) -> None:
    reports_before = client.data(NOTIFICATIONS, {}, agency="gs")["statusNotifications"]["totalCount"]
    assert decide(client, "asylum-se", story.application, outcome="REVOKED")["status"] == "REVOKED"
    report = client.data(NOTIFICATIONS, {"r": "SE"}, agency="gs")["statusNotifications"]["edges"][0]["node"]
    assert (report["outcome"], report["application"]["id"]) == ("REVOKED", story.application)
    assert client.data(NOTIFICATIONS, {}, agency="gs")["statusNotifications"]["totalCount"] == reports_before + 1
    # Still blocked until the GS has looked.
    assert story.view(client, "ncb-pt")["notice"] is None
    assert story.view(client, "ncb-az")["notice"]["status"] == "CANCELLED"
    before = story.totals(client)

    restored = client.data(RESTORE_NOTICE, {"id": story.notice, "r": "Reviewed by the General Secretariat"}, agency="gs")
    assert restored["restoreNotice"]["status"] == "PUBLISHED"
    assert client.data(RESTORE_DIFFUSION, {"id": story.diffusion, "r": "Reviewed"}, agency="gs")["restoreDiffusion"]["status"] == "ACTIVE"

    v = story.views(client)
    after = story.totals(client, v)
    assert v["ncb-pt"]["notice"]["status"] == "PUBLISHED" and v["ncb-pt"]["diffusion"]["status"] == "ACTIVE"
    assert v["ncb-pt"]["person"]["id"] == story.x and after["ncb-pt"]["notices"] == 1
    assert after["ncb-pt"]["diffusions"] == before["ncb-pt"]["diffusions"] + 1
    assert v["ncb-az"]["notice"]["status"] == "PUBLISHED" and v["ncb-az"]["diffusion"]["status"] == "ACTIVE"
    assert v["ncb-br"]["notice"] is None and v["ncb-br"]["diffusion"]["id"] == story.diffusion  # R4 still holds
    assert v["ncb-se"]["notice"]["status"] == "PUBLISHED"
    for gs in OVERSIGHT:
        assert v[gs]["notice"]["blocked"] is False and v[gs]["notice"]["blockReason"] is None
        assert v[gs]["asylumApplication"]["status"] == "REVOKED"
    seen = client.data(LINKS, {"z": story.z, "w": story.w, "x": story.x}, agency="ncb-pt")
    assert seen["toW"]["length"] == 2 and seen["toX"]["length"] == 1


def test_story_after_revocation_the_source_may_request_again(client: Client, story: Story) -> None:
    again = request_notice(client, "ncb-az", story.x, type="BLUE", offenceSummary="Locate: witness")
    assert story.view(client, "ncb-az")["notices"]["totalCount"] == 2
    assert client.data("query($id: ID!) { notice(id: $id) { status } }", {"id": again}, agency="ncb-az")["notice"]["status"] == "REQUESTED"


# --- Side stories of the asylum procedure ---------------------------------------------------


@dataclass
class Twin:
    """A person wanted by AM, and the asylum authority of FI's own record of the same identity."""

    family: str
    wanted: str
    notice: str
    own: str


@pytest.fixture(scope="module")
def twin(client: Client) -> Twin:
    family = unique("Petrosyan")
    identity = {"givenNames": "Armen", "dateOfBirth": "1979-09-09", "nationalities": ["AM"]}
    wanted = create_person(client, "ncb-am", family, **identity)
    notice = request_notice(client, "ncb-am", wanted)
    publish(client, notice)
    own = create_person(client, "asylum-fi", family, **identity)
    return Twin(family, wanted, notice, own)


def test_the_feared_country_cannot_target_the_asylum_authoritys_own_record(
    client: Client, seeded: Driver, twin: Twin
) -> None:
    assert client.data(PERSON, {"id": twin.own}, agency="ncb-am")["person"] is None
    missing = assert_refused(client, seeded, REQUEST_NOTICE, {"i": {"personId": "P-NOPE", "type": "RED", "offenceSummary": "x"}},
                             "ncb-am", "NOT_FOUND", operation="requestNotice")  # fmt: skip
    hidden = assert_refused(client, seeded, REQUEST_NOTICE, {"i": {"personId": twin.own, "type": "RED", "offenceSummary": "x"}},
                            "ncb-am", "NOT_FOUND", operation="requestNotice")  # fmt: skip
    assert hidden["message"].replace(twin.own, "P-NOPE") == missing["message"]  # R17
    # The asylum authority's own name screening does find the wanted identity (R11).
    answer = client.data(SCREEN, {"f": twin.family, "g": "Armen", "b": "1979-09-09"}, agency="asylum-fi")["screen"]
    assert twin.notice in {m["reference"] for m in answer["matches"]}


def test_filing_for_the_asylum_authoritys_own_record_screens_the_applicants_identity(client: Client, twin: Twin) -> None:
    application = file_application(client, "asylum-fi", twin.own, "AM", TODAY)
    assert application["screeningResult"] == "HIT"
    assert twin.notice in application["screeningRefs"]


@pytest.fixture(scope="module")
def denial(client: Client) -> Story:
    s = open_story(client, feared="TJ", receiving="NO", third="IE", denied="AR")
    s.application = file_application(client, "asylum-no", s.x, "TJ", TODAY - timedelta(days=3))["id"]
    return s


def test_an_item_requested_while_the_application_is_pending_is_flagged_for_gs_review(client: Client, denial: Story) -> None:
    flag = "query($id: ID!) { notice(id: $id) { reviewFlag } }"
    assert client.data(flag, {"id": denial.notice}, agency="gs")["notice"]["reviewFlag"] is True  # flagged at filing
    later = request_notice(client, "ncb-tj", denial.x, type="BLUE", offenceSummary="Locate: witness")
    assert client.data(flag, {"id": later}, agency="gs")["notice"]["reviewFlag"] is True


def test_a_denial_on_criminal_grounds_blocks_nothing_and_is_reported(client: Client, seeded: Driver, denial: Story) -> None:
    before = denial.totals(client)
    reports_before = client.data(NOTIFICATIONS, {}, agency="gs")["statusNotifications"]["totalCount"]
    decided = decide(client, "asylum-no", denial.application, outcome="DENIED", legalBasis="CONVENTION_1951",
                     deniedOnCriminalGrounds=True)  # fmt: skip
    assert decided["status"] == "DENIED" and decided["deniedOnCriminalGrounds"] is True

    v = denial.views(client)
    assert denial.totals(client, v) == before  # nothing was hidden from anyone
    assert v["ncb-tj"]["notice"]["status"] == "PUBLISHED" and v["ncb-tj"]["notice"]["statusReason"] != GENERIC_BLOCK_REASON
    assert v["ncb-tj"]["diffusion"]["status"] == "ACTIVE" and v["ncb-tj"]["asylumApplication"] is None
    assert v["ncb-ie"]["notice"]["status"] == "PUBLISHED" and v["ncb-ie"]["diffusion"]["status"] == "ACTIVE"
    assert v["ncb-no"]["notice"]["status"] == "PUBLISHED" and v["ncb-no"]["asylumApplication"]["status"] == "DENIED"
    assert v["asylum-no"]["asylumApplication"]["deniedOnCriminalGrounds"] is True
    for gs in OVERSIGHT:
        assert v[gs]["notice"]["blocked"] is False and v[gs]["diffusion"]["blocked"] is False
        report = client.data(NOTIFICATIONS, {"r": "NO"}, agency=gs)["statusNotifications"]["edges"][0]["node"]
        assert report["application"] == {"id": denial.application}
        assert (report["outcome"], report["deniedOnCriminalGrounds"]) == ("DENIED", True)
        assert (report["receivingCountryCode"], report["fearedPersecutionCountryCode"]) == ("NO", "TJ")
    assert client.data(NOTIFICATIONS, {}, agency="gs")["statusNotifications"]["totalCount"] == reports_before + 1
    # Nothing to restore, and the feared country may still act about the person.
    assert_refused(client, seeded, RESTORE_NOTICE, {"id": denial.notice, "r": "x"}, "gs", "CONFLICT",
                   operation="restoreNotice", message="not blocked")  # fmt: skip
    assert diffuse(client, "ncb-tj", denial.x).startswith("D-")
    # A denial is final: it can be neither granted nor revoked afterwards.
    for outcome in ("GRANTED", "REVOKED"):
        assert_refused(client, seeded, DECIDE, {"id": denial.application, "i": {"outcome": outcome, "decidedAt": TODAY.isoformat(),
                       "legalBasis": "CONVENTION_1951"}}, "asylum-no", "CONFLICT", operation="decideAsylumApplication",
                       target=denial.application)  # fmt: skip


def test_the_source_cannot_tell_a_blocked_notice_from_a_cancelled_one_by_cancelling_it(client: Client) -> None:
    s = open_story(client, feared="GE", receiving="DK", third="IE", denied="AR")
    s.application = file_application(client, "asylum-dk", s.x, "GE", TODAY)["id"]
    decide(client, "asylum-dk", s.application, outcome="GRANTED", legalBasis="SUBSIDIARY_PROTECTION")
    other = create_person(client, "ncb-ge", unique("Beridze"))
    cancelled = request_notice(client, "ncb-ge", other)
    publish(client, cancelled)
    client.data(CANCEL_NOTICE, {"id": cancelled, "r": "Subject arrested"}, agency="ncb-ge")
    really = errors(client, CANCEL_NOTICE, {"id": cancelled, "r": "again"}, "ncb-ge")
    assert really["extensions"]["code"] == "CONFLICT"
    assert s.view(client, "ncb-ge")["notice"]["status"] == "CANCELLED"
    blocked = client.post(CANCEL_NOTICE, {"id": s.notice, "r": "again"}, agency="ncb-ge").json()
    assert blocked.get("errors"), blocked
    assert blocked["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert blocked["errors"][0]["message"].replace(s.notice, cancelled) == really["message"]


# --- The notice lifecycle ------------------------------------------------------------------


@pytest.fixture(scope="module")
def uy_person(client: Client) -> str:
    return create_person(client, "ncb-uy", unique("Pereira"), nationalities=["UY"])


def test_a_notice_is_reviewed_once_and_only_by_the_gs(client: Client, seeded: Driver, uy_person: str) -> None:
    notice = request_notice(client, "ncb-uy", uy_person)
    assert_refused(client, seeded, REVIEW_NOTICE, {"id": notice, "d": "PUBLISH"}, "ncb-uy", "FORBIDDEN",
                   operation="reviewNotice", target=notice)  # fmt: skip
    assert_refused(client, seeded, REVIEW_NOTICE, {"id": notice, "d": "PUBLISH"}, "ncb-cl", "NOT_FOUND",
                   operation="reviewNotice", target=notice)  # R5: a requested notice is hidden from others  # fmt: skip
    published = publish(client, notice)
    published_at, expires = (datetime.fromisoformat(published[k]) for k in ("publishedAt", "expiresAt"))
    assert expires - published_at == timedelta(days=NOTICE_LIFETIME_DAYS)  # R14
    for decision in ("PUBLISH", "REFUSE"):
        error = assert_refused(client, seeded, REVIEW_NOTICE, {"id": notice, "d": decision, "r": "again"}, "gs", "CONFLICT",
                               operation="reviewNotice", target=notice)  # fmt: skip
        assert "reviewed already" in error["message"]
    refused = request_notice(client, "ncb-uy", uy_person, type="BLUE")
    data = client.data(REVIEW_NOTICE, {"id": refused, "d": "REFUSE", "r": "Insufficient judicial data"}, agency="gs")
    assert data["reviewNotice"]["status"] == "REFUSED"
    assert client.data("query($id: ID!) { notice(id: $id) { id } }", {"id": refused}, agency="ncb-cl")["notice"] is None


def test_a_third_ncb_cannot_cancel_and_the_answer_depends_on_what_it_sees(client: Client, seeded: Driver, uy_person: str) -> None:
    requested = request_notice(client, "ncb-uy", uy_person)
    missing = assert_refused(client, seeded, CANCEL_NOTICE, {"id": "N-NOPE", "r": "x"}, "ncb-cl", "NOT_FOUND",
                             operation="cancelNotice")  # fmt: skip
    hidden = assert_refused(client, seeded, CANCEL_NOTICE, {"id": requested, "r": "x"}, "ncb-cl", "NOT_FOUND",
                            operation="cancelNotice", target=requested)  # fmt: skip
    assert hidden["message"].replace(requested, "N-NOPE") == missing["message"]  # R17
    publish(client, requested)
    assert_refused(client, seeded, CANCEL_NOTICE, {"id": requested, "r": "x"}, "ncb-cl", "FORBIDDEN",
                   operation="cancelNotice", target=requested)  # fmt: skip
    assert_refused(client, seeded, CANCEL_NOTICE, {"id": requested, "r": "x"}, "police-uy", "FORBIDDEN",
                   operation="cancelNotice", target=requested)  # only the NCB is the source (R3)  # fmt: skip
    assert_refused(client, seeded, CANCEL_NOTICE, {"id": requested, "r": "  "}, "ncb-uy", "BAD_USER_INPUT",
                   operation="cancelNotice", target=requested)  # fmt: skip
    data = client.data(CANCEL_NOTICE, {"id": requested, "r": "Subject arrested"}, agency="ncb-uy")
    assert data["cancelNotice"] == {"id": requested, "status": "CANCELLED", "statusReason": "Subject arrested"}
    assert client.data("query($id: ID!) { notice(id: $id) { id } }", {"id": requested}, agency="ncb-cl")["notice"] is None
    assert_refused(client, seeded, CANCEL_NOTICE, {"id": requested, "r": "again"}, "ncb-uy", "CONFLICT",
                   operation="cancelNotice", target=requested)  # fmt: skip
    by_gs = request_notice(client, "ncb-uy", uy_person)
    publish(client, by_gs)
    assert client.data(CANCEL_NOTICE, {"id": by_gs, "r": "Rules"}, agency="gs")["cancelNotice"]["status"] == "CANCELLED"


def _due_ids(client: Client, agency: str) -> tuple[int, set[str]]:
    ids: set[str] = set()
    after, total = None, 0
    while True:
        page = client.data(DUE, {"after": after}, agency=agency)["noticesDueForReview"]
        total = page["totalCount"]
        ids |= {e["node"]["id"] for e in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            return total, ids
        after = page["pageInfo"]["endCursor"]


def test_a_notice_is_extended_only_by_its_source_in_its_review_window(client: Client, seeded: Driver, uy_person: str) -> None:
    notice = request_notice(client, "ncb-uy", uy_person)
    published = publish(client, notice)
    error = assert_refused(client, seeded, EXTEND_NOTICE, {"id": notice, "r": "Still wanted"}, "ncb-uy", "CONFLICT",
                           operation="extendNotice", target=notice)  # fmt: skip
    assert "review window" in error["message"]
    due_before = {agency: _due_ids(client, agency) for agency in ("ncb-uy", "ncb-cl", "gs")}
    assert notice not in due_before["ncb-uy"][1]

    # Time passes: the review window opens.
    seeded.execute_query("MATCH (n:Notice {id: $id}) SET n.reviewDueAt = datetime() - duration({days: 1})", id=notice)
    total, ids = _due_ids(client, "ncb-uy")
    assert notice in ids and total == due_before["ncb-uy"][0] + 1
    assert _due_ids(client, "ncb-cl") == due_before["ncb-cl"] and _due_ids(client, "gs") == due_before["gs"]
    assert _due_ids(client, "police-uy")[0] == 0  # only an NCB is a source
    assert_refused(client, seeded, EXTEND_NOTICE, {"id": notice, "r": "Still wanted"}, "ncb-cl", "FORBIDDEN",
                   operation="extendNotice", target=notice)  # fmt: skip
    assert_refused(client, seeded, EXTEND_NOTICE, {"id": notice, "r": "Still wanted"}, "gs", "FORBIDDEN",
                   operation="extendNotice", target=notice)  # fmt: skip
    assert_refused(client, seeded, EXTEND_NOTICE, {"id": notice, "r": ""}, "ncb-uy", "BAD_USER_INPUT",
                   operation="extendNotice", target=notice)  # fmt: skip

    extended = client.data(EXTEND_NOTICE, {"id": notice, "r": "Trial pending"}, agency="ncb-uy")["extendNotice"]
    old_expiry = datetime.fromisoformat(published["expiresAt"])
    new_expiry = datetime.fromisoformat(extended["expiresAt"])
    assert new_expiry - old_expiry == timedelta(days=NOTICE_LIFETIME_DAYS)
    assert datetime.fromisoformat(extended["reviewDueAt"]) > datetime.fromisoformat(published["reviewDueAt"])
    assert notice not in _due_ids(client, "ncb-uy")[1]
    assert_refused(client, seeded, EXTEND_NOTICE, {"id": notice, "r": "Again"}, "ncb-uy", "CONFLICT",
                   operation="extendNotice", target=notice)  # fmt: skip


def test_only_the_source_restricts_its_notice(client: Client, seeded: Driver, uy_person: str) -> None:
    notice = request_notice(client, "ncb-uy", uy_person)
    publish(client, notice)
    seen = "query($id: ID!) { notice(id: $id) { id allowCountries } }"
    assert client.data(seen, {"id": notice}, agency="ncb-ec")["notice"] == {"id": notice, "allowCountries": None}
    data = client.data(SET_RESTRICTIONS, {"id": notice, "allow": ["CL"]}, agency="ncb-uy")["setRestrictions"]
    assert data == {"id": notice, "allowCountries": ["CL"], "denyCountries": []}
    assert client.data(seen, {"id": notice}, agency="ncb-cl")["notice"]["id"] == notice
    assert client.data(seen, {"id": notice}, agency="ncb-ec")["notice"] is None  # R4
    assert_refused(client, seeded, SET_RESTRICTIONS, {"id": notice, "allow": []}, "ncb-cl", "FORBIDDEN",
                   operation="setRestrictions", target=notice)  # fmt: skip
    assert_refused(client, seeded, SET_RESTRICTIONS, {"id": notice, "allow": []}, "gs", "FORBIDDEN",
                   operation="setRestrictions", target=notice)  # fmt: skip
    assert_refused(client, seeded, SET_RESTRICTIONS, {"id": notice, "allow": []}, "ncb-ec", "NOT_FOUND",
                   operation="setRestrictions", target=notice)  # fmt: skip
    assert_refused(client, seeded, SET_RESTRICTIONS, {"id": notice, "allow": ["CL"], "deny": ["EC"]}, "ncb-uy",
                   "BAD_USER_INPUT", operation="setRestrictions", target=notice)  # fmt: skip
    assert_refused(client, seeded, SET_RESTRICTIONS, {"id": notice, "deny": ["UY"]}, "ncb-uy", "BAD_USER_INPUT",
                   operation="setRestrictions", target=notice)  # fmt: skip
    client.data(SET_RESTRICTIONS, {"id": notice, "deny": ["CL"]}, agency="ncb-uy")
    assert client.data(seen, {"id": notice}, agency="ncb-cl")["notice"] is None
    assert client.data(seen, {"id": notice}, agency="ncb-ec")["notice"]["id"] == notice


def test_a_diffusion_is_reviewed_once_by_the_gs(client: Client, seeded: Driver, uy_person: str) -> None:
    diffusion = diffuse(client, "ncb-uy", uy_person)
    assert_refused(client, seeded, REVIEW_DIFFUSION, {"id": diffusion, "d": "CONFIRM"}, "ncb-uy", "FORBIDDEN",
                   operation="reviewDiffusion", target=diffusion)  # fmt: skip
    assert_refused(client, seeded, REVIEW_DIFFUSION, {"id": diffusion, "d": "CANCEL"}, "gs", "BAD_USER_INPUT",
                   operation="reviewDiffusion", target=diffusion)  # a cancellation needs a reason  # fmt: skip
    data = client.data(REVIEW_DIFFUSION, {"id": diffusion, "d": "CONFIRM"}, agency="gs")["reviewDiffusion"]
    assert data == {"id": diffusion, "status": "ACTIVE", "subjectToReview": False}
    assert_refused(client, seeded, REVIEW_DIFFUSION, {"id": diffusion, "d": "CANCEL", "r": "x"}, "gs", "CONFLICT",
                   operation="reviewDiffusion", target=diffusion)  # fmt: skip


# --- Bad input, wrong callers, hidden targets ----------------------------------------------


@dataclass
class World:
    fr_shared: str  # recorded by ncb-fr, visible to DE through a published notice
    fr_hidden: str  # recorded by ncb-fr, no notice: invisible to DE
    notice: str  # published, by FR
    requested: str  # requested, by FR
    dk_applicant: str  # recorded by asylum-dk
    pending: str  # DK application, lodged ten days ago
    lodged: date


@pytest.fixture(scope="module")
def world(client: Client) -> World:
    shared = create_person(client, "ncb-fr", unique("Laurent"), dateOfBirth="1970-01-01")
    hidden = create_person(client, "ncb-fr", unique("Girard"))
    notice = request_notice(client, "ncb-fr", shared)
    publish(client, notice)
    requested = request_notice(client, "ncb-fr", shared, type="BLUE")
    applicant = create_person(client, "asylum-dk", unique("Tesfaye"), nationalities=["ER"])
    lodged = TODAY - timedelta(days=10)
    pending = file_application(client, "asylum-dk", applicant, "ER", lodged)["id"]
    return World(shared, hidden, notice, requested, applicant, pending, lodged)


def _codes(n: int) -> list[str]:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return [a + b for a in letters for b in letters][:n]


def _cases(w: World) -> list[tuple[str, str, dict[str, Any], str, str, str | None]]:
    """(name, query, variables, caller, expected code, target id) of refused mutations that reach the workflow."""
    today, future = TODAY.isoformat(), (TODAY + timedelta(days=1)).isoformat()
    notice = {"personId": w.fr_shared, "type": "RED", "offenceSummary": "Wanted"}
    app = {"personId": w.dk_applicant, "fearedPersecutionCountry": "ER", "lodgedAt": today}
    return [
        ("createPerson unknown nationality", CREATE_PERSON, {"i": {"familyName": "A", "nationalities": ["XX"]}}, "ncb-fr", "BAD_USER_INPUT", None),
        ("createPerson malformed nationality", CREATE_PERSON, {"i": {"familyName": "A", "nationalities": ["France"]}}, "ncb-fr", "BAD_USER_INPUT", None),
        ("createPerson born in the future", CREATE_PERSON, {"i": {"familyName": "A", "dateOfBirth": future}}, "ncb-fr", "BAD_USER_INPUT", None),
        ("createPerson blank family name", CREATE_PERSON, {"i": {"familyName": "   "}}, "ncb-fr", "BAD_USER_INPUT", None),
        ("createPerson family name too long", CREATE_PERSON, {"i": {"familyName": "A" * 201}}, "ncb-fr", "BAD_USER_INPUT", None),
        ("createPerson 51 aliases", CREATE_PERSON, {"i": {"familyName": "A", "aliases": [f"a{i}" for i in range(51)]}}, "ncb-fr", "BAD_USER_INPUT", None),
        ("createPerson by a border authority", CREATE_PERSON, {"i": {"familyName": "A"}}, "border-fr", "FORBIDDEN", None),
        ("updatePerson by another country's NCB", UPDATE_PERSON, {"id": w.fr_shared, "i": {"familyName": "B"}}, "ncb-de", "FORBIDDEN", w.fr_shared),
        ("updatePerson by another agency of the country", UPDATE_PERSON, {"id": w.fr_shared, "i": {"familyName": "B"}}, "police-fr", "FORBIDDEN", w.fr_shared),
        ("updatePerson of a hidden person", UPDATE_PERSON, {"id": w.fr_hidden, "i": {"familyName": "B"}}, "ncb-de", "NOT_FOUND", w.fr_hidden),
        ("updatePerson born in the future", UPDATE_PERSON, {"id": w.fr_shared, "i": {"dateOfBirth": future}}, "ncb-fr", "BAD_USER_INPUT", w.fr_shared),
        ("addTravelDocument blank number", ADD_DOCUMENT, {"p": w.fr_shared, "i": {"number": " ", "type": "PASSPORT"}}, "ncb-fr", "BAD_USER_INPUT", w.fr_shared),
        ("addTravelDocument by a border authority", ADD_DOCUMENT, {"p": w.fr_shared, "i": {"number": "B1", "type": "PASSPORT"}}, "border-fr", "NOT_FOUND", w.fr_shared),
        ("linkPersons to itself", LINK, {"a": w.fr_shared, "b": w.fr_shared, "k": "FAMILY"}, "ncb-fr", "BAD_USER_INPUT", w.fr_shared),
        ("linkPersons to a hidden person", LINK, {"a": w.fr_shared, "b": w.fr_hidden, "k": "FAMILY"}, "ncb-de", "NOT_FOUND", w.fr_shared),
        ("linkPersons by a border authority", LINK, {"a": w.fr_shared, "b": w.fr_hidden, "k": "FAMILY"}, "border-fr", "FORBIDDEN", w.fr_shared),
        ("requestNotice 300 allowed countries", REQUEST_NOTICE, {"i": {**notice, "allowCountries": _codes(300)}}, "ncb-fr", "BAD_USER_INPUT", w.fr_shared),
        ("requestNotice unknown allowed country", REQUEST_NOTICE, {"i": {**notice, "allowCountries": ["XX"]}}, "ncb-fr", "BAD_USER_INPUT", w.fr_shared),
        ("requestNotice allow and deny", REQUEST_NOTICE, {"i": {**notice, "allowCountries": ["DE"], "denyCountries": ["IT"]}}, "ncb-fr", "BAD_USER_INPUT", w.fr_shared),
        ("requestNotice denying the source", REQUEST_NOTICE, {"i": {**notice, "denyCountries": ["FR"]}}, "ncb-fr", "BAD_USER_INPUT", w.fr_shared),
        ("requestNotice empty offence", REQUEST_NOTICE, {"i": {**notice, "offenceSummary": ""}}, "ncb-fr", "BAD_USER_INPUT", w.fr_shared),
        ("requestNotice offence too long", REQUEST_NOTICE, {"i": {**notice, "offenceSummary": "x" * 2001}}, "ncb-fr", "BAD_USER_INPUT", w.fr_shared),
        ("requestNotice by a police entity", REQUEST_NOTICE, {"i": notice}, "police-fr", "FORBIDDEN", w.fr_shared),
        ("requestNotice by the GS", REQUEST_NOTICE, {"i": notice}, "gs", "FORBIDDEN", w.fr_shared),
        ("requestNotice about a missing person", REQUEST_NOTICE, {"i": {**notice, "personId": "P-NOPE"}}, "ncb-fr", "NOT_FOUND", None),
        ("reviewNotice refusal without reason", REVIEW_NOTICE, {"id": w.requested, "d": "REFUSE"}, "gs", "BAD_USER_INPUT", w.requested),
        ("reviewNotice refusal with blank reason", REVIEW_NOTICE, {"id": w.requested, "d": "REFUSE", "r": " "}, "gs", "BAD_USER_INPUT", w.requested),
        ("cancelNotice empty reason", CANCEL_NOTICE, {"id": w.notice, "r": ""}, "ncb-fr", "BAD_USER_INPUT", w.notice),
        ("extendNotice by the CCF", EXTEND_NOTICE, {"id": w.notice, "r": "x"}, "ccf", "FORBIDDEN", w.notice),
        ("issueDiffusion no recipients", ISSUE_DIFFUSION, {"i": {"personId": w.fr_shared, "purpose": "LOCATE"}}, "ncb-fr", "BAD_USER_INPUT", w.fr_shared),
        ("issueDiffusion recipients and all", ISSUE_DIFFUSION, {"i": {"personId": w.fr_shared, "purpose": "LOCATE", "recipients": ["DE"], "toAllMembers": True}}, "ncb-fr", "BAD_USER_INPUT", w.fr_shared),
        ("issueDiffusion to itself", ISSUE_DIFFUSION, {"i": {"personId": w.fr_shared, "purpose": "LOCATE", "recipients": ["FR"]}}, "ncb-fr", "BAD_USER_INPUT", w.fr_shared),
        ("issueDiffusion unknown recipient", ISSUE_DIFFUSION, {"i": {"personId": w.fr_shared, "purpose": "LOCATE", "recipients": ["XX"]}}, "ncb-fr", "BAD_USER_INPUT", w.fr_shared),
        ("issueDiffusion by a judicial entity", ISSUE_DIFFUSION, {"i": {"personId": w.fr_shared, "purpose": "LOCATE", "toAllMembers": True}}, "judicial-fr", "FORBIDDEN", w.fr_shared),
        ("fileAsylumApplication feared == receiving", FILE_APPLICATION, {"i": {**app, "fearedPersecutionCountry": "DK"}}, "asylum-dk", "BAD_USER_INPUT", w.dk_applicant),
        ("fileAsylumApplication unknown feared country", FILE_APPLICATION, {"i": {**app, "fearedPersecutionCountry": "XX"}}, "asylum-dk", "BAD_USER_INPUT", w.dk_applicant),
        ("fileAsylumApplication malformed feared country", FILE_APPLICATION, {"i": {**app, "fearedPersecutionCountry": "Eritrea"}}, "asylum-dk", "BAD_USER_INPUT", w.dk_applicant),
        ("fileAsylumApplication lodged in the future", FILE_APPLICATION, {"i": {**app, "lodgedAt": future}}, "asylum-dk", "BAD_USER_INPUT", w.dk_applicant),
        ("fileAsylumApplication by a border authority", FILE_APPLICATION, {"i": app}, "border-dk", "FORBIDDEN", w.dk_applicant),
        ("fileAsylumApplication by an NCB", FILE_APPLICATION, {"i": app}, "ncb-dk", "FORBIDDEN", w.dk_applicant),
        ("fileAsylumApplication for a missing person", FILE_APPLICATION, {"i": {**app, "personId": "P-NOPE"}}, "asylum-dk", "NOT_FOUND", None),
        ("decideAsylumApplication before lodging", DECIDE, {"id": w.pending, "i": {"outcome": "DENIED", "decidedAt": (w.lodged - timedelta(days=1)).isoformat()}}, "asylum-dk", "BAD_USER_INPUT", w.pending),
        ("decideAsylumApplication in the future", DECIDE, {"id": w.pending, "i": {"outcome": "DENIED", "decidedAt": future}}, "asylum-dk", "BAD_USER_INPUT", w.pending),
        ("decideAsylumApplication grant without legal basis", DECIDE, {"id": w.pending, "i": {"outcome": "GRANTED", "decidedAt": today}}, "asylum-dk", "BAD_USER_INPUT", w.pending),
        ("decideAsylumApplication grant on criminal grounds", DECIDE, {"id": w.pending, "i": {"outcome": "GRANTED", "decidedAt": today, "legalBasis": "OTHER", "deniedOnCriminalGrounds": True}}, "asylum-dk", "BAD_USER_INPUT", w.pending),
        ("decideAsylumApplication revoke a pending application", DECIDE, {"id": w.pending, "i": {"outcome": "REVOKED", "decidedAt": today}}, "asylum-dk", "CONFLICT", w.pending),
        ("decideAsylumApplication back to pending", DECIDE, {"id": w.pending, "i": {"outcome": "PENDING", "decidedAt": today}}, "asylum-dk", "CONFLICT", w.pending),
        ("decideAsylumApplication by the receiving NCB", DECIDE, {"id": w.pending, "i": {"outcome": "DENIED", "decidedAt": today}}, "ncb-dk", "FORBIDDEN", w.pending),
        ("decideAsylumApplication by the GS", DECIDE, {"id": w.pending, "i": {"outcome": "DENIED", "decidedAt": today}}, "gs", "FORBIDDEN", w.pending),
        ("decideAsylumApplication by another asylum authority", DECIDE, {"id": w.pending, "i": {"outcome": "DENIED", "decidedAt": today}}, "asylum-se", "NOT_FOUND", w.pending),
        ("decideAsylumApplication by the feared country's asylum authority", DECIDE, {"id": w.pending, "i": {"outcome": "DENIED", "decidedAt": today}}, "asylum-er", "NOT_FOUND", w.pending),
    ]  # fmt: skip


CASE_NAMES = [c[0] for c in _cases(World("", "", "", "", "", "", TODAY))]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_a_refused_mutation_writes_nothing_and_is_audited(client: Client, seeded: Driver, world: World, name: str) -> None:
    _, query, variables, agency, code, target = next(c for c in _cases(world) if c[0] == name)
    operation = name.split(" ")[0]
    assert_refused(client, seeded, query, variables, agency, code, operation=operation, target=target)


def test_the_fixtures_of_the_refusals_are_what_the_cases_assume(client: Client, world: World) -> None:
    """The FORBIDDEN/NOT_FOUND cases above rest on these visibilities."""
    assert client.data(PERSON, {"id": world.fr_shared}, agency="ncb-de")["person"] is not None
    assert client.data(PERSON, {"id": world.fr_hidden}, agency="ncb-de")["person"] is None
    application = "query($id: ID!) { asylumApplication(id: $id) { status } }"
    assert client.data(application, {"id": world.pending}, agency="ncb-dk")["asylumApplication"]["status"] == "PENDING"
    assert client.data(application, {"id": world.pending}, agency="asylum-se")["asylumApplication"] is None


def test_a_decision_on_a_hidden_application_reads_like_one_on_a_missing_application(
    client: Client, seeded: Driver, world: World
) -> None:
    decision = {"outcome": "DENIED", "decidedAt": TODAY.isoformat()}
    missing = assert_refused(client, seeded, DECIDE, {"id": "A-000000000000", "i": decision}, "asylum-se", "NOT_FOUND",
                             operation="decideAsylumApplication")  # fmt: skip
    hidden = assert_refused(client, seeded, DECIDE, {"id": world.pending, "i": decision}, "asylum-se", "NOT_FOUND",
                            operation="decideAsylumApplication", target=world.pending)  # fmt: skip
    assert hidden["message"].replace(world.pending, "A-000000000000") == missing["message"]
    assert set(hidden) == set(missing) and hidden["extensions"] == missing["extensions"]
    assert last_audit(client, "asylum-se")["ids"] == [f"AsylumApplication:{world.pending}"]  # the attempt names its target


MUTATIONS = {
    "createPerson": (CREATE_PERSON, {"i": {"familyName": "Anon"}}),
    "updatePerson": (UPDATE_PERSON, {"id": "P-X", "i": {"familyName": "Anon"}}),
    "addTravelDocument": (ADD_DOCUMENT, {"p": "P-X", "i": {"number": "1", "type": "PASSPORT"}}),
    "linkPersons": (LINK, {"a": "P-X", "b": "P-Y", "k": "FAMILY"}),
    "requestNotice": (REQUEST_NOTICE, {"i": {"personId": "P-X", "type": "RED", "offenceSummary": "x"}}),
    "reviewNotice": (REVIEW_NOTICE, {"id": "N-X", "d": "PUBLISH"}),
    "cancelNotice": (CANCEL_NOTICE, {"id": "N-X", "r": "x"}),
    "extendNotice": (EXTEND_NOTICE, {"id": "N-X", "r": "x"}),
    "setRestrictions": (SET_RESTRICTIONS, {"id": "N-X", "allow": ["FR"]}),
    "restoreNotice": (RESTORE_NOTICE, {"id": "N-X", "r": "x"}),
    "issueDiffusion": (ISSUE_DIFFUSION, {"i": {"personId": "P-X", "purpose": "ALERT", "toAllMembers": True}}),
    "reviewDiffusion": (REVIEW_DIFFUSION, {"id": "D-X", "d": "CONFIRM"}),
    "restoreDiffusion": (RESTORE_DIFFUSION, {"id": "D-X", "r": "x"}),
    "fileAsylumApplication": (FILE_APPLICATION, {"i": {"personId": "P-X", "fearedPersecutionCountry": "SY", "lodgedAt": "2026-01-01"}}),
    "decideAsylumApplication": (DECIDE, {"id": "A-X", "i": {"outcome": "DENIED", "decidedAt": "2026-01-01"}}),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_the_public_cannot_write(client: Client, seeded: Driver, name: str) -> None:
    query, variables = MUTATIONS[name]
    assert_refused(client, seeded, query, variables, None, "UNAUTHENTICATED")


@pytest.mark.parametrize(
    ("name", "variables"),
    [
        ("missing familyName", {"i": {"givenNames": "A"}}),
        ("impossible date", {"i": {"familyName": "A", "dateOfBirth": "1990-02-30"}}),
        ("unknown sex", {"i": {"familyName": "A", "sex": "UNSPECIFIED"}}),
        ("nationalities not a list of strings", {"i": {"familyName": "A", "nationalities": [1, 2]}}),
    ],
)
def test_malformed_input_is_refused_before_the_workflow(client: Client, seeded: Driver, name: str, variables: dict[str, Any]) -> None:
    assert_refused(client, seeded, CREATE_PERSON, variables, "ncb-fr", "BAD_USER_INPUT")


def test_a_write_without_purpose_is_refused_writes_nothing_and_is_audited(client: Client, seeded: Driver) -> None:
    assert_refused(client, seeded, CREATE_PERSON, {"i": {"familyName": "A"}}, "ncb-mx", "PURPOSE_REQUIRED",
                   operation="createPerson", purpose=None)  # fmt: skip


def test_a_write_without_purpose_is_refused_and_writes_nothing(client: Client, seeded: Driver) -> None:
    assert_refused(client, seeded, CREATE_PERSON, {"i": {"familyName": "A"}}, "ncb-mx", "PURPOSE_REQUIRED", purpose=None)


# --- Idempotent retries ---------------------------------------------------------------------


def _persons(driver: Driver) -> int:
    return int(driver.execute_query("MATCH (p:Person) RETURN count(p) AS c").records[0]["c"])


@pytest.fixture
def key() -> Iterator[str]:
    yield "retry-" + uuid.uuid4().hex


def test_a_retry_with_the_same_key_and_input_returns_the_first_result(client: Client, seeded: Driver, key: str) -> None:
    person = {"familyName": unique("Retry"), "nationalities": ["MX"]}
    before = _persons(seeded)
    first = client.data(CREATE_PERSON, {"i": person, "k": key}, agency="ncb-mx")["createPerson"]["id"]
    assert _persons(seeded) == before + 1
    size = graph_size(seeded)
    again = client.data(CREATE_PERSON, {"i": person, "k": key}, agency="ncb-mx")["createPerson"]["id"]
    assert again == first and graph_size(seeded) == size
    assert last_audit(client, "ncb-mx")["outcome"] == "REPLAY"
    # Field order in the input does not make it another request.
    reordered = {"nationalities": ["MX"], "familyName": person["familyName"]}
    assert client.data(CREATE_PERSON, {"i": reordered, "k": key}, agency="ncb-mx")["createPerson"]["id"] == first
    assert graph_size(seeded) == size


def test_a_retry_spelt_inline_instead_of_through_variables_returns_the_first_result(
    client: Client, seeded: Driver, key: str
) -> None:
    family = unique("Inline")
    first = client.data(CREATE_PERSON, {"i": {"familyName": family}, "k": key}, agency="ncb-mx")["createPerson"]["id"]
    size = graph_size(seeded)
    body = client.post(
        f'mutation {{ createPerson(input: {{familyName: "{family}"}}, idempotencyKey: "{key}") {{ id }} }}',
        agency="ncb-mx",
    ).json()
    assert graph_size(seeded) == size
    assert body.get("errors") is None, body["errors"]
    assert body["data"]["createPerson"]["id"] == first


def test_a_key_reused_with_another_input_is_a_conflict(client: Client, seeded: Driver, key: str) -> None:
    first = client.data(CREATE_PERSON, {"i": {"familyName": unique("Retry")}, "k": key}, agency="ncb-mx")["createPerson"]["id"]
    assert_refused(client, seeded, CREATE_PERSON, {"i": {"familyName": unique("Other")}, "k": key}, "ncb-mx", "CONFLICT",
                   operation="createPerson", target=first)  # fmt: skip
    # A key is the caller's own: another agency's use of it is another request.
    other = client.data(CREATE_PERSON, {"i": {"familyName": "Same"}, "k": key}, agency="ncb-gt")["createPerson"]["id"]
    assert other != first


def test_a_key_reused_on_another_mutation_is_another_request(client: Client, seeded: Driver, key: str) -> None:
    person = create_person(client, "ncb-mx", unique("Keyed"))
    variables = {"i": {"personId": person, "type": "YELLOW", "offenceSummary": "Missing person"}, "k": key}
    first = client.data(REQUEST_NOTICE, variables, agency="ncb-mx")["requestNotice"]["id"]
    notices = notice_ids_about(seeded, person)
    assert client.data(REQUEST_NOTICE, variables, agency="ncb-mx")["requestNotice"]["id"] == first
    assert notice_ids_about(seeded, person) == notices == {first}
    assert client.data(CREATE_PERSON, {"i": {"familyName": "Keyed"}, "k": key}, agency="ncb-mx")["createPerson"]["id"] != first
