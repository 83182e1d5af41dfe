"""Who may see what: the access rules of domain.md as data and Cypher predicates.

Everything the gateway decides about visibility lives here; the compiler only splices
these fragments into the statement it builds. Each predicate is written for one kind of
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

from gateway.rules.caller import Caller
from graph_schema.model import GENERIC_BLOCK_REASON, AgencyKind, Scope

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
    return {"country": c.country, "agency": c.agency_id}


# --- Visibility of each kind of node, as a Cypher predicate over the variable v ---------

FALSE = "false"
TRUE = "true"


def _restrictions(v: str) -> str:
    """R4: an allow list admits only its countries; a deny list shuts its countries out."""
    return (
        f"(size(coalesce({v}.allowCountries, [])) = 0 OR $country IN {v}.allowCountries) "
        f"AND NOT $country IN coalesce({v}.denyCountries, [])"
    )


def _live_notice(v: str) -> str:
    """R5/R8/R14: published, not blocked, not past its expiry at the time of reading."""
    return (
        f"{v}.status = 'PUBLISHED' AND NOT coalesce({v}.blocked, false) "
        f"AND ({v}.expiresAt IS NULL OR {v}.expiresAt > datetime())"
    )


def notice_visible(c: Caller, v: str) -> str:
    if oversight(c):
        return TRUE
    # R4 with R13: callers without a country (the public, international entities) could
    # be anyone on a deny list, so a notice restricted in any way is not for them.
    unrestricted = f"size(coalesce({v}.allowCountries, [])) = 0 AND size(coalesce({v}.denyCountries, [])) = 0"
    if c.is_public:  # R13
        return f"({_live_notice(v)} AND {unrestricted} AND ({v}.publicExtract OR {v}.type = 'UN_SPECIAL'))"
    if c.kind == AgencyKind.INTERNATIONAL_ENTITY:
        return f"({_live_notice(v)} AND {unrestricted})"
    if reads_as_member(c):  # R3 the source sees its own; R4, R5, R8 for the others
        return f"({v}.sourceCountry = $country OR ({_live_notice(v)} AND {_restrictions(v)}))"
    return FALSE


def diffusion_visible(c: Caller, v: str) -> str:
    if oversight(c):
        return TRUE
    if reads_as_member(c):  # R6, R4, R8; never public, never international here
        return (
            f"({v}.sourceCountry = $country OR (NOT coalesce({v}.blocked, false) "
            f"AND coalesce({v}.status, 'ACTIVE') = 'ACTIVE' "
            f"AND ({v}.toAllMembers OR EXISTS {{ ({v})-[:SENT_TO]->(:Country {{code: $country}}) }}) "
            f"AND {_restrictions(v)}))"
        )
    return FALSE


def application_visible(c: Caller, v: str) -> str:
    if oversight(c):
        return TRUE
    if reads_asylum(c):  # R7: the receiving country only; never the feared country
        return f"{v}.receivingCountry = $country"
    return FALSE


def screening_notice(c: Caller, v: str) -> str:
    """R11: a screening hits live notices only, within the source's restrictions (which
    never shut out the source itself)."""
    if oversight(c):
        return f"({_live_notice(v)})"
    return f"({_live_notice(v)} AND ({v}.sourceCountry = $country OR {_restrictions(v)}))"


def screening_diffusion(c: Caller, v: str) -> str:
    """R11: a screening hits the diffusions the country receives or sent, unless blocked."""
    active = f"NOT coalesce({v}.blocked, false) AND coalesce({v}.status, 'ACTIVE') = 'ACTIVE'"
    if oversight(c):
        return f"({active})"
    return f"({active} AND {diffusion_visible(c, v)})"


def notification_visible(c: Caller, v: str) -> str:
    return TRUE if oversight(c) else FALSE  # R9


def person_visible(c: Caller, v: str) -> str:
    """R18: recorded by the caller's country, or concerned by something the caller sees."""
    if oversight(c):
        return TRUE
    ways = []
    if reads_as_member(c):
        ways.append(
            f"EXISTS {{ ({v})-[:RECORDED_BY]->(:Agency)-[:OF_COUNTRY]->(:Country {{code: $country}}) }}"
        )
    elif c.kind == AgencyKind.NATIONAL_ENTITY:  # an agency always sees the records it created
        ways.append(f"EXISTS {{ ({v})-[:RECORDED_BY]->(:Agency {{id: $agency}}) }}")
    x = f"{v}_via"  # a name of its own, so predicates nest without capturing variables
    for pattern, visible in (
        (f"({x}:Notice)-[:CONCERNS]->({v})", notice_visible),
        (f"({x}:Diffusion)-[:CONCERNS]->({v})", diffusion_visible),
        (f"({v})-[:APPLIED_FOR]->({x}:AsylumApplication)", application_visible),
    ):
        predicate = visible(c, x)
        if predicate != FALSE:
            ways.append(f"EXISTS {{ MATCH {pattern} WHERE {predicate} }}")
    return "(" + " OR ".join(ways) + ")" if ways else FALSE


