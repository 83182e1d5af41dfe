"""The workflows behind the mutations: notices, diffusions, persons and the asylum procedure.

Each function runs inside the one write transaction that the mutation opens, loads the
record it changes with a write lock (so that two racing decisions are serialised and the
loser sees the winner's state), asks ``gateway.policy`` whether the caller may act, checks
the record's state, writes, and returns the ids it wrote. Raising rolls everything back.
A record the caller may not see is reported exactly like a missing one (R17).

Every write that changes what some caller is shown of a notice or diffusion (its status,
its visibility) sets ``changedAt``, which live alerts poll for (``gateway.graphql.alerts``);
changes only the GS and the CCF see (review flags) do not, so that an alert never tells
anyone else that something invisible to it happened (R7, R8).

Decisions about one person (a new notice or diffusion, a filing, an asylum decision, a
publication or confirmation, a restore, a link) also hold that person's write lock, so R8
cannot fall between two racing transactions. Locks are always taken in one order:
application, then persons (by id), then the notice or diffusion.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import strawberry
from neo4j import AsyncManagedTransaction

from gateway.cypher.compiler import Compiler, country_code
from gateway.cypher.screening import Identity, screening_candidates, store_name_keys
from gateway.errors import Code, GatewayError
from gateway.rules import policy
from gateway.rules.caller import Caller
from gateway.store.identity import detect as detect_identities
from graph_schema.model import (
    GENERIC_BLOCK_REASON,
    NOTICE_LIFETIME_DAYS,
    REFUGEE_BLOCK_REASON,
    REVIEW_WINDOW_DAYS,
    ApplicationStatus,
    NoticeStatus,
)

MAX_TEXT = 2_000
MAX_NAME = 200
MAX_COUNTRIES = 250


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12].upper()}"


def bad_input(field: str, problem: str) -> GatewayError:
    return GatewayError(Code.BAD_USER_INPUT, f"{field}: {problem}", field=field)


def forbidden(message: str) -> GatewayError:
    return GatewayError(Code.FORBIDDEN, message)


def conflict(message: str) -> GatewayError:
    return GatewayError(Code.CONFLICT, message)


def not_found(label: str, id_: str) -> GatewayError:
    return GatewayError(Code.NOT_FOUND, f"no {label} {id_!r}")


def text(value: str | None, field: str, required: bool = False, limit: int = MAX_TEXT) -> str | None:
    if value is None or not value.strip():
        if required:
            raise bad_input(field, "is required")
        return None
    if len(value) > limit:
        raise bad_input(field, f"is longer than {limit} characters")
    return value.strip()


@dataclass
class Work:
    """What a workflow needs: its transaction and its caller."""

    tx: AsyncManagedTransaction
    caller: Caller
    schema: strawberry.Schema  # for statements compiled inside the workflow

    async def rows(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        result = await self.tx.run(cypher, {**policy.parameters(self.caller), **params})
        return [r.data() async for r in result]

    async def locked(self, label: str, id_: str) -> dict[str, Any]:
        """The record, write-locked and its version bumped, or NOT_FOUND if absent or hidden."""
        visible = policy.visible(self.caller, label, "v")
        rows = await self.rows(
            f"MATCH (v:{label} {{id: $id}}) WHERE {visible} "
            "SET v.version = coalesce(v.version, 0) + 1 RETURN properties(v) AS v",
            id=id_,
        )
        if not rows:
            raise not_found(label, id_)
        return rows[0]["v"]  # type: ignore[no-any-return]

    async def lock_persons(self, *ids: str) -> None:
        """Write-lock persons until the transaction ends, in id order so that two transactions
        locking the same pair cannot deadlock. Everything decided about a person (a new notice
        or diffusion, a grant, a publication, a restore, a link) holds its lock, so such
        decisions are serialised and the later one sees the earlier one's effect. Setting and
        removing a property takes the lock and leaves no trace (no version bump a reader could
        notice)."""
        for id_ in sorted(set(ids)):
            await self.rows("MATCH (p:Person {id: $id}) SET p._lock = true REMOVE p._lock", id=id_)

    async def locked_item(self, label: str, id_: str) -> tuple[dict[str, Any], str | None]:
        """A notice or diffusion, write-locked after the person it concerns (persons before
        items, the order every workflow takes, so that no two transactions deadlock), and
        that person's id. NOT_FOUND if absent or hidden, as ``locked``."""
        visible = policy.visible(self.caller, label, "v")
        subject = await self.rows(
            f"MATCH (v:{label} {{id: $id}})-[:CONCERNS]->(p:Person) WHERE {visible} RETURN p.id AS id", id=id_
        )
        person = subject[0]["id"] if subject else None
        if person is not None:
            await self.lock_persons(person)
        return await self.locked(label, id_), person

    async def visible_person(self, id_: str, viewer: Caller | None = None) -> None:
        visible = policy.visible(viewer or self.caller, "Person", "v")
        rows = await self.rows(f"MATCH (v:Person {{id: $id}}) WHERE {visible} RETURN v.id AS id", id=id_)
        if not rows:
            raise not_found("Person", id_)

    async def countries(self, codes: list[str] | None, field: str) -> list[str]:
        codes = list(dict.fromkeys(codes or []))
        if len(codes) > MAX_COUNTRIES:
            raise bad_input(field, f"lists more than {MAX_COUNTRIES} countries")
        for code in codes:
            country_code(code, field)
        if codes:
            known = await self.rows(
                "MATCH (c:Country) WHERE c.code IN $codes RETURN c.code AS code", codes=codes
            )
            missing = sorted(set(codes) - {r["code"] for r in known})
            if missing:
                raise bad_input(field, f"unknown country codes {missing}")
        return codes

    async def protection(self, person_id: str, country: str | None = None) -> tuple[bool, bool]:
        """R8, for an item from ``country`` (by default the caller's) about this person:
        (refused, review). Refused when the person holds protection against that country;
        for the GS's review when a decision on such protection is pending, or when the record
        may be the same person as an applicant whose screening found it. Read under the
        person's lock (``lock_persons``), so a racing grant is either seen or waits."""
        rows = await self.rows(
            "MATCH (a:AsylumApplication) WHERE a.fearedCountry = $country AND a.status IN ['PENDING', 'GRANTED'] "
            "WITH a, EXISTS { (:Person {id: $id})-[:APPLIED_FOR]->(a) } AS own, "
            "EXISTS { MATCH (x)-[:CONCERNS]->(:Person {id: $id}) WHERE x.id IN coalesce(a.screeningRefs, []) } AS matched "
            "RETURN coalesce(max(own AND a.status = 'GRANTED'), false) AS refused, "
            "coalesce(max((own AND a.status = 'PENDING') OR matched), false) AS review",
            id=person_id, **({"country": country} if country is not None else {}),
        )  # fmt: skip
        return bool(rows[0]["refused"]), bool(rows[0]["review"])


