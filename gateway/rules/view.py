"""The field view: for each caller class and each GraphQL object type, the fields the
caller may read and the Cypher expression it reads each through (R4, R7, R8, R12, R13).

It is an allow-list. A field is readable only if ``VIEW`` lists it for one of the caller's
classes; a field it does not list reads ``null`` (a list ``[]``) whatever is stored, so a
field added to ``gateway/graphql/types.py`` is hidden from everyone until listed here.
Projection, filters, sort orders (root and nested) and the steps of links and paths all
ask ``read`` for the expression of a GraphQL field name, so a caller filters and sorts by
exactly the value it is shown, and cannot filter or sort by what it may not read.

Which rows a caller sees is ``gateway.rules.policy``; this module decides only what it
reads of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from gateway.cypher.pieces import FALSE, TRUE, Expr, Pred, Var, literal
from gateway.rules import policy
from gateway.rules.caller import Caller
from graph_schema.model import GENERIC_BLOCK_REASON, IDENTITY_LINK_COLOUR, AgencyKind, Scope


class CallerClass(Enum):
    PUBLIC = "PUBLIC"
    INTERNATIONAL = "INTERNATIONAL"  # an international entity
    MEMBER = "MEMBER"  # an NCB, or a national entity with `read`
    SCREEN_ONLY = "SCREEN_ONLY"  # a national entity with `screen` but not `read`
    ASYLUM = "ASYLUM"  # a national entity with `asylum` (R7: its own country's applications)
    ENTITY = "ENTITY"  # any national entity, whatever its scopes: what every authenticated caller reads
    OVERSIGHT = "OVERSIGHT"  # the GS and the CCF


PUBLIC, INTERNATIONAL, MEMBER, SCREEN_ONLY, ASYLUM, ENTITY, OVERSIGHT = CallerClass


def classes(c: Caller) -> frozenset[CallerClass]:
    """The caller's classes; a national entity holding several scopes has the union."""
    if c.is_public:
        return frozenset({PUBLIC})
    if policy.oversight(c):
        return frozenset({OVERSIGHT})
    if c.kind == AgencyKind.INTERNATIONAL_ENTITY:
        return frozenset({INTERNATIONAL})
    if c.kind == AgencyKind.NCB:
        return frozenset({MEMBER})
    out = {ENTITY}  # a national entity without a known scope still reads what any caller may
    if Scope.READ in c.scopes:
        out.add(MEMBER)
    elif Scope.SCREEN in c.scopes:
        out.add(SCREEN_ONLY)
    if Scope.ASYLUM in c.scopes:
        out.add(ASYLUM)
    return frozenset(out)


# How a listed field is read. ``stored`` is the expression of the stored value as
# types.py maps it (a property, or for a relationship the predicate ``TRUE``); a reader may
# return it, another expression, or None to hide the field from this particular caller
# (e.g. R12 within MEMBER).
Reader = Callable[[Caller, Var, Expr], Expr | None]


def stored(c: Caller, v: Var, value: Expr) -> Expr | None:
    return value


@dataclass(frozen=True)
class Read:
    """Who reads a field (caller classes) and how (the reader)."""

    who: frozenset[CallerClass]
    reader: Reader = stored


ALL = frozenset(CallerClass)
AUTHENTICATED = ALL - {PUBLIC}
PERSONS = AUTHENTICATED  # whoever sees a person's row (R18) reads the full name record
MEMBERS = frozenset({MEMBER, OVERSIGHT})
APPLICATIONS = frozenset({MEMBER, ASYLUM, OVERSIGHT})  # the row predicate narrows MEMBER to NCBs
OVERSIGHT_ONLY = frozenset({OVERSIGHT})


def _blocked_for_source(c: Caller, v: Var) -> Pred:
    """A blocked item as its source reads it (R8): the GS and the CCF see the block itself."""
    return FALSE if policy.oversight(c) else Pred(f"coalesce({v}.blocked, false)")


def _notice_status(c: Caller, v: Var, value: Expr) -> Expr:
    # R8: the source of a blocked notice sees it cancelled; R14: expiry applies on reading.
    blocked = _blocked_for_source(c, v)
    cancelled = "" if blocked.is_false else f"WHEN {blocked} THEN 'CANCELLED' "
    return Expr(
        f"CASE {cancelled}WHEN {v}.status = 'PUBLISHED' AND {v}.expiresAt <= $now THEN 'EXPIRED' "
        f"ELSE {v}.status END"
    )


def _diffusion_status(c: Caller, v: Var, value: Expr) -> Expr:
    # As for notices: the source of a blocked diffusion sees it cancelled (R8); the GS and
    # the CCF see its real status beside the block.
    blocked = _blocked_for_source(c, v)
    if blocked.is_false:
        return Expr(f"coalesce({v}.status, 'ACTIVE')")
    return Expr(f"CASE WHEN {blocked} THEN 'CANCELLED' ELSE coalesce({v}.status, 'ACTIVE') END")


