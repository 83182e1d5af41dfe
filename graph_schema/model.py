"""The graph model: labels, relationship types, properties and their value sets.

This module is the single source of the vocabulary that the migrations, the seed, the
GraphQL types and the policy share. Property names are camelCase, as stored in Neo4j.

Nodes (key property first):

- ``Country {code, name, region}``
- ``Agency {id, name, kind, subtype, active}``; ``subtype`` only for national entities.
  The GS, the CCF and international entities have no country.
- ``Person {id, familyName, givenNames, aliases, nameOriginalScript, script, nameVariants,
  dateOfBirth, sex, fingerprintRef, dnaRef}``; ``familyName``/``givenNames`` are the Latin
  transliteration, ``nameVariants`` other transliterations and spellings.
  ``fingerprintRef`` and ``dnaRef`` are biometric references (R12).
- ``TravelDocument {number, issuingCountry, type, status}``; unique per (issuingCountry, number).
- ``Notice {id, type, status, offenceSummary, requestedAt, publishedAt, expiresAt,
  reviewDueAt, publicExtract, allowCountries, denyCountries, blocked, blockReason,
  reviewFlag, statusReason, sourceCountry, version}``
- ``Diffusion {id, purpose, sentAt, toAllMembers, reviewed, allowCountries, denyCountries,
  blocked, blockReason, reviewFlag, sourceCountry, version}``
- ``AsylumApplication {id, lodgedAt, status, decidedAt, legalBasis, deniedOnCriminalGrounds,
  screeningResult, screeningRefs, receivingCountry, fearedCountry, version}``
- ``StatusNotification {id, createdAt, outcome, decidedAt, legalBasis, receivingCountry,
  fearedCountry, deniedOnCriminalGrounds}``
- ``AccessEvent {seq, id, at, userId, agencyId, operation, purpose, ids, hit, outcome,
  prevHash, hash}``: the audit chain (R15).
- ``SchemaMigration {version, name, appliedAt}``
- ``IdentityLink {id, key, criteria, score, status, createdAt, updatedAt, verifiedBy,
  verifiedByUser, verifiedAt, reason}``: two Person records that may be the same person
  (multiple-identity detection), with ``(IdentityLink)-[:LINKS]->(Person)`` to each of the
  two. ``key`` is the two person ids in order (``P-a|P-b``), unique, so a pair is linked once.

``sourceCountry``, ``receivingCountry`` and ``fearedCountry`` copy the country code that the
relationships also record. They are written once, when the record is created, and never
change (an agency never changes country), so the access predicates can test them without
walking two hops for every row.

Dates (``dateOfBirth``, ``lodgedAt``, ``decidedAt``) are Neo4j ``DATE``; instants
(``requestedAt``, ``publishedAt``, ``expiresAt``, ``reviewDueAt``, ``sentAt``, ``at``) are
``DATETIME`` in UTC.
"""

from __future__ import annotations

from enum import StrEnum


class Label(StrEnum):
    COUNTRY = "Country"
    AGENCY = "Agency"
    PERSON = "Person"
    TRAVEL_DOCUMENT = "TravelDocument"
    NOTICE = "Notice"
    DIFFUSION = "Diffusion"
    ASYLUM_APPLICATION = "AsylumApplication"
    STATUS_NOTIFICATION = "StatusNotification"
    ACCESS_EVENT = "AccessEvent"
    SCHEMA_MIGRATION = "SchemaMigration"
    IDENTITY_LINK = "IdentityLink"


class Rel(StrEnum):
    OF_COUNTRY = "OF_COUNTRY"  # (Agency)->(Country)
    AUTHORIZED_BY = "AUTHORIZED_BY"  # (Agency national entity)->(Agency NCB) {scopes}
    RECORDED_BY = "RECORDED_BY"  # (Person)->(Agency)
    NATIONAL_OF = "NATIONAL_OF"  # (Person)->(Country)
    HOLDS = "HOLDS"  # (Person)->(TravelDocument)
    ISSUED_BY = "ISSUED_BY"  # (TravelDocument)->(Country)
    CONCERNS = "CONCERNS"  # (Notice|Diffusion)->(Person)
    REQUESTED_BY = "REQUESTED_BY"  # (Notice)->(Agency)
    SENT_BY = "SENT_BY"  # (Diffusion)->(Agency)
    SENT_TO = "SENT_TO"  # (Diffusion)->(Country)
    APPLIED_FOR = "APPLIED_FOR"  # (Person)->(AsylumApplication)
    LODGED_IN = "LODGED_IN"  # (AsylumApplication)->(Country)
    FEARS_PERSECUTION_IN = "FEARS_PERSECUTION_IN"  # (AsylumApplication)->(Country)
    ASSOCIATE_OF = "ASSOCIATE_OF"  # (Person)->(Person) {kind}
    REPORTS = "REPORTS"  # (StatusNotification)->(AsylumApplication)
    LINKS = "LINKS"  # (IdentityLink)->(Person), twice


class AgencyKind(StrEnum):
    NCB = "NCB"
    NATIONAL_ENTITY = "NATIONAL_ENTITY"
    INTERNATIONAL_ENTITY = "INTERNATIONAL_ENTITY"
    GENERAL_SECRETARIAT = "GENERAL_SECRETARIAT"
    CCF = "CCF"


class AgencySubtype(StrEnum):
    POLICE = "POLICE"
    BORDER = "BORDER"
    ASYLUM = "ASYLUM"
    JUDICIAL = "JUDICIAL"