# R8: what an application protects against. Blocking takes only the feared country's items
# on the applicant's own record; items its screening found on other records (a match by
# name and date of birth, which may be someone else) go to the GS for review instead.
_ABOUT_APPLICANT = (
    "MATCH (a)<-[:APPLIED_FOR]-(:Person)<-[:CONCERNS]-(x) WHERE x:Notice OR x:Diffusion RETURN x"
)
_SCREENING_FOUND = (
    "MATCH (x:Notice) WHERE x.id IN coalesce(a.screeningRefs, []) RETURN x "
    "UNION MATCH (x:Diffusion) WHERE x.id IN coalesce(a.screeningRefs, []) RETURN x"
)


def _from_feared_country(*branches: str) -> str:
    """Rows ``a, x``: the feared country's items among those the branches find for ``a``."""
    return "CALL (a) { " + " UNION ".join(branches) + " } WITH a, x WHERE x.sourceCountry = a.fearedCountry "


_ON_APPLICANT = _from_feared_country(_ABOUT_APPLICANT)
_FOUND_BY_SCREENING = _from_feared_country(_ABOUT_APPLICANT, _SCREENING_FOUND)


def _restrictions(allow: list[str], deny: list[str], source: str | None) -> None:
    if allow and deny:
        raise bad_input("allowCountries", "give an allow list or a deny list, not both")
    if source and source in deny:
        raise bad_input("denyCountries", "cannot deny the source country")