def document_visible(c: Caller, v: str) -> str:
    """R18 with R13: travel documents go with their holder, never to the public."""
    if c.is_public:
        return FALSE
    h = f"{v}_holder"
    return f"EXISTS {{ MATCH ({h}:Person)-[:HOLDS]->({v}) WHERE {person_visible(c, h)} }}"


def audit_visible(c: Caller, v: str) -> str:
    return TRUE if reads_audit(c) else FALSE


VISIBLE: dict[str, Callable[[Caller, str], str]] = {
    "Person": person_visible,
    "Notice": notice_visible,
    "Diffusion": diffusion_visible,
    "AsylumApplication": application_visible,
    "StatusNotification": notification_visible,
    "TravelDocument": document_visible,
    "AccessEvent": audit_visible,
}

# Labels whose nodes are personal data: reading one is audited (R15) and needs a purpose (R2).
PERSONAL = frozenset(VISIBLE) - {"AccessEvent"}


def visible(c: Caller, label: str, v: str) -> str:
    """The predicate for any label; countries and agencies are not personal and open to all."""
    rule = VISIBLE.get(label)
    return rule(c, v) if rule else TRUE


def link_step(c: Caller, x: str) -> str:
    """R16/R18: a path may step to person ``x`` over a link when the caller sees ``x`` (it
    already sees where the step starts, so it sees both ends); the public sees no links (R13)."""
    return FALSE if c.is_public else person_visible(c, x)


# --- Fields whose value depends on the caller --------------------------------------------
# Each returns the Cypher expression to project instead of the stored property, or None
# for the stored property itself.


def _blocked_for_source(c: Caller, v: str) -> str:
    return f"coalesce({v}.blocked, false) AND NOT {str(oversight(c)).lower()}"


def _notice_status(c: Caller, v: str) -> str:
    # R8: the source of a blocked notice sees it cancelled; R14: expiry applies on reading.
    return (
        f"CASE WHEN {_blocked_for_source(c, v)} THEN 'CANCELLED' "
        f"WHEN {v}.status = 'PUBLISHED' AND {v}.expiresAt <= datetime() THEN 'EXPIRED' "
        f"ELSE {v}.status END"
    )


def notice_status(c: Caller, notice: dict[str, Any]) -> str:
    """The status a caller is shown, for a notice already loaded: the same rule as
    ``_notice_status``, so that a write answers a blocked notice's source exactly as it
    would a cancelled one (R8, R17)."""
    if notice.get("blocked") and not oversight(c):
        return "CANCELLED"
    expires = notice.get("expiresAt")
    if notice["status"] == "PUBLISHED" and expires is not None and expires.to_native() <= datetime.now(UTC):
        return "EXPIRED"
    return str(notice["status"])


def _diffusion_status(c: Caller, v: str) -> str:
    # As for notices: the source of a blocked diffusion sees it cancelled (R8); the GS and
    # the CCF see its real status beside the block.
    return f"CASE WHEN {_blocked_for_source(c, v)} THEN 'CANCELLED' ELSE coalesce({v}.status, 'ACTIVE') END"


