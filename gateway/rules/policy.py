"""Who may see which rows, and who may write what: the access rules of domain.md as
Cypher predicates and permission checks. Which fields of a visible row a caller reads,
and through which expression, is ``gateway.rules.view``.

Everything the gateway decides about visibility lives under ``gateway.rules``; the compiler
only splices these predicates into the statement it builds. Each predicate is written for one kind of
caller (the caller is known when the statement is compiled), with the caller's country as
the parameter ``$country``, so that each caller kind gets a plan of its own and no
predicate depends on a runtime ``OR`` over caller kinds.

``tests/reference_policy.py`` restates the same rules in plain Python over rows; the
property test checks each against the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from gateway.cypher.pieces import FALSE, TRUE, Pred, Var, all_of, any_of
from gateway.rules.caller import Caller
from graph_schema.model import AgencyKind, Scope

V = Var | str  # the node variable a predicate is about

# --- Who the caller is, in the terms of the rules ---------------------------------------


def oversight(c: Caller) -> bool:
    """The GS and the CCF see everything, including the real reasons for blocks."""
    return c.kind in (AgencyKind.GENERAL_SECRETARIAT, AgencyKind.CCF)


def reads_as_member(c: Caller) -> bool:
    """An NCB, or a national entity its NCB granted `read`: the member view of its country."""
    return c.kind == AgencyKind.NCB or (c.kind == AgencyKind.NATIONAL_ENTITY and Scope.READ in c.scopes)


def reads_asylum(c: Caller) -> bool:
    """R7: the receiving country's NCB and its asylum authority."""
    return c.kind == AgencyKind.NCB or (c.kind == AgencyKind.NATIONAL_ENTITY and Scope.ASYLUM in c.scopes)


def sees_biometrics(c: Caller) -> bool:
    """R12: NCBs, the GS and the CCF."""
    return c.kind == AgencyKind.NCB or oversight(c)


def may_screen(c: Caller) -> bool:
    return oversight(c) or c.kind == AgencyKind.NCB or bool(c.scopes & {Scope.SCREEN, Scope.READ})


def full_screening_answer(c: Caller) -> bool:
    """R11: the records behind a hit for NCBs and `read`; a reference for `screen` only."""
    return oversight(c) or reads_as_member(c)


def screening_view(c: Caller) -> Caller:
    """R10/R11: a screening runs against everything the caller's country may see."""
    if oversight(c):
        return c
    return replace(c, kind=AgencyKind.NCB, subtype=None, scopes=frozenset(Scope))


def reads_audit(c: Caller) -> bool:
    """R15: only the GS and the CCF read the audit log."""
    return oversight(c)


def purpose_required(c: Caller) -> bool:
    """R2: every authenticated read of personal data states a purpose; the public view is open."""
    return not c.is_public


def parameters(c: Caller) -> dict[str, Any]:
    # ``$now``: the time of reading, one value per statement, sent instead of ``datetime()``.
    return {"country": c.country, "agency": c.agency_id, "now": datetime.now(UTC)}


# --- Visibility of each kind of node, as a Cypher predicate over the variable v ---------


def _restrictions(v: V) -> Pred:
    """R4: an allow list admits only its countries; a deny list shuts its countries out."""
    return Pred(
        f"(size(coalesce({v}.allowCountries, [])) = 0 OR $country IN {v}.allowCountries) "
        f"AND NOT $country IN coalesce({v}.denyCountries, [])"
    )


def _live_notice(v: V) -> Pred:
    """R5/R8/R14: published, not blocked, not past its expiry at the time of reading."""
    return Pred(
        f"{v}.status = 'PUBLISHED' AND NOT coalesce({v}.blocked, false) "
        f"AND ({v}.expiresAt IS NULL OR {v}.expiresAt > $now)"
    )


def _own(v: V) -> Pred:
    return Pred(f"{v}.sourceCountry = $country")


def notice_visible(c: Caller, v: V) -> Pred:
    if oversight(c):
        return TRUE
    # R4 with R13: callers without a country (the public, international entities) could
    # be anyone on a deny list, so a notice restricted in any way is not for them.
    unrestricted = Pred(
        f"size(coalesce({v}.allowCountries, [])) = 0 AND size(coalesce({v}.denyCountries, [])) = 0"
    )
    if c.is_public:  # R13
        return all_of(_live_notice(v), unrestricted, Pred(f"({v}.publicExtract OR {v}.type = 'UN_SPECIAL')"))
    if c.kind == AgencyKind.INTERNATIONAL_ENTITY:
        return all_of(_live_notice(v), unrestricted)
    if reads_as_member(c):  # R3 the source sees its own; R4, R5, R8 for the others
        return any_of(_own(v), all_of(_live_notice(v), _restrictions(v)))
    return FALSE