# --- Notices (R3, R5, R8, R14) -----------------------------------------------------------


async def _new_request(w: Work, inp: Any, what: str) -> tuple[list[str], list[str], bool]:
    """What every new notice or diffusion passes: an NCB, a person it sees, no protection
    against its country (R8, refused with the generic reason), valid restrictions (R4).
    Returns the restrictions and whether the new item needs the GS's review (R8)."""
    if not policy.may_request(w.caller):
        raise forbidden(f"only an NCB requests {what}")
    await w.visible_person(str(inp.person_id))
    # Under the person's lock: a grant racing this request either committed first (and the
    # request is refused here) or waits and then blocks the new item (``decide_application``).
    await w.lock_persons(str(inp.person_id))
    refused, review = await w.protection(str(inp.person_id))
    if refused:
        raise forbidden(GENERIC_BLOCK_REASON)
    allow = await w.countries(inp.allow_countries, "allowCountries")
    deny = await w.countries(inp.deny_countries, "denyCountries")
    _restrictions(allow, deny, w.caller.country)
    return allow, deny, review


async def request_notice(w: Work, inp: Any) -> list[str]:
    allow, deny, review = await _new_request(w, inp, "notices")
    notice_id = new_id("N")
    await w.rows(
        "MATCH (p:Person {id: $person}), (a:Agency {id: $agency}) "
        "CREATE (n:Notice {id: $id, type: $type, status: 'REQUESTED', offenceSummary: $summary, "
        "requestedAt: datetime(), publicExtract: $public, allowCountries: $allow, denyCountries: $deny, "
        "blocked: false, reviewFlag: $flag, sourceCountry: $country, version: 1, changedAt: datetime()}) "
        "CREATE (n)-[:CONCERNS]->(p), (n)-[:REQUESTED_BY]->(a)",
        flag=review,
        person=str(inp.person_id), id=notice_id, type=inp.type.value,
        summary=text(inp.offence_summary, "offenceSummary", required=True), public=bool(inp.public_extract),
        allow=allow, deny=deny,
    )  # fmt: skip
    return [notice_id, str(inp.person_id)]


async def _not_protected_against_source(w: Work, label: str, record: dict[str, Any], person: str | None) -> None:
    """R8, re-checked under the person's lock before the GS makes an item live: never one
    from the feared country about a person it granted protection against. Only the GS gets
    here, so the answer may say why."""
    if person is not None:
        refused, _ = await w.protection(person, record.get("sourceCountry"))
        if refused:
            raise conflict(f"{label.lower()} {record['id']} concerns a person protected against its source")


async def review_notice(w: Work, id_: str, decision: str, reason: str | None) -> list[str]:
    notice, person = await w.locked_item("Notice", id_)
    if not policy.may_review(w.caller):
        raise forbidden("only the General Secretariat reviews notices")
    if notice["status"] != NoticeStatus.REQUESTED:
        raise conflict(f"notice {id_} is {notice['status']}, not REQUESTED: it was reviewed already")
    if decision == "PUBLISH":
        await _not_protected_against_source(w, "Notice", notice, person)
        published = datetime.now(UTC)
        expires = published + timedelta(days=NOTICE_LIFETIME_DAYS)
        await w.rows(
            "MATCH (n:Notice {id: $id}) SET n.status = 'PUBLISHED', n.publishedAt = $published, n.changedAt = datetime(), "
            "n.expiresAt = $expires, n.reviewDueAt = $due, n.statusReason = $reason",
            id=id_, published=published, expires=expires, due=expires - timedelta(days=REVIEW_WINDOW_DAYS),
            reason=text(reason, "reason"),
        )  # fmt: skip
    else:
        await w.rows(
            "MATCH (n:Notice {id: $id}) SET n.status = 'REFUSED', n.statusReason = $reason, n.changedAt = datetime()",
            id=id_, reason=text(reason, "reason", required=True),
        )  # fmt: skip
    return [id_]