class Scope(StrEnum):
    SCREEN = "screen"
    READ = "read"
    ASYLUM = "asylum"


DEFAULT_SCOPES: dict[AgencySubtype, tuple[Scope, ...]] = {
    AgencySubtype.ASYLUM: (Scope.SCREEN, Scope.ASYLUM),
    AgencySubtype.BORDER: (Scope.SCREEN,),
    AgencySubtype.POLICE: (Scope.SCREEN, Scope.READ),
    AgencySubtype.JUDICIAL: (Scope.READ,),
}


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"
    UNKNOWN = "X"


class DocumentType(StrEnum):
    PASSPORT = "PASSPORT"
    ID_CARD = "ID_CARD"
    TRAVEL_DOCUMENT = "TRAVEL_DOCUMENT"


class DocumentStatus(StrEnum):
    VALID = "VALID"
    STOLEN = "STOLEN"
    LOST = "LOST"
    REVOKED = "REVOKED"


class NoticeType(StrEnum):
    RED = "RED"
    YELLOW = "YELLOW"
    BLUE = "BLUE"
    BLACK = "BLACK"
    GREEN = "GREEN"
    ORANGE = "ORANGE"
    PURPLE = "PURPLE"
    UN_SPECIAL = "UN_SPECIAL"


class NoticeStatus(StrEnum):
    REQUESTED = "REQUESTED"
    PUBLISHED = "PUBLISHED"
    REFUSED = "REFUSED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class DiffusionPurpose(StrEnum):
    ARREST = "ARREST"
    LOCATE = "LOCATE"
    INFORMATION = "INFORMATION"
    ALERT = "ALERT"


class ApplicationStatus(StrEnum):
    PENDING = "PENDING"
    GRANTED = "GRANTED"
    DENIED = "DENIED"
    REVOKED = "REVOKED"


class LegalBasis(StrEnum):
    CONVENTION_1951 = "CONVENTION_1951"
    SUBSIDIARY_PROTECTION = "SUBSIDIARY_PROTECTION"
    OTHER = "OTHER"


class ScreeningResult(StrEnum):
    HIT = "HIT"
    NO_HIT = "NO_HIT"


class AssociateKind(StrEnum):
    FAMILY = "FAMILY"
    ACCOMPLICE = "ACCOMPLICE"
    SAME_DOCUMENT = "SAME_DOCUMENT"
    CO_TRAVELLER = "CO_TRAVELLER"


class IdentityLinkStatus(StrEnum):
    """A candidate (yellow) until an authority verifies it into one of the three verdicts."""

    CANDIDATE = "CANDIDATE"  # yellow: may be the same person
    SAME_PERSON_UNLAWFUL = "SAME_PERSON_UNLAWFUL"  # red: one person under different identities, unlawfully
    SAME_PERSON_LAWFUL = "SAME_PERSON_LAWFUL"  # white: one person, lawfully (e.g. a name change)
    DIFFERENT_PERSONS = "DIFFERENT_PERSONS"  # green: two persons


IDENTITY_LINK_COLOUR: dict[IdentityLinkStatus, str] = {
    IdentityLinkStatus.CANDIDATE: "YELLOW",
    IdentityLinkStatus.SAME_PERSON_UNLAWFUL: "RED",
    IdentityLinkStatus.SAME_PERSON_LAWFUL: "WHITE",
    IdentityLinkStatus.DIFFERENT_PERSONS: "GREEN",
}
SAME_PERSON = (IdentityLinkStatus.SAME_PERSON_UNLAWFUL, IdentityLinkStatus.SAME_PERSON_LAWFUL)


class IdentityCriterion(StrEnum):
    """What two records were found to share (multiple-identity detection)."""

    FAMILY_NAME_EXACT = "FAMILY_NAME_EXACT"
    FAMILY_NAME_VARIANT = "FAMILY_NAME_VARIANT"  # transliteration or one-letter spelling variant
    GIVEN_NAMES_EXACT = "GIVEN_NAMES_EXACT"
    GIVEN_NAMES_VARIANT = "GIVEN_NAMES_VARIANT"
    NAMES_SWAPPED = "NAMES_SWAPPED"  # family and given names exchanged
    ORIGINAL_SCRIPT = "ORIGINAL_SCRIPT"  # the same name in its original script
    DATE_OF_BIRTH = "DATE_OF_BIRTH"
    DATE_OF_BIRTH_NEAR = "DATE_OF_BIRTH_NEAR"  # day and month swapped, or one part differs
    TRAVEL_DOCUMENT = "TRAVEL_DOCUMENT"  # a travel document with the same number


class Purpose(StrEnum):
    INVESTIGATION = "INVESTIGATION"
    ASYLUM_SCREENING = "ASYLUM_SCREENING"
    BORDER_CHECK = "BORDER_CHECK"
    IDENTIFICATION = "IDENTIFICATION"
    DATA_PROTECTION_REVIEW = "DATA_PROTECTION_REVIEW"
    ADMINISTRATION = "ADMINISTRATION"


# R8: what the source of a blocked item is told, and what the GS and the CCF see.
GENERIC_BLOCK_REASON = "not compliant with the rules"
REFUGEE_BLOCK_REASON = "refugee protection granted (R8)"

# R14: a published notice lives five years; its review window is the last six months.
NOTICE_LIFETIME_DAYS = 5 * 365 + 1
REVIEW_WINDOW_DAYS = 183
