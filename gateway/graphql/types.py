"""The GraphQL types: a contract with client applications.

Every object field reads its value from the row that the compiled Cypher statement
returned, by its response key (so aliases work). Each field's metadata tells the compiler
where its value lives in the graph: a property (``prop``), a Cypher expression (``expr``),
or a relationship to another type (``relation``). Which rows and fields a caller sees is
not decided here but in ``gateway.policy``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from graph_schema.model import (
    AgencyKind,
    AgencySubtype,
    ApplicationStatus,
    DiffusionPurpose,
    DocumentStatus,
    DocumentType,
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
class Expr:
    template: str  # Cypher with {v} for the node


@dataclass(frozen=True)
class Relation:
    pattern: str  # Cypher pattern with {v} (this node) and {t} (the target)
    target: str  # the target's label, which is also its GraphQL type name
    many: bool = True
    order: str = "{t}.id"


GRAPH = "graph"


def _from_row(root: Any, info: Info) -> Any:
    value = root.get(info.path.key)
    to_native = getattr(value, "to_native", None)
    return to_native() if to_native else value


def prop(name: str | None = None, description: str | None = None) -> Any:
    return strawberry.field(resolver=_from_row, metadata={GRAPH: Prop(name)}, description=description)


def expr(template: str, description: str | None = None) -> Any:
    return strawberry.field(resolver=_from_row, metadata={GRAPH: Expr(template)}, description=description)


def relation(
    pattern: str, target: str, many: bool = True, order: str = "{t}.id", description: str | None = None
) -> Any:
    return strawberry.field(
        resolver=_from_row,
        metadata={GRAPH: Relation(pattern, target, many, order)},
        description=description,
    )


def row_field() -> Any:
    """A field of a result wrapper (connection, link graph) that the compiler fills directly."""
    return strawberry.field(resolver=_from_row)


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
    ncb: Agency | None = relation("({v})<-[:OF_COUNTRY]-({t}:Agency {{kind: 'NCB'}})", "Agency", many=False)
    agencies: list[Agency] = relation("({v})<-[:OF_COUNTRY]-({t}:Agency)", "Agency")


@strawberry.type(description="An NCB, a national or international entity, the GS or the CCF.")
class Agency:
    id: strawberry.ID = prop()
    name: str = prop()
    kind: AgencyKind = prop()
    subtype: AgencySubtype | None = prop()
    active: bool = prop()
    scopes: list[str] | None = expr(
        "head(COLLECT { MATCH ({v})-[r:AUTHORIZED_BY]->(:Agency) RETURN r.scopes })",
        description="What the agency's NCB authorised it to do (national entities).",
    )
    country: Country | None = relation("({v})-[:OF_COUNTRY]->({t}:Country)", "Country", many=False)
    authorized_by: Agency | None = relation("({v})-[:AUTHORIZED_BY]->({t}:Agency)", "Agency", many=False)


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
    nationalities: list[Country] = relation(
        "({v})-[:NATIONAL_OF]->({t}:Country)", "Country", order="{t}.code"
    )
    recorded_by: Agency | None = relation("({v})-[:RECORDED_BY]->({t}:Agency)", "Agency", many=False)
    travel_documents: list[TravelDocument] = relation(
        "({v})-[:HOLDS]->({t}:TravelDocument)", "TravelDocument", order="{t}.number"
    )
    notices: list[Notice] = relation(
        "({v})<-[:CONCERNS]-({t}:Notice)", "Notice", order="{t}.requestedAt DESC, {t}.id"
    )
    diffusions: list[Diffusion] = relation(
        "({v})<-[:CONCERNS]-({t}:Diffusion)", "Diffusion", order="{t}.sentAt DESC, {t}.id"
    )
    asylum_applications: list[AsylumApplication] = relation(
        "({v})-[:APPLIED_FOR]->({t}:AsylumApplication)", "AsylumApplication"
    )


@strawberry.type(description="A passport, identity card or travel document.")
class TravelDocument:
    number: str = prop()
    type: DocumentType = prop()
    status: DocumentStatus = prop()
    issuing_country_code: str = prop("issuingCountry")
    issuing_country: Country | None = relation("({v})-[:ISSUED_BY]->({t}:Country)", "Country", many=False)
    holder: Person | None = relation("({v})<-[:HOLDS]-({t}:Person)", "Person", many=False)


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
        "({v})-[:REQUESTED_BY]->(:Agency)-[:OF_COUNTRY]->({t}:Country)", "Country", many=False
    )
    requested_by: Agency | None = relation("({v})-[:REQUESTED_BY]->({t}:Agency)", "Agency", many=False)
    subject: Person | None = relation("({v})-[:CONCERNS]->({t}:Person)", "Person", many=False)


@strawberry.type(description="A diffusion: a request sent directly to chosen countries (R6).")
class Diffusion:
    id: strawberry.ID = prop()
    purpose: DiffusionPurpose = prop()
    status: DiffusionStatus = prop()
    status_reason: str | None = prop()
    sent_at: datetime.datetime | None = prop()
    to_all_members: bool = prop()
    subject_to_review: bool = prop("reviewed", description="Until the GS has reviewed it (R6).")
    allow_countries: list[str] | None = prop()
    deny_countries: list[str] | None = prop()
    blocked: bool | None = prop()
    block_reason: str | None = prop()
    review_flag: bool | None = prop()
    source_country_code: str | None = prop("sourceCountry")
    sent_by: Agency | None = relation("({v})-[:SENT_BY]->({t}:Agency)", "Agency", many=False)
    recipients: list[Country] = relation("({v})-[:SENT_TO]->({t}:Country)", "Country", order="{t}.code")
    subject: Person | None = relation("({v})-[:CONCERNS]->({t}:Person)", "Person", many=False)


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
    applicant: Person | None = relation("({v})<-[:APPLIED_FOR]-({t}:Person)", "Person", many=False)
    receiving_country: Country | None = relation("({v})-[:LODGED_IN]->({t}:Country)", "Country", many=False)
    feared_persecution_country: Country | None = relation(
        "({v})-[:FEARS_PERSECUTION_IN]->({t}:Country)", "Country", many=False
    )
    notifications: list[StatusNotification] = relation(
        "({v})<-[:REPORTS]-({t}:StatusNotification)", "StatusNotification"
    )


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
    application: AsylumApplication | None = relation(
        "({v})-[:REPORTS]->({t}:AsylumApplication)", "AsylumApplication", many=False
    )


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


@strawberry.type(description="A link between two persons (R16, R18).")
class Link:
    source: strawberry.ID = row_field()
    target: strawberry.ID = row_field()
    kind: str | None = row_field()


@strawberry.type(description="The visible neighbourhood of a person, for graph views.")
class LinkGraph:
    nodes: list[Person] = row_field()
    edges: list[Link] = row_field()


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


@strawberry.type(description="Hit or no-hit, with what R11 lets the caller see.")
class ScreeningResult:
    outcome: ScreeningOutcome = row_field()
    hit: bool = row_field()
    matches: list[ScreeningMatch] = row_field()


@strawberry.type(description="The caller, as the graph knows it.")
class Me:
    user: str | None = row_field()
    agency: Agency | None = row_field()
    country_code: str | None = row_field()
    scopes: list[str] = row_field()
    public: bool = row_field()


# --- Inputs -----------------------------------------------------------------------------


@strawberry.input
class PersonFilter:
    name: str | None = strawberry.UNSET
    nationality: str | None = strawberry.UNSET
    born_after: datetime.date | None = strawberry.UNSET
    born_before: datetime.date | None = strawberry.UNSET
    has_notice_type: NoticeType | None = strawberry.UNSET


@strawberry.input
class NoticeFilter:
    type: NoticeType | None = strawberry.UNSET
    status: NoticeStatus | None = strawberry.UNSET
    source_country: str | None = strawberry.UNSET
    subject_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input
class DiffusionFilter:
    sender_country: str | None = strawberry.UNSET
    recipient_country: str | None = strawberry.UNSET
    reviewed: bool | None = strawberry.UNSET


@strawberry.input
class AsylumApplicationFilter:
    status: ApplicationStatus | None = strawberry.UNSET
    receiving_country: str | None = strawberry.UNSET


@strawberry.input
class StatusNotificationFilter:
    outcome: ApplicationStatus | None = strawberry.UNSET
    receiving_country: str | None = strawberry.UNSET


@strawberry.input
class AccessEventFilter:
    agency_id: str | None = strawberry.UNSET
    user_id: str | None = strawberry.UNSET
    operation: str | None = strawberry.UNSET


@strawberry.input
class ScreeningInput:
    family_name: str
    given_names: str | None = strawberry.UNSET
    date_of_birth: datetime.date | None = strawberry.UNSET
    nationality: str | None = strawberry.UNSET
    document_number: str | None = strawberry.UNSET


@strawberry.enum
class PersonSort(Enum):
    FAMILY_NAME_ASC = "{v}.familyName ASC"
    FAMILY_NAME_DESC = "{v}.familyName DESC"
    DATE_OF_BIRTH_ASC = "{v}.dateOfBirth ASC"
    DATE_OF_BIRTH_DESC = "{v}.dateOfBirth DESC"


@strawberry.enum
class NoticeSort(Enum):
    REQUESTED_AT_DESC = "{v}.requestedAt DESC"
    REQUESTED_AT_ASC = "{v}.requestedAt ASC"
    PUBLISHED_AT_DESC = "{v}.publishedAt DESC"


@strawberry.enum
class DiffusionSort(Enum):
    SENT_AT_DESC = "{v}.sentAt DESC"
    SENT_AT_ASC = "{v}.sentAt ASC"


@strawberry.enum
class AsylumApplicationSort(Enum):
    LODGED_AT_DESC = "{v}.lodgedAt DESC"
    LODGED_AT_ASC = "{v}.lodgedAt ASC"