async def extend_notice(w: Work, id_: str, reason: str) -> list[str]:
    notice = await w.locked("Notice", id_)
    if not policy.is_source(w.caller, notice.get("sourceCountry")):
        raise forbidden("only the source extends its notices")
    why = text(reason, "reason", required=True)
    now = datetime.now(UTC)
    expires, due = notice.get("expiresAt"), notice.get("reviewDueAt")
    status = policy.notice_status(w.caller, notice)
    if status != NoticeStatus.PUBLISHED or expires is None or due is None:
        raise conflict(f"notice {id_} is {status}, not a published notice")
    expires, due = expires.to_native(), due.to_native()
    if not due <= now < expires:
        raise conflict(
            f"notice {id_} can be extended only in its review window, from {due:%Y-%m-%d} to {expires:%Y-%m-%d}"
        )
    new_expiry = expires + timedelta(days=NOTICE_LIFETIME_DAYS)
    await w.rows(
        "MATCH (n:Notice {id: $id}) SET n.expiresAt = $expires, n.reviewDueAt = $due, "
        "n.extendedAt = datetime(), n.extensionReason = $reason",
        id=id_, expires=new_expiry, due=new_expiry - timedelta(days=REVIEW_WINDOW_DAYS), reason=why,
    )  # fmt: skip
    return [id_]


async def cancel_notice(w: Work, id_: str, reason: str) -> list[str]:
    notice = await w.locked("Notice", id_)
    if not policy.may_cancel(w.caller, notice.get("sourceCountry")):
        raise forbidden("only the source or the General Secretariat cancels a notice")
    status = policy.notice_status(w.caller, notice)
    if status not in (NoticeStatus.REQUESTED, NoticeStatus.PUBLISHED):
        raise conflict(f"notice {id_} is {status}: it can no longer be cancelled")
    await w.rows(
        "MATCH (n:Notice {id: $id}) SET n.status = 'CANCELLED', n.statusReason = $reason, n.changedAt = datetime()",
        id=id_, reason=text(reason, "reason", required=True),
    )  # fmt: skip
    return [id_]


async def set_restrictions(
    w: Work, label: str, id_: str, allow_in: list[str] | None, deny_in: list[str] | None
) -> list[str]:
    record = await w.locked(label, id_)
    if not policy.is_source(w.caller, record.get("sourceCountry")):
        raise forbidden("only the source restricts its records")
    allow = await w.countries(allow_in, "allowCountries")
    deny = await w.countries(deny_in, "denyCountries")
    _restrictions(allow, deny, record.get("sourceCountry"))
    await w.rows(f"MATCH (n:{label} {{id: $id}}) SET n.allowCountries = $allow, n.denyCountries = $deny, "
                 "n.changedAt = datetime()",
                 id=id_, allow=allow, deny=deny)  # fmt: skip
    return [id_]


