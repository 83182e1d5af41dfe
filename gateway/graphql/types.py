"""The GraphQL types: a contract with client applications.

Every object field reads its value from the row that the compiled Cypher statement
returned, by its response key (so aliases work). Each field's metadata tells the compiler
where its value lives in the graph: a property (``prop``), a value the field view
computes (``computed``) or a relationship to another type (``relation``). Which rows a caller sees is decided in ``gateway.rules.policy``, which
fields it reads and through which expression in ``gateway.rules.view``: a field added here
is hidden from every caller until the view lists it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.cypher.pieces import Comparison, Pattern, into, out, pattern
from graph_schema.model import (
    AgencyKind,
    AgencySubtype,
    ApplicationStatus,
    DiffusionPurpose,
    DocumentStatus,
    DocumentType,
    IdentityCriterion,
    IdentityLinkStatus,
    LegalBasis,
    NoticeStatus,
    NoticeType,
    Purpose,
)
from graph_schema.model import (
    ScreeningResult as ScreeningOutcome,
)

# --- How a field maps to the graph ------------------------------------------------------


@dataclass(frozen=True)
class Prop:
    name: str | None = None  # None: the GraphQL field name


@dataclass(frozen=True)
class Computed:
    """A value the field view computes (``gateway.rules.view``), not a stored property."""


@dataclass(frozen=True)
class SortKey:
    """An order by a GraphQL field name of the sorted type, read through the field view;
    ``fallback`` is used when the caller may not read ``field`` (default and nested orders
    only: a sort the caller asks for by a field it may not read is refused)."""

    field: str
    descending: bool = False
    fallback: SortKey | None = None


@dataclass(frozen=True)
class Relation:
    pattern: Pattern  # from this node to the target, whose label is the target's type name
    many: bool = True
    order: tuple[SortKey, ...] = ()  # then the target type's key, always

    @property
    def target(self) -> str:
        return self.pattern.target


@dataclass(frozen=True)
class On:
    """What a filter input compares: a GraphQL field name of the filtered type, or
    ``relation.field`` for "some related record the caller sees has this value"."""

    field: str
    op: Comparison = "="
    country: bool = False  # the value is a country code, checked as one
    also: str | None = None  # a boolean field that matches as well (diffusions to all members)


@dataclass(frozen=True)
class NameSearch:
    """A tolerant search over the name fields the caller may read."""


GRAPH = "graph"
FILTER = "filter"


def row_value(row: Any, key: str | int) -> Any:
    """A response key's value in a compiled row (Neo4j's temporal values as Python's)."""
    value = row.get(key)
    to_native = getattr(value, "to_native", None)
    return to_native() if to_native else value


def _from_row(root: Any, info: Info) -> Any:
    return row_value(root, info.path.key)


def prop(name: str | None = None, description: str | None = None) -> Any:
    return strawberry.field(resolver=_from_row, metadata={GRAPH: Prop(name)}, description=description)


def computed(description: str | None = None) -> Any:
    return strawberry.field(resolver=_from_row, metadata={GRAPH: Computed()}, description=description)


def relation(
    path: Pattern, many: bool = True, order: tuple[SortKey, ...] = (), description: str | None = None
) -> Any:
    return strawberry.field(
        resolver=_from_row, metadata={GRAPH: Relation(path, many, order)}, description=description
    )


def on(field: str, op: Comparison = "=", country: bool = False, also: str | None = None) -> Any:
    return strawberry.field(default=strawberry.UNSET, metadata={FILTER: On(field, op, country, also)})


def row_field() -> Any:
    """A field of a result wrapper (connection, link graph) that the compiler fills directly."""
    return strawberry.field(resolver=_from_row)


# Default and nested orders (DECISIONS 3): only by fields the caller reads.
NOTICE_ORDER = SortKey("requestedAt", True, fallback=SortKey("publishedAt", True))
DIFFUSION_ORDER = SortKey("sentAt", True)


# --- Enums ----------------------------------------------------------------------------