def _active_diffusion(v: V) -> Pred:
    return Pred(f"NOT coalesce({v}.blocked, false) AND coalesce({v}.status, 'ACTIVE') = 'ACTIVE'")


def diffusion_visible(c: Caller, v: V) -> Pred:
    if oversight(c):
        return TRUE
    if reads_as_member(c):  # R6, R4, R8; never public, never international here
        received = Pred(f"({v}.toAllMembers OR EXISTS {{ ({v})-[:SENT_TO]->(:Country {{code: $country}}) }})")
        return any_of(_own(v), all_of(_active_diffusion(v), received, _restrictions(v)))
    return FALSE


def application_visible(c: Caller, v: V) -> Pred:
    if oversight(c):
        return TRUE
    if reads_asylum(c):  # R7: the receiving country only; never the feared country
        return Pred(f"{v}.receivingCountry = $country")
    return FALSE


def screening_notice(c: Caller, v: str) -> str:
    """R11: a screening hits live notices only, within the source's restrictions (which
    never shut out the source itself). Text, for the screening statements."""
    if oversight(c):
        return f"({_live_notice(v)})"
    return str(all_of(_live_notice(v), any_of(_own(v), _restrictions(v))))


def screening_diffusion(c: Caller, v: str) -> str:
    """R11: a screening hits the diffusions the country receives or sent, unless blocked."""
    if oversight(c):
        return f"({_active_diffusion(v)})"
    return str(all_of(_active_diffusion(v), diffusion_visible(c, v)))


def notification_visible(c: Caller, v: V) -> Pred:
    return TRUE if oversight(c) else FALSE  # R9


def person_visible(c: Caller, v: V) -> Pred:
    """R18: recorded by the caller's country, or concerned by something the caller sees."""
    if oversight(c):
        return TRUE
    ways = []
    if reads_as_member(c):
        ways.append(
            Pred(f"EXISTS {{ ({v})-[:RECORDED_BY]->(:Agency)-[:OF_COUNTRY]->(:Country {{code: $country}}) }}")
        )
    elif c.kind == AgencyKind.NATIONAL_ENTITY:  # an agency always sees the records it created
        ways.append(Pred(f"EXISTS {{ ({v})-[:RECORDED_BY]->(:Agency {{id: $agency}}) }}"))
    x = f"{v}_via"  # a name of its own, so predicates nest without capturing variables
    for pattern, rule in (
        (f"({x}:Notice)-[:CONCERNS]->({v})", notice_visible),
        (f"({x}:Diffusion)-[:CONCERNS]->({v})", diffusion_visible),
        (f"({v})-[:APPLIED_FOR]->({x}:AsylumApplication)", application_visible),
    ):
        predicate = rule(c, x)
        if not predicate.is_false:
            ways.append(Pred(f"EXISTS {{ MATCH {pattern} WHERE {predicate} }}"))
    return any_of(*ways)


def document_visible(c: Caller, v: V) -> Pred:
    """R18 with R13: travel documents go with their holder, never to the public."""
    if c.is_public:
        return FALSE
    h = f"{v}_holder"
    return Pred(f"EXISTS {{ MATCH ({h}:Person)-[:HOLDS]->({v}) WHERE {person_visible(c, h)} }}")


def identity_link_visible(c: Caller, v: V) -> Pred:
    """R16/R18: a candidate or verified identity link is visible to a caller who sees both
    of its persons; otherwise it is absent, so it reveals nothing about a hidden record."""
    if oversight(c):
        return TRUE
    if c.is_public:  # R13: the public reads no links
        return FALSE
    x = f"{v}_person"
    return Pred(f"COUNT {{ MATCH ({v})-[:LINKS]->({x}:Person) WHERE {person_visible(c, x)} }} = 2")


def audit_visible(c: Caller, v: V) -> Pred:
    return TRUE if reads_audit(c) else FALSE


def saved_screening_visible(c: Caller, v: V) -> Pred:
    """A saved screening (live alerts) is its agency's own: no one else reads it, not even
    the GS (it would tell whom an agency is looking for)."""
    return FALSE if c.agency_id is None else Pred(f"{v}.agency = $agency")