async def restore(w: Work, label: str, id_: str, reason: str) -> list[str]:
    """R8: the GS lifts a block once no granted protection against the source remains,
    checked under the person's lock so that a racing grant cannot slip between."""
    record, _ = await w.locked_item(label, id_)
    if not policy.may_review(w.caller):
        raise forbidden("only the General Secretariat restores")
    if not record.get("blocked"):
        raise conflict(f"{label.lower()} {id_} is not blocked")
    still = await w.rows(
        "MATCH (a:AsylumApplication {status: 'GRANTED'}) WHERE a.fearedCountry = $source "
        f"AND ($id IN coalesce(a.screeningRefs, []) OR EXISTS {{ (a)<-[:APPLIED_FOR]-(:Person)<-[:CONCERNS]-(:{label} {{id: $id}}) }}) "
        "RETURN count(a) AS n",
        id=id_, source=record.get("sourceCountry"),
    )  # fmt: skip
    if still[0]["n"]:
        raise conflict(f"{label.lower()} {id_} concerns a person still protected against its source")
    await w.rows(
        # The reason stays with the GS (and the audit): the source must not learn it (R8).
        f"MATCH (n:{label} {{id: $id}}) SET n.blocked = false, n.blockReason = null, n.reviewFlag = false, "
        "n.restoreReason = $reason, n.changedAt = datetime()",
        id=id_, reason=text(reason, "reason", required=True),
    )  # fmt: skip
    return [id_]


# --- Diffusions (R6) ----------------------------------------------------------------------


async def issue_diffusion(w: Work, inp: Any) -> list[str]:
    allow, deny, review = await _new_request(w, inp, "diffusions")
    recipients = await w.countries(inp.recipients, "recipients")
    if bool(recipients) == bool(inp.to_all_members):
        raise bad_input("recipients", "give recipient countries or toAllMembers: true, not both or neither")
    if w.caller.country in recipients:
        raise bad_input("recipients", "the source country is not a recipient")
    diffusion_id = new_id("D")
    await w.rows(
        "MATCH (p:Person {id: $person}), (a:Agency {id: $agency}) "
        "CREATE (d:Diffusion {id: $id, purpose: $purpose, sentAt: datetime(), toAllMembers: $all, reviewed: false, "
        "allowCountries: $allow, denyCountries: $deny, blocked: false, reviewFlag: $flag, status: 'ACTIVE', "
        "sourceCountry: $country, version: 1, changedAt: datetime()}) "
        "CREATE (d)-[:CONCERNS]->(p), (d)-[:SENT_BY]->(a) "
        "WITH d UNWIND $recipients AS code MATCH (c:Country {code: code}) CREATE (d)-[:SENT_TO]->(c)",
        flag=review,
        person=str(inp.person_id), id=diffusion_id, purpose=inp.purpose.value, all=bool(inp.to_all_members),
        allow=allow, deny=deny, recipients=recipients,
    )  # fmt: skip
    return [diffusion_id, str(inp.person_id)]


async def review_diffusion(w: Work, id_: str, decision: str, reason: str | None) -> list[str]:
    diffusion, person = await w.locked_item("Diffusion", id_)
    if not policy.may_review(w.caller):
        raise forbidden("only the General Secretariat reviews diffusions")
    if diffusion.get("reviewed"):
        raise conflict(f"diffusion {id_} was reviewed already")
    if decision == "CONFIRM":
        await _not_protected_against_source(w, "Diffusion", diffusion, person)
    status = "ACTIVE" if decision == "CONFIRM" else "CANCELLED"
    await w.rows(
        "MATCH (d:Diffusion {id: $id}) SET d.reviewed = true, d.status = $status, d.statusReason = $reason, "
        "d.changedAt = datetime()",
        id=id_, status=status, reason=text(reason, "reason", required=decision != "CONFIRM"),
    )  # fmt: skip
    return [id_]


# --- Persons -----------------------------------------------------------------------------


def _person_fields(inp: Any, required: bool) -> dict[str, Any]:
    born = inp.date_of_birth
    if born is not None and born > date.today():
        raise bad_input("dateOfBirth", "is in the future")
    aliases = [a for a in (inp.aliases or []) if a.strip()]
    if len(aliases) > 50 or any(len(a) > MAX_NAME for a in aliases):
        raise bad_input("aliases", f"at most 50 aliases of at most {MAX_NAME} characters")
    fields = {
        "familyName": text(inp.family_name, "familyName", required=required, limit=MAX_NAME),
        "givenNames": text(inp.given_names, "givenNames", limit=MAX_NAME),
        "nameOriginalScript": text(inp.name_original_script, "nameOriginalScript", limit=MAX_NAME),
        "dateOfBirth": born,
        "sex": inp.sex.value if inp.sex else None,
        "aliases": aliases,
    }
    return fields if required else {k: v for k, v in fields.items() if v not in (None, [])}