# The model's enums are the GraphQL enums: one definition for the graph and the API.
for _enum, _description in (
    (AgencyKind, "What an agency is in the organisation."),
    (AgencySubtype, "The kind of a national entity."),
    (NoticeType, "The eight kinds of notice."),
    (NoticeStatus, "A notice's place in its lifecycle (R5, R14)."),
    (DiffusionPurpose, "What a diffusion asks of its recipients."),
    (ApplicationStatus, "An asylum application's status."),
    (LegalBasis, "The legal basis of an asylum decision."),
    (DocumentStatus, "A travel document's status."),
    (DocumentType, "A travel document's type."),
    (Purpose, "Why a request reads or writes personal data (R2)."),
    (IdentityLinkStatus, "CANDIDATE (yellow) until verified: SAME_PERSON_UNLAWFUL (red), SAME_PERSON_LAWFUL (white), DIFFERENT_PERSONS (green)."),
    (IdentityCriterion, "What two records of an identity link share."),
):
    strawberry.enum(_enum, description=_description)
strawberry.enum(ScreeningOutcome, name="ScreeningOutcome", description="The answer of a screening (R11).")


@strawberry.enum(description="The state of a diffusion.")
class DiffusionStatus(Enum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"


# --- Non-personal types -----------------------------------------------------------------


@strawberry.type(description="A member country.")
class Country:
    code: str = prop(description="ISO 3166-1 alpha-2")
    name: str = prop()
    region: str | None = prop()
    ncb: Agency | None = relation(pattern(into("OF_COUNTRY", "Agency"), where=[("kind", "NCB")]), many=False)
    agencies: list[Agency] = relation(pattern(into("OF_COUNTRY", "Agency")))


@strawberry.type(description="An NCB, a national or international entity, the GS or the CCF.")
class Agency:
    id: strawberry.ID = prop()
    name: str = prop()
    kind: AgencyKind = prop()
    subtype: AgencySubtype | None = prop()
    active: bool = prop()
    scopes: list[str] | None = computed(
        description="What the agency's NCB authorised it to do (national entities)."
    )
    country: Country | None = relation(pattern(out("OF_COUNTRY", "Country")), many=False)
    authorized_by: Agency | None = relation(pattern(out("AUTHORIZED_BY", "Agency")), many=False)


# --- Personal data ----------------------------------------------------------------------


@strawberry.type(description="A person, with what the caller may see of them (R12, R18).")
class Person:
    id: strawberry.ID = prop()
    family_name: str | None = prop()
    given_names: str | None = prop()
    aliases: list[str] | None = prop()
    name_original_script: str | None = prop()
    script: str | None = prop()
    name_variants: list[str] | None = prop()
    date_of_birth: datetime.date | None = prop()
    sex: str | None = prop()
    fingerprint_ref: str | None = prop(description="Biometric reference: NCBs, GS and CCF only.")
    dna_ref: str | None = prop(description="Biometric reference: NCBs, GS and CCF only.")
    nationalities: list[Country] = relation(pattern(out("NATIONAL_OF", "Country")))
    recorded_by: Agency | None = relation(
        pattern(out("RECORDED_BY", "Agency")),
        many=False,
        description="The recording agency: GS, CCF and the agency's own country only; else null.",
    )
    travel_documents: list[TravelDocument] = relation(pattern(out("HOLDS", "TravelDocument")))
    notices: list[Notice] = relation(pattern(into("CONCERNS", "Notice")), order=(NOTICE_ORDER,))
    diffusions: list[Diffusion] = relation(pattern(into("CONCERNS", "Diffusion")), order=(DIFFUSION_ORDER,))
    asylum_applications: list[AsylumApplication] = relation(pattern(out("APPLIED_FOR", "AsylumApplication")))
    identity_links: list[IdentityLink] = relation(
        pattern(into("LINKS", "IdentityLink")),
        order=(SortKey("score", True),),
        description="Records that may be the same person: only links whose two persons the caller sees.",
    )


@strawberry.type(description="A passport, identity card or travel document.")
class TravelDocument:
    number: str = prop()
    type: DocumentType = prop()
    status: DocumentStatus = prop()
    issuing_country_code: str = prop("issuingCountry")
    issuing_country: Country | None = relation(pattern(out("ISSUED_BY", "Country")), many=False)
    holder: Person | None = relation(pattern(into("HOLDS", "Person")), many=False)


@strawberry.type(description="A notice (R3-R5, R8, R13, R14).")
class Notice:
    id: strawberry.ID = prop()
    type: NoticeType = prop()
    status: NoticeStatus = prop()
    status_reason: str | None = prop()
    offence_summary: str | None = prop()
    requested_at: datetime.datetime | None = prop()
    published_at: datetime.datetime | None = prop()
    expires_at: datetime.datetime | None = prop()
    review_due_at: datetime.datetime | None = prop()
    public_extract: bool | None = prop()
    allow_countries: list[str] | None = prop(description="Source and GS/CCF only.")
    deny_countries: list[str] | None = prop(description="Source and GS/CCF only.")
    blocked: bool | None = prop(description="GS and CCF only.")
    block_reason: str | None = prop(description="GS and CCF only.")
    review_flag: bool | None = prop(description="Flagged for GS review (R8); GS and CCF only.")
    source_country_code: str | None = prop("sourceCountry")
    source_country: Country | None = relation(
        pattern(out("REQUESTED_BY", "Agency"), out("OF_COUNTRY", "Country")), many=False
    )
    requested_by: Agency | None = relation(pattern(out("REQUESTED_BY", "Agency")), many=False)
    subject: Person | None = relation(pattern(out("CONCERNS", "Person")), many=False)


@strawberry.type(description="A diffusion: a request sent directly to chosen countries (R6).")
class Diffusion:
    id: strawberry.ID = prop()
    purpose: DiffusionPurpose = prop()
    status: DiffusionStatus = prop()
    status_reason: str | None = prop()
    sent_at: datetime.datetime | None = prop()
    to_all_members: bool = prop()
    subject_to_review: bool = computed(description="Until the GS has reviewed it (R6).")
    allow_countries: list[str] | None = prop()
    deny_countries: list[str] | None = prop()
    blocked: bool | None = prop()
    block_reason: str | None = prop()
    review_flag: bool | None = prop()
    source_country_code: str | None = prop("sourceCountry")
    sent_by: Agency | None = relation(pattern(out("SENT_BY", "Agency")), many=False)
    recipients: list[Country] = relation(pattern(out("SENT_TO", "Country")))
    subject: Person | None = relation(pattern(out("CONCERNS", "Person")), many=False)


@strawberry.type(description="An asylum application: confidential (R7).")
class AsylumApplication:
    id: strawberry.ID = prop()
    lodged_at: datetime.date | None = prop()
    status: ApplicationStatus = prop()
    decided_at: datetime.date | None = prop()
    legal_basis: LegalBasis | None = prop()
    denied_on_criminal_grounds: bool | None = prop()
    screening_result: ScreeningOutcome | None = prop()
    screening_refs: list[str] | None = prop()
    receiving_country_code: str = prop("receivingCountry")
    feared_persecution_country_code: str = prop("fearedCountry")
    applicant: Person | None = relation(pattern(into("APPLIED_FOR", "Person")), many=False)
    receiving_country: Country | None = relation(pattern(out("LODGED_IN", "Country")), many=False)
    feared_persecution_country: Country | None = relation(
        pattern(out("FEARS_PERSECUTION_IN", "Country")), many=False
    )
    notifications: list[StatusNotification] = relation(pattern(into("REPORTS", "StatusNotification")))


@strawberry.type(description="The confidential report of an asylum decision (R9): GS and CCF only.")
class StatusNotification:
    id: strawberry.ID = prop()
    created_at: datetime.datetime | None = prop()
    outcome: ApplicationStatus = prop()
    decided_at: datetime.date | None = prop()
    legal_basis: LegalBasis | None = prop()
    receiving_country_code: str = prop("receivingCountry")
    feared_persecution_country_code: str = prop("fearedCountry")
    denied_on_criminal_grounds: bool | None = prop()
    application: AsylumApplication | None = relation(pattern(out("REPORTS", "AsylumApplication")), many=False)


@strawberry.type(description="One audit record (R15): GS and CCF only.")
class AccessEvent:
    seq: int = prop()
    id: strawberry.ID = prop()
    at: datetime.datetime = prop()
    user_id: str | None = prop()
    agency_id: str | None = prop()
    operation: str = prop()
    purpose: str | None = prop()
    ids: list[str] = prop()
    hit: bool | None = prop()
    outcome: str | None = prop()
    hash: str = prop()


@strawberry.type(description="A screening an agency saved for live alerts: its own agency only.")
class SavedScreening:
    id: strawberry.ID = prop()
    family_name: str = prop()
    given_names: str | None = prop()
    date_of_birth: datetime.date | None = prop()
    nationality: str | None = prop()
    document_number: str | None = prop()
    created_at: datetime.datetime | None = prop()
@strawberry.type(
    description=(
        "Two person records that may be the same person (multiple-identity detection): visible only to "
        "callers who see both persons (R16, R18)."
    )
)
class IdentityLink:
    id: strawberry.ID = prop()
    status: IdentityLinkStatus = prop()
    colour: str = computed(description="YELLOW (candidate), RED, WHITE or GREEN (verified).")
    criteria: list[IdentityCriterion] = prop()
    score: float = prop(description="0 to 1: how strongly the criteria suggest one person.")
    created_at: datetime.datetime | None = prop()
    updated_at: datetime.datetime | None = prop()
    verified_at: datetime.datetime | None = prop()
    verified_by: str | None = prop(description="The verifying agency: GS, CCF and its own country only.")
    reason: str | None = prop(description="The verifier's reason: GS, CCF and the verifier's own country.")
    persons: list[Person] = relation(pattern(out("LINKS", "Person")))


# --- Result wrappers --------------------------------------------------------------------


@strawberry.type
class PageInfo:
    has_next_page: bool = row_field()
    has_previous_page: bool = row_field()
    start_cursor: str | None = row_field()
    end_cursor: str | None = row_field()


def _connection(node: type, name: str) -> type:
    edge = strawberry.type(
        type(f"{name}Edge", (), {"__annotations__": {"cursor": str, "node": node},
                                  "cursor": row_field(), "node": row_field()}),
    )  # fmt: skip
    return strawberry.type(
        type(f"{name}Connection", (), {
            "__annotations__": {"edges": list[edge], "page_info": PageInfo, "total_count": int},  # type: ignore[valid-type]
            "edges": row_field(), "page_info": row_field(), "total_count": row_field(),
        }),
        description=f"A page of {name} records; totalCount counts every visible match.",
    )  # fmt: skip


PersonConnection = _connection(Person, "Person")
NoticeConnection = _connection(Notice, "Notice")
DiffusionConnection = _connection(Diffusion, "Diffusion")
AsylumApplicationConnection = _connection(AsylumApplication, "AsylumApplication")
StatusNotificationConnection = _connection(StatusNotification, "StatusNotification")
AccessEventConnection = _connection(AccessEvent, "AccessEvent")
IdentityLinkConnection = _connection(IdentityLink, "IdentityLink")


@strawberry.type(description="A link between two persons (R16, R18).")
class Link:
    source: strawberry.ID = row_field()
    target: strawberry.ID = row_field()
    kind: str | None = row_field()


@strawberry.type(
    description=(
        "The visible neighbourhood of a person, for graph views: at most 200 persons, nearest first; "
        "truncated when more were reachable."
    )
)
class LinkGraph:
    nodes: list[Person] = row_field()
    edges: list[Link] = row_field()
    truncated: bool = row_field()


@strawberry.type(description="The shortest visible path between two persons.")
class Path:
    length: int = row_field()
    nodes: list[Person] = row_field()
    edges: list[Link] = row_field()


@strawberry.type(description="One record behind a screening hit (R11).")
class ScreeningMatch:
    reference: str = row_field()
    kind: str = row_field()
    notice_type: NoticeType | None = row_field()
    source_country_code: str | None = row_field()
    instruction: str | None = row_field()
    person: Person | None = row_field()
    notice: Notice | None = row_field()
    diffusion: Diffusion | None = row_field()
    identity_links: list[IdentityLink] = strawberry.field(
        resolver=_from_row,
        description="Verified same-person links of the person hit, whose other person the caller sees too.",
    )


@strawberry.type(description="Hit or no-hit, with what R11 lets the caller see.")
class ScreeningResult:
    outcome: ScreeningOutcome = row_field()
    hit: bool = row_field()
    matches: list[ScreeningMatch] = row_field()


@strawberry.enum(description="Why a live alert reached the caller.")
class AlertReason(Enum):
    WATCHED_PERSON = "WATCHED_PERSON"
    SAVED_SCREENING = "SAVED_SCREENING"
    OWN_ITEM = "OWN_ITEM"


@strawberry.type(
    description=(
        "A notice or diffusion that became visible to the caller, or changed as the caller sees it: "
        "exactly as the notice and diffusion queries would show it now (R8: a block reads as a cancellation)."
    )
)
class NoticeAlert:
    reasons: list[AlertReason] = row_field()
    saved_screening_ids: list[strawberry.ID] = row_field()
    notice: Notice | None = row_field()
    diffusion: Diffusion | None = row_field()


@strawberry.type(description="The caller, as the graph knows it.")
class Me:
    user: str | None = row_field()
    agency: Agency | None = row_field()
    country_code: str | None = row_field()
    scopes: list[str] = row_field()
    public: bool = row_field()


# --- Inputs -----------------------------------------------------------------------------
# Filters and sorts name GraphQL fields of the type they filter (``on``, ``SortKey``): the
# compiler reads each through the field view, so they compare the value the caller is shown
# and refuse a field the caller may not read (DECISIONS 2).


@strawberry.input
class PersonFilter:
    name: str | None = strawberry.field(default=strawberry.UNSET, metadata={FILTER: NameSearch()})
    nationality: str | None = on("nationalities.code", country=True)
    born_after: datetime.date | None = on("dateOfBirth", ">=")
    born_before: datetime.date | None = on("dateOfBirth", "<=")
    has_notice_type: NoticeType | None = on("notices.type")


@strawberry.input
class NoticeFilter:
    type: NoticeType | None = on("type")
    status: NoticeStatus | None = on("status")
    source_country: str | None = on("sourceCountryCode", country=True)
    subject_id: strawberry.ID | None = on("subject.id")


@strawberry.input
class DiffusionFilter:
    sender_country: str | None = on("sourceCountryCode", country=True)
    recipient_country: str | None = on("recipients.code", country=True, also="toAllMembers")
    subject_to_review: bool | None = on("subjectToReview")


@strawberry.input
class AsylumApplicationFilter:
    status: ApplicationStatus | None = on("status")
    receiving_country: str | None = on("receivingCountryCode", country=True)


@strawberry.input
class StatusNotificationFilter:
    outcome: ApplicationStatus | None = on("outcome")
    receiving_country: str | None = on("receivingCountryCode", country=True)


@strawberry.input
class AccessEventFilter:
    agency_id: str | None = on("agencyId")
    user_id: str | None = on("userId")
    operation: str | None = on("operation")


@strawberry.input
class IdentityLinkFilter:
    status: IdentityLinkStatus | None = on("status")
    person_id: strawberry.ID | None = on("persons.id")
    min_score: float | None = on("score", ">=")


@strawberry.input
class ScreeningInput:
    family_name: str
    given_names: str | None = strawberry.UNSET
    date_of_birth: datetime.date | None = strawberry.UNSET
    nationality: str | None = strawberry.UNSET
    document_number: str | None = strawberry.UNSET


@strawberry.enum
class PersonSort(Enum):
    FAMILY_NAME_ASC = SortKey("familyName")
    FAMILY_NAME_DESC = SortKey("familyName", True)
    DATE_OF_BIRTH_ASC = SortKey("dateOfBirth")
    DATE_OF_BIRTH_DESC = SortKey("dateOfBirth", True)


@strawberry.enum(description="Omitted: requestedAt descending when the caller reads it, else publishedAt.")
class NoticeSort(Enum):
    REQUESTED_AT_DESC = SortKey("requestedAt", True)
    REQUESTED_AT_ASC = SortKey("requestedAt")
    PUBLISHED_AT_DESC = SortKey("publishedAt", True)


@strawberry.enum
class DiffusionSort(Enum):
    SENT_AT_DESC = SortKey("sentAt", True)
    SENT_AT_ASC = SortKey("sentAt")


@strawberry.enum(description="Omitted: score descending.")
class IdentityLinkSort(Enum):
    SCORE_DESC = SortKey("score", True)
    CREATED_AT_DESC = SortKey("createdAt", True)


@strawberry.enum
class AsylumApplicationSort(Enum):
    LODGED_AT_DESC = SortKey("lodgedAt", True)
    LODGED_AT_ASC = SortKey("lodgedAt")