def _status_reason(c: Caller, v: Var, value: Expr) -> Expr:
    # R8: the source learns only the generic reason; the GS and the CCF the real one.
    reason = Expr(f"{v}.blockReason") if policy.oversight(c) else literal(GENERIC_BLOCK_REASON)
    return Expr(f"CASE WHEN coalesce({v}.blocked, false) THEN {reason} ELSE {v}.statusReason END")


def _subject_to_review(c: Caller, v: Var, value: Expr) -> Expr:
    # R6 with R8: a blocked diffusion reads to its source exactly like one the GS cancelled
    # on review, which is no longer subject to review.
    return Pred(f"NOT coalesce({v}.reviewed, false)") & ~_blocked_for_source(c, v)


def _source_or_oversight(c: Caller, v: Var, value: Expr) -> Expr | None:
    """R4: the restrictions are the source's own settings."""
    if policy.oversight(c):
        return value
    if c.country is None:
        return None
    return Expr(f"CASE WHEN {v}.sourceCountry = $country THEN {value} END")


def _biometric(c: Caller, v: Var, value: Expr) -> Expr | None:
    return value if policy.sees_biometrics(c) else None  # R12: NCBs, the GS and the CCF


def _own_country_recorder(c: Caller, t: Var, value: Expr) -> Expr | None:
    """R7, DECISIONS 4: the recording agency for the GS, the CCF and the recording agency's
    own country; null for everyone else whatever the agency's kind, so that a null says
    nothing about who recorded the person."""
    if policy.oversight(c):
        return TRUE
    if c.country is None:
        return None
    return Pred(f"EXISTS {{ ({t})-[:OF_COUNTRY]->(:Country {{code: $country}}) }}")


def _own_country_verifier(c: Caller, v: Var, value: Expr) -> Expr | None:
    """Only a recording country's NCB (or the GS) verifies a link, so the verifier names a
    country that recorded one of the persons: read like ``recordedBy``, by the GS, the CCF
    and the verifier's own country; null for everyone else."""
    if policy.oversight(c):
        return value
    if c.country is None:
        return None
    return Expr(f"CASE WHEN EXISTS {{ (:Agency {{id: {v}.verifiedBy}})-[:OF_COUNTRY]->(:Country {{code: $country}}) }} THEN {value} END")


def _link_colour(c: Caller, v: Var, value: Expr) -> Expr:
    cases = " ".join(f"WHEN '{status}' THEN '{colour}'" for status, colour in IDENTITY_LINK_COLOUR.items())
    return Expr(f"CASE {v}.status {cases} END")


def _scopes(c: Caller, v: Var, value: Expr) -> Expr:
    r = f"{v}_auth"  # a name of its own: the statement around it may use `r` (links, paths)
    return Expr(f"head(COLLECT {{ MATCH ({v})-[{r}:AUTHORIZED_BY]->(:Agency) RETURN {r}.scopes }})")


def _fields(who: frozenset[CallerClass], *names: str) -> dict[str, Read]:
    return {n: Read(who) for n in names}


_ITEM_COMMON = ("id", "sourceCountryCode", "subject")