async def create_person(w: Work, inp: Any) -> list[str]:
    if not policy.may_record_person(w.caller):
        raise forbidden("this agency does not record persons")
    nationalities = await w.countries(inp.nationalities, "nationalities")
    person_id = new_id("P")
    await w.rows(
        "MATCH (a:Agency {id: $agency}) CREATE (p:Person {id: $id}) SET p += $fields, p.version = 1 "
        "CREATE (p)-[:RECORDED_BY]->(a) "
        "WITH p UNWIND $nationalities AS code MATCH (c:Country {code: code}) CREATE (p)-[:NATIONAL_OF]->(c)",
        id=person_id, fields=_person_fields(inp, required=True), nationalities=nationalities,
    )  # fmt: skip
    await store_name_keys(w.rows, person_id)  # screening's look-up keys (R10, R11)
    return [person_id, *await detect_identities(w.rows, person_id)]  # candidate identity links


async def update_person(w: Work, id_: str, inp: Any) -> list[str]:
    await w.locked("Person", id_)
    recorded = await w.rows(
        "MATCH (:Person {id: $id})-[:RECORDED_BY]->(a:Agency) RETURN a.id AS agency", id=id_
    )
    if not policy.may_update_person(w.caller, recorded[0]["agency"] if recorded else None):
        raise forbidden("only the agency that recorded the person changes the record")
    await w.rows(
        "MATCH (p:Person {id: $id}) SET p += $fields", id=id_, fields=_person_fields(inp, required=False)
    )
    await store_name_keys(w.rows, id_)  # screening's look-up keys (R10, R11)
    return [id_, *await detect_identities(w.rows, id_)]  # candidate identity links


async def add_travel_document(w: Work, person_id: str, inp: Any) -> list[str]:
    await w.visible_person(person_id)
    issuing = w.caller.country or ""
    if not policy.may_record_document(w.caller, issuing):
        raise forbidden("only the issuing country records its travel documents")
    number = text(inp.number, "number", required=True, limit=40)
    # A number is recorded once per issuing country, which is the caller's own (R3). The one
    # answer when it is taken depends on nothing but that number: the same whether its holder
    # is this person, another the caller sees or one it does not (R17), naming no holder.
    taken = await w.rows(
        "MATCH (d:TravelDocument {issuingCountry: $c, number: $n}) RETURN count(d) AS n", c=issuing, n=number
    )
    if taken[0]["n"]:
        raise conflict(f"document {number} of {issuing} cannot be recorded: the number is in use")
    await w.rows(
        "MATCH (p:Person {id: $person}), (c:Country {code: $c}) "
        "CREATE (p)-[:HOLDS]->(:TravelDocument {number: $n, issuingCountry: $c, type: $type, status: $status})-[:ISSUED_BY]->(c)",
        person=person_id, c=issuing, n=number, type=inp.type.value, status=inp.status.value,
    )  # fmt: skip
    return [f"{issuing}:{number}", person_id, *await detect_identities(w.rows, person_id)]


async def link_persons(w: Work, a: str, b: str, kind: str) -> list[str]:
    if not policy.may_link(w.caller):
        raise forbidden("this agency does not link persons")
    if a == b:
        raise bad_input("b", "a person cannot be linked to itself")
    await w.visible_person(a)
    await w.visible_person(b)
    # Both persons locked (in id order) before the check, so of two racing links the second
    # sees the first and writes nothing: a link exists once, whichever direction it was
    # asked in, and asking again answers like the first time.
    await w.lock_persons(a, b)
    await w.rows(
        "MATCH (a:Person {id: $a}), (b:Person {id: $b}) "
        "WHERE NOT EXISTS { (a)-[:ASSOCIATE_OF {kind: $kind}]-(b) } CREATE (a)-[:ASSOCIATE_OF {kind: $kind}]->(b)",
        a=a, b=b, kind=kind,
    )  # fmt: skip
    return [a, b]