def _status_reason(c: Caller, v: str) -> str:
    # R8: the source learns only the generic reason; the GS and the CCF the real one.
    if oversight(c):
        return f"CASE WHEN coalesce({v}.blocked, false) THEN {v}.blockReason ELSE {v}.statusReason END"
    return f"CASE WHEN coalesce({v}.blocked, false) THEN '{GENERIC_BLOCK_REASON}' ELSE {v}.statusReason END"


def _only(allowed: Callable[[Caller], bool]) -> Callable[[Caller, str, str], str | None]:
    def mask(c: Caller, v: str, prop: str) -> str | None:
        return None if allowed(c) else "null"

    return mask


def _source_or_oversight(c: Caller, v: str, prop: str) -> str | None:
    if oversight(c):
        return None
    return f"CASE WHEN {v}.sourceCountry = $country THEN {v}.{prop} END"


_NOT_PUBLIC = _only(lambda c: not c.is_public)
_OVERSIGHT = _only(oversight)

# (label, field) -> mask(caller, var, property) giving an expression, or None for the property.
FIELD_RULES: dict[tuple[str, str], Callable[[Caller, str, str], str | None]] = {
    ("Person", "fingerprintRef"): _only(sees_biometrics),  # R12
    ("Person", "dnaRef"): _only(sees_biometrics),
    # R13: the public sees the extract's fields only.
    **{("Person", f): _NOT_PUBLIC for f in ("aliases", "nameVariants", "nameOriginalScript", "script")},
    ("Notice", "status"): lambda c, v, p: _notice_status(c, v),
    ("Notice", "statusReason"): lambda c, v, p: _status_reason(c, v),
    ("Notice", "allowCountries"): _source_or_oversight,  # R4: the source's own settings
    ("Notice", "denyCountries"): _source_or_oversight,
    ("Notice", "blocked"): _OVERSIGHT,  # R8: flags and real reasons for the GS and CCF
    ("Notice", "blockReason"): _OVERSIGHT,
    ("Notice", "reviewFlag"): _OVERSIGHT,
    ("Notice", "reviewDueAt"): _NOT_PUBLIC,
    ("Notice", "requestedAt"): _NOT_PUBLIC,
    ("Diffusion", "status"): lambda c, v, p: _diffusion_status(c, v),
    # R8: a blocked diffusion reads to its source exactly like one the GS cancelled on review.
    ("Diffusion", "subjectToReview"): lambda c, v, p: (
        f"NOT coalesce({v}.reviewed, false) AND NOT ({_blocked_for_source(c, v)})"
    ),
    ("Diffusion", "statusReason"): lambda c, v, p: _status_reason(c, v),
    ("Diffusion", "allowCountries"): _source_or_oversight,
    ("Diffusion", "denyCountries"): _source_or_oversight,
    ("Diffusion", "blocked"): _OVERSIGHT,
    ("Diffusion", "blockReason"): _OVERSIGHT,
    ("Diffusion", "reviewFlag"): _OVERSIGHT,
}


def searchable_names(c: Caller) -> tuple[str, ...] | None:
    """The name fields a caller's name search may match: only those it may see (R13, R17);
    None for all of the full-text index."""
    return ("familyName", "givenNames") if c.is_public else None


def relation_condition(c: Caller, label: str, field: str, t: str) -> str:
    """An extra predicate on a relationship's target, for links that say more than their
    target: who recorded a person tells whether an asylum authority did (R7)."""
    if (label, field) != ("Person", "recordedBy") or oversight(c):
        return TRUE
    if reads_asylum(c):
        return (
            f"(coalesce({t}.subtype, '') <> 'ASYLUM' "
            f"OR EXISTS {{ ({t})-[:OF_COUNTRY]->(:Country {{code: $country}}) }})"
        )
    return f"coalesce({t}.subtype, '') <> 'ASYLUM'"


def field_expression(c: Caller, label: str, field: str, v: str, prop: str) -> str:
    rule = FIELD_RULES.get((label, field))
    expression = rule(c, v, prop) if rule else None
    return expression if expression is not None else f"{v}.{prop}"


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