VIEW: Mapping[str, Mapping[str, Read]] = {
    "Country": _fields(ALL, "code", "name", "region", "ncb", "agencies"),
    "Agency": {
        **_fields(ALL, "id", "name", "kind", "subtype", "active", "country", "authorizedBy"),
        "scopes": Read(ALL, _scopes),  # what the NCB authorised (national entities)
    },
    "Person": {
        # R13: the public reads the extract's fields of a person.
        **_fields(ALL, "id", "familyName", "givenNames", "dateOfBirth", "sex", "nationalities", "notices"),
        **_fields(PERSONS, "aliases", "nameOriginalScript", "script", "nameVariants", "travelDocuments"),
        "fingerprintRef": Read(MEMBERS, _biometric),
        "dnaRef": Read(MEMBERS, _biometric),
        "recordedBy": Read(AUTHENTICATED, _own_country_recorder),
        "diffusions": Read(MEMBERS),
        "asylumApplications": Read(APPLICATIONS),
        "identityLinks": Read(AUTHENTICATED),  # the row predicate asks for both persons
    },
    "TravelDocument": _fields(
        AUTHENTICATED, "number", "type", "status", "issuingCountryCode", "issuingCountry", "holder"
    ),
    "Notice": {
        # R13: the public extract; the row predicate admits the public to few notices.
        **_fields(
            ALL,
            *_ITEM_COMMON,
            "type",
            "offenceSummary",
            "publishedAt",
            "expiresAt",
            "publicExtract",
            "sourceCountry",
            "requestedBy",
        ),
        "status": Read(ALL, _notice_status),
        "statusReason": Read(ALL, _status_reason),
        **_fields(AUTHENTICATED, "requestedAt", "reviewDueAt"),
        "allowCountries": Read(MEMBERS, _source_or_oversight),
        "denyCountries": Read(MEMBERS, _source_or_oversight),
        **_fields(OVERSIGHT_ONLY, "blocked", "blockReason", "reviewFlag"),  # R8
    },
    "Diffusion": {  # R6: never public, never international
        **_fields(MEMBERS, *_ITEM_COMMON, "purpose", "sentAt", "toAllMembers", "sentBy", "recipients"),
        "status": Read(MEMBERS, _diffusion_status),
        "statusReason": Read(MEMBERS, _status_reason),
        "subjectToReview": Read(MEMBERS, _subject_to_review),
        "allowCountries": Read(MEMBERS, _source_or_oversight),
        "denyCountries": Read(MEMBERS, _source_or_oversight),
        **_fields(OVERSIGHT_ONLY, "blocked", "blockReason", "reviewFlag"),
    },
    "AsylumApplication": {  # R7: the row predicate keeps the feared country out
        **_fields(
            APPLICATIONS,
            "id",
            "lodgedAt",
            "status",
            "decidedAt",
            "legalBasis",
            "deniedOnCriminalGrounds",
            "screeningResult",
            "screeningRefs",
            "receivingCountryCode",
            "fearedPersecutionCountryCode",
            "applicant",
            "receivingCountry",
            "fearedPersecutionCountry",
        ),
        "notifications": Read(OVERSIGHT_ONLY),  # R9
    },
    "StatusNotification": _fields(
        OVERSIGHT_ONLY,
        "id",
        "createdAt",
        "outcome",
        "decidedAt",
        "legalBasis",
        "receivingCountryCode",
        "fearedPersecutionCountryCode",
        "deniedOnCriminalGrounds",
        "application",
    ),
    # Live alerts: the row predicate keeps each saved screening to its own agency.
    "SavedScreening": _fields(
        AUTHENTICATED, "id", "familyName", "givenNames", "dateOfBirth", "nationality", "documentNumber",
        "createdAt",
    ),
    "IdentityLink": {  # the row predicate admits only callers who see both persons (R16, R18)
        **_fields(AUTHENTICATED, "id", "status", "criteria", "score", "createdAt", "updatedAt", "verifiedAt", "persons"),
        "colour": Read(AUTHENTICATED, _link_colour),
        "verifiedBy": Read(AUTHENTICATED, _own_country_verifier),
        # A verifier's free text may cite what others may not read (an asylum file): read
        # like the verifier, by the GS, the CCF and the verifier's own country.
        "reason": Read(MEMBERS, _own_country_verifier),
    },
    "AccessEvent": _fields(
        OVERSIGHT_ONLY,
        "seq",
        "id",
        "at",
        "userId",
        "agencyId",
        "operation",
        "purpose",
        "ids",
        "hit",
        "outcome",
        "hash",
    ),
}


def listed(c: Caller, type_name: str, field: str) -> Read | None:
    """The view's entry for the field if one of the caller's classes may read it."""
    entry = VIEW.get(type_name, {}).get(field)
    if entry is None or not entry.who & classes(c):
        return None
    return entry


def read(c: Caller, type_name: str, field: str, v: Var, value: Expr) -> Expr | None:
    """The expression through which the caller reads ``type_name.field`` on ``v``, given
    the stored value's expression; None when the caller may not read the field."""
    entry = listed(c, type_name, field)
    return entry.reader(c, v, value) if entry else None


def related(c: Caller, type_name: str, field: str, t: Var) -> Pred | None:
    """For a relationship field: the extra condition on the target ``t`` the caller reads
    it under (``TRUE`` for none), or None when the caller may not read the field. The
    target's own row predicate applies besides."""
    condition = read(c, type_name, field, t, TRUE)
    if condition is None:
        return None
    assert isinstance(condition, Pred), f"{type_name}.{field} is a relationship: its reader gives a predicate"
    return condition


def readable(c: Caller, type_name: str, field: str) -> bool:
    return listed(c, type_name, field) is not None


def link_step(c: Caller, x: Var) -> Pred:
    """R16/R18: a path may step to person ``x`` over a link when the caller sees ``x`` (it
    already sees where the step starts, so it sees both ends). The public reads no links:
    it reads no person's travel documents or associates beyond the extract (R13)."""
    if PUBLIC in classes(c):
        return FALSE
    return policy.person_visible(c, x)


def searchable_names(c: Caller) -> tuple[str, ...] | None:
    """The name fields a name search may match: only those the caller reads (R13, R17);
    None for every field of the full-text index."""
    names = ("familyName", "givenNames", "aliases", "nameVariants", "nameOriginalScript")
    if all(readable(c, "Person", n) for n in names):
        return None
    return tuple(n for n in ("familyName", "givenNames") if readable(c, "Person", n))