async def verify_identity_link(w: Work, id_: str, verdict: str, reason: str) -> list[str]:
    """The manual verification of a candidate identity link, by the NCB of a country that
    recorded one of the two persons, or the GS. A link the caller may not see (it does not
    see both persons) is reported like a missing one (R17)."""
    await w.locked("IdentityLink", id_)
    recorders = await w.rows(
        "MATCH (:IdentityLink {id: $id})-[:LINKS]->(:Person)-[:RECORDED_BY]->(:Agency)-[:OF_COUNTRY]->(c:Country) "
        "RETURN collect(DISTINCT c.code) AS codes",
        id=id_,
    )
    if not policy.may_verify_identity_link(w.caller, recorders[0]["codes"]):
        raise forbidden("only the NCB of a country that recorded one of the two persons, or the GS, verifies")
    await w.rows(
        "MATCH (x:IdentityLink {id: $id}) SET x.status = $verdict, x.reason = $reason, x.verifiedBy = $agency, "
        "x.verifiedByUser = $user, x.verifiedAt = datetime()",
        id=id_, verdict=verdict, reason=text(reason, "reason", required=True), user=w.caller.user,
    )  # fmt: skip
    return [id_]


# --- The asylum procedure (R7-R10) --------------------------------------------------------


async def file_application(w: Work, inp: Any) -> list[str]:
    receiving = w.caller.country
    if not policy.may_handle_asylum(w.caller, receiving):
        raise forbidden("only an asylum authority files asylum applications")
    feared = country_code(inp.feared_persecution_country, "fearedPersecutionCountry")
    await w.countries([feared], "fearedPersecutionCountry")
    if feared == receiving:
        raise bad_input("fearedPersecutionCountry", "must differ from the receiving country")
    if inp.lodged_at > date.today():
        raise bad_input("lodgedAt", "is in the future")
    person_id = str(inp.person_id)
    # The asylum authority files for anyone its country may see (R10): its NCB passes it the
    # person's id after a screening hit, or it recorded the applicant itself.
    await w.visible_person(person_id, policy.screening_view(w.caller))
    # A new item about the applicant racing the filing is flagged by one or the other: the
    # request waits for this lock and then sees the pending application (R8).
    await w.lock_persons(person_id)
    refs = await screening_refs(w, person_id)
    application_id = new_id("A")
    await w.rows(
        "MATCH (p:Person {id: $person}), (r:Country {code: $country}), (f:Country {code: $feared}) "
        "CREATE (p)-[:APPLIED_FOR]->(a:AsylumApplication {id: $id, lodgedAt: $lodged, status: 'PENDING', "
        "screeningResult: $result, screeningRefs: $refs, receivingCountry: $country, fearedCountry: $feared, version: 1}) "
        "CREATE (a)-[:LODGED_IN]->(r), (a)-[:FEARS_PERSECUTION_IN]->(f) "
        # R8: what the feared country asked about this person goes to the GS for review.
        "WITH a " + _FOUND_BY_SCREENING + "SET x.reviewFlag = true",
        person=person_id, feared=feared, id=application_id, lodged=inp.lodged_at,
        result="HIT" if refs else "NO_HIT", refs=refs,
    )  # fmt: skip
    return [application_id, person_id]


async def screening_refs(w: Work, person_id: str) -> list[str]:
    """R10: the applicant, by this record and by name and date of birth (another country may
    hold the same person under another record), against everything the receiving country
    may see."""
    view = policy.screening_view(w.caller)
    known = await w.rows(
        "MATCH (p:Person {id: $id}) RETURN p.familyName AS family, p.givenNames AS given, p.dateOfBirth AS born",
        id=person_id,
    )
    who = Identity(known[0]["family"] or "", known[0]["given"], known[0]["born"], person_id=person_id)
    c = Compiler(w.schema, view)
    refs = "UNWIND items AS n RETURN DISTINCT n.id AS ref ORDER BY ref"
    rows = await w.rows(screening_candidates(c, view, who) + refs, **c.params)
    return [r["ref"] for r in rows]