def own_item(c: Caller, v: V) -> Pred:
    """A notice or diffusion of the caller's own country, read as its source reads it (R3):
    what live alerts push to a source country about every status change."""
    if not reads_as_member(c) or c.country is None:
        return FALSE
    return _own(v)


def may_save_screening(c: Caller) -> bool:
    """R11: a standing screening delivers the records behind a hit, so it is for those who
    see them (NCBs, `read`, the GS and the CCF); `screen` alone screens on demand."""
    return full_screening_answer(c)


VISIBLE: dict[str, Callable[[Caller, V], Pred]] = {
    "Person": person_visible,
    "Notice": notice_visible,
    "Diffusion": diffusion_visible,
    "AsylumApplication": application_visible,
    "StatusNotification": notification_visible,
    "TravelDocument": document_visible,
    "AccessEvent": audit_visible,
    "SavedScreening": saved_screening_visible,
    "IdentityLink": identity_link_visible,
}

# Labels whose nodes are personal data: reading one is audited (R15) and needs a purpose (R2).
PERSONAL = frozenset(VISIBLE) - {"AccessEvent"}


def visible(c: Caller, label: str, v: V) -> Pred:
    """The predicate for any label; countries and agencies are not personal and open to all."""
    rule = VISIBLE.get(label)
    return rule(c, v) if rule else TRUE


def due_for_review(c: Caller, v: V) -> Pred:
    """R14: the caller's own live notices whose review window has opened (their source)."""
    if not may_request(c):
        return FALSE
    return all_of(
        _own(v),
        Pred(f"{v}.status = 'PUBLISHED' AND NOT coalesce({v}.blocked, false)"),
        Pred(f"{v}.reviewDueAt <= $now < {v}.expiresAt"),
    )


def notice_status(c: Caller, notice: dict[str, Any]) -> str:
    """The status a caller is shown, for a notice already loaded: the same rule as the
    view's ``Notice.status``, so that a write answers a blocked notice's source exactly as
    it would a cancelled one (R8, R17)."""
    if notice.get("blocked") and not oversight(c):
        return "CANCELLED"
    expires = notice.get("expiresAt")
    if notice["status"] == "PUBLISHED" and expires is not None and expires.to_native() <= datetime.now(UTC):
        return "EXPIRED"
    return str(notice["status"])


# --- Who may write what (R3, R7-R10, R14) ------------------------------------------------
# Each takes the caller and the facts of the record it would change; the workflows load
# those facts under a write lock and ask here before they write.


def is_source(c: Caller, source_country: str | None) -> bool:
    """R3: the source is the NCB of the country that requested or sent the record."""
    return c.kind == AgencyKind.NCB and source_country is not None and c.country == source_country


def may_request(c: Caller) -> bool:
    """R3: notices and diffusions are requested by NCBs."""
    return c.kind == AgencyKind.NCB


def may_review(c: Caller) -> bool:
    """R3: the General Secretariat reviews (publishes, refuses, restores)."""
    return c.kind == AgencyKind.GENERAL_SECRETARIAT


def may_cancel(c: Caller, source_country: str | None) -> bool:
    return is_source(c, source_country) or may_review(c)


def may_record_person(c: Caller) -> bool:
    """NCBs, national entities that read, and asylum authorities registering applicants."""
    return reads_as_member(c) or reads_asylum(c)


def may_update_person(c: Caller, recorded_by: str | None) -> bool:
    """R3: only the agency that created the person's record changes it."""
    return c.agency_id is not None and c.agency_id == recorded_by


def may_record_document(c: Caller, issuing_country: str) -> bool:
    """R3: only the issuing country records its travel documents."""
    return reads_as_member(c) and c.country == issuing_country


def may_link(c: Caller) -> bool:
    return reads_as_member(c) or oversight(c)


def may_verify_identity_link(c: Caller, recording_countries: list[str]) -> bool:
    """The NCB of a country that recorded one of the two persons, or the GS."""
    if c.kind == AgencyKind.GENERAL_SECRETARIAT:
        return True
    return c.kind == AgencyKind.NCB and c.country is not None and c.country in recording_countries


def may_handle_asylum(c: Caller, receiving_country: str | None) -> bool:
    """R7/R10: the asylum authority of the receiving country files and decides."""
    return (
        c.kind == AgencyKind.NATIONAL_ENTITY
        and Scope.ASYLUM in c.scopes
        and c.country is not None
        and c.country == receiving_country
    )


def reads_notifications(c: Caller) -> bool:
    """R9: status notifications are for the GS and the CCF."""
    return oversight(c)