TRANSITIONS = {
    ApplicationStatus.PENDING: {ApplicationStatus.GRANTED, ApplicationStatus.DENIED},
    ApplicationStatus.GRANTED: {ApplicationStatus.REVOKED},
}


async def decide_application(w: Work, id_: str, inp: Any) -> list[str]:
    application = await w.locked("AsylumApplication", id_)
    if not policy.may_handle_asylum(w.caller, application["receivingCountry"]):
        raise forbidden("only the receiving country's asylum authority decides")
    # The applicant's lock (after the application's: applications, then persons, then items)
    # serialises the decision with new items about the person: one requested before it is
    # blocked below, one requested after it is refused (R8).
    applicant = await w.rows(
        "MATCH (p:Person)-[:APPLIED_FOR]->(:AsylumApplication {id: $id}) RETURN p.id AS id", id=id_
    )
    await w.lock_persons(*(r["id"] for r in applicant))
    outcome = ApplicationStatus(inp.outcome.value)
    current = ApplicationStatus(application["status"])
    if outcome not in TRANSITIONS.get(current, set()):
        raise conflict(f"application {id_} is {current.value}: it cannot become {outcome.value}")
    decided = inp.decided_at
    if decided > date.today():
        raise bad_input("decidedAt", "is in the future")
    if decided < application["lodgedAt"].to_native():
        raise bad_input("decidedAt", "is before the application was lodged")
    if outcome == ApplicationStatus.GRANTED and inp.legal_basis is None:
        raise bad_input("legalBasis", "is required to grant protection")
    criminal = bool(inp.denied_on_criminal_grounds)
    if criminal and outcome != ApplicationStatus.DENIED:
        raise bad_input("deniedOnCriminalGrounds", "applies to a denial only")
    notification_id = new_id("SN")
    basis = inp.legal_basis.value if inp.legal_basis else application.get("legalBasis")
    await w.rows(
        "MATCH (a:AsylumApplication {id: $id}) SET a.status = $outcome, a.decidedAt = $decided, "
        "a.legalBasis = $basis, a.deniedOnCriminalGrounds = $criminal "
        # R9: the confidential report to the GS and the CCF.
        "CREATE (:StatusNotification {id: $nid, createdAt: datetime(), outcome: $outcome, decidedAt: $decided, "
        "legalBasis: $basis, receivingCountry: a.receivingCountry, fearedCountry: a.fearedCountry, "
        "deniedOnCriminalGrounds: $criminal})-[:REPORTS]->(a)",
        id=id_, outcome=outcome.value, decided=decided, basis=basis, criminal=criminal, nid=notification_id,
    )  # fmt: skip
    written = [id_, notification_id]
    if outcome == ApplicationStatus.GRANTED:
        # R8: in the same transaction, block what the feared country asked about the person.
        blocked = await w.rows(
            "MATCH (a:AsylumApplication {id: $id}) " + _ON_APPLICANT + "SET x.blocked = true, x.blockReason = $reason, x.version = coalesce(x.version, 0) + 1, "
            "x.changedAt = datetime() RETURN x.id AS id",
            id=id_, reason=REFUGEE_BLOCK_REASON,
        )  # fmt: skip
        flagged = await w.rows(
            "MATCH (a:AsylumApplication {id: $id}) " + _FOUND_BY_SCREENING
            + "WITH x WHERE NOT coalesce(x.blocked, false) SET x.reviewFlag = true RETURN x.id AS id",
            id=id_,
        )  # fmt: skip
        written += [r["id"] for r in blocked + flagged]
    return written
