"""The fixed demo records that the README's examples and the tests rely on.

The story:

- Kazakhstan (``DEMO_FEARED_COUNTRY``, KZ) wants Arman Seitkali (``DEMO_PERSON_WANTED``): its
  NCB published a RED notice (``DEMO_NOTICE_BLOCKED``, publicly extracted, hidden from Canada
  by a deny list) and broadcast an ARREST diffusion (``DEMO_DIFFUSION_BLOCKED``). He fled to
  the Netherlands (``DEMO_RECEIVING_COUNTRY``, NL), whose asylum screening hit both, and was
  granted refugee status under the 1951 Convention (``DEMO_APPLICATION_GRANTED``). By R8 both
  items are now blocked: members no longer see them, KZ sees them as CANCELLED for a generic
  reason, and only the GS and the CCF see why, and the StatusNotification
  (``DEMO_NOTIFICATION``) that reported the decision. His KZ passport is recorded STOLEN.
- His accomplice Dana Nurlanova (``DEMO_PERSON_PENDING``) is wanted by KZ too
  (``DEMO_NOTICE_FLAGGED``); her application in NL (``DEMO_APPLICATION_PENDING``) is still
  pending, so the notice is flagged for GS review but still visible to members.
- Jean Moreau (``DEMO_PERSON_MISSING``), a French national, is the subject of a YELLOW notice
  that France restricted to Germany and the Netherlands (``DEMO_NOTICE_ALLOW_LIST``, so Japan
  does not see it), a RED notice still awaiting GS review (``DEMO_NOTICE_REQUESTED``, visible
  to FR, GS and CCF only) and a LOCATE diffusion sent to Germany and Japan
  (``DEMO_DIFFUSION_LOCATE``, not yet reviewed). He is family of Dana Nurlanova.
- Kenji Watanabe (``DEMO_PERSON_UNLISTED``), recorded by the Japanese police, travelled with
  Jean Moreau; no notice concerns him, so only Japan (and the GS and CCF) sees him, and a
  link to him is visible only to those who see both ends (R16, R18).
- Omar Haddad (``DEMO_PERSON_SANCTIONED``) is on a UN Security Council special notice
  (``DEMO_NOTICE_UN``): requested by ``intl-unsc``, no source country, public (R13).

Third parties: Japan (``DEMO_THIRD_COUNTRY``) and Canada (``DEMO_DENIED_COUNTRY``).
"""

from __future__ import annotations

from datetime import date

from graph_schema.model import (
    AgencySubtype,
    ApplicationStatus,
    AssociateKind,
    DiffusionPurpose,
    DocumentStatus,
    DocumentType,
    LegalBasis,
    NoticeStatus,
    NoticeType,
    ScreeningResult,
    Sex,
)
from seed.generator import (
    UNSC_ID,
    Kind,
    Row,
    apply_refugee_rule,
    entity_id,
    instant,
    ncb_id,
    notice_dates,
    notification_props,
)
from seed.names import Script

DEMO_FEARED_COUNTRY = "KZ"
DEMO_RECEIVING_COUNTRY = "NL"
DEMO_THIRD_COUNTRY = "JP"
DEMO_DENIED_COUNTRY = "CA"
DEMO_FRENCH_COUNTRY = "FR"

DEMO_PERSON_WANTED = "P-DEMO-001"
DEMO_PERSON_PENDING = "P-DEMO-002"
DEMO_PERSON_MISSING = "P-DEMO-003"
DEMO_PERSON_UNLISTED = "P-DEMO-004"
DEMO_PERSON_SANCTIONED = "P-DEMO-005"

DEMO_NOTICE_BLOCKED = "N-DEMO-001"
DEMO_NOTICE_FLAGGED = "N-DEMO-002"
DEMO_NOTICE_ALLOW_LIST = "N-DEMO-003"
DEMO_NOTICE_REQUESTED = "N-DEMO-004"
DEMO_NOTICE_UN = "N-DEMO-005"

DEMO_DIFFUSION_BLOCKED = "D-DEMO-001"
DEMO_DIFFUSION_LOCATE = "D-DEMO-002"

DEMO_APPLICATION_GRANTED = "A-DEMO-001"
DEMO_APPLICATION_PENDING = "A-DEMO-002"
DEMO_NOTIFICATION = "SN-DEMO-001"

DEMO_PASSPORT_STOLEN = "N12345678"  # issued by KZ
DEMO_PASSPORT_VALID = "FR-DEMO-0001"  # issued by FR

DEMO_PERSON_IDS = (
    DEMO_PERSON_WANTED,
    DEMO_PERSON_PENDING,
    DEMO_PERSON_MISSING,
    DEMO_PERSON_UNLISTED,
    DEMO_PERSON_SANCTIONED,
)

KZ, NL, JP, CA, FR = (
    DEMO_FEARED_COUNTRY,
    DEMO_RECEIVING_COUNTRY,
    DEMO_THIRD_COUNTRY,
    DEMO_DENIED_COUNTRY,
    DEMO_FRENCH_COUNTRY,
)


def _person(
    pid: str,
    given: str,
    family: str,
    *,
    dob: date,
    sex: Sex,
    script: Script,
    original: str | None = None,
    variants: tuple[str, ...] = (),
    aliases: tuple[str, ...] = (),
    nationalities: tuple[str, ...],
    recorded_by: str,
    fingerprint: str | None = None,
    dna: str | None = None,
) -> Row:
    props: Row = {
        "id": pid, "familyName": family, "givenNames": given, "aliases": list(aliases),
        "script": script.value, "nameVariants": list(variants), "dateOfBirth": dob,
        "sex": sex.value,
    }
    optional = {"nameOriginalScript": original, "fingerprintRef": fingerprint, "dnaRef": dna}
    props.update({k: v for k, v in optional.items() if v is not None})
    return {"props": props, "recordedBy": recorded_by, "nationalities": list(nationalities)}


def _notice(
    nid: str,
    person: str,
    ntype: NoticeType,
    status: NoticeStatus,
    *,
    requested_by: str,
    source: str | None,
    summary: str,
    requested: date,
    published: date | None = None,
    public: bool = False,
    allow: tuple[str, ...] = (),
    deny: tuple[str, ...] = (),
) -> Row:
    props: Row = {
        "id": nid, "type": ntype.value, "status": status.value, "offenceSummary": summary,
        "requestedAt": instant(requested), "publicExtract": public,
        "allowCountries": list(allow), "denyCountries": list(deny),
        "blocked": False, "reviewFlag": False, "version": 1,
    }
    if published is not None:
        props.update(notice_dates(instant(published)))
    if source is not None:
        props["sourceCountry"] = source
    return {"props": props, "person": person, "requestedBy": requested_by}


def _diffusion(
    did: str,
    person: str,
    purpose: DiffusionPurpose,
    *,
    source: str,
    sent: date,
    to: tuple[str, ...] = (),
    reviewed: bool,
) -> Row:
    props: Row = {
        "id": did, "purpose": purpose.value, "sentAt": instant(sent),
        "toAllMembers": not to, "reviewed": reviewed, "allowCountries": [],
        "denyCountries": [], "blocked": False, "reviewFlag": False,
        "sourceCountry": source, "version": 1,
    }
    return {"props": props, "person": person, "sentBy": ncb_id(source), "sentTo": list(to)}


def demo_rows() -> dict[Kind, list[Row]]:
    """The demo records, as rows of the same shape the generator yields (fresh each call)."""
    persons = [
        _person(DEMO_PERSON_WANTED, "Arman", "Seitkali", dob=date(1985, 3, 14), sex=Sex.MALE,
                script=Script.CYRILLIC, original="Арман Сейткали",
                variants=("Arman Seytkali", "Arman Seitqali"), aliases=("A. Seitkaliev",),
                nationalities=(KZ,), recorded_by=ncb_id(KZ), fingerprint="FP-DEMO-001",
                dna="DNA-DEMO-001"),
        _person(DEMO_PERSON_PENDING, "Dana", "Nurlanova", dob=date(1990, 11, 2),
                sex=Sex.FEMALE, script=Script.CYRILLIC, original="Дана Нурланова",
                variants=("Dana Nourlanova",), nationalities=(KZ,), recorded_by=ncb_id(KZ)),
        _person(DEMO_PERSON_MISSING, "Jean", "Moreau", dob=date(1979, 7, 21), sex=Sex.MALE,
                script=Script.LATIN, nationalities=(FR,), recorded_by=ncb_id(FR),
                fingerprint="FP-DEMO-003"),
        _person(DEMO_PERSON_UNLISTED, "Kenji", "Watanabe", dob=date(1995, 1, 30), sex=Sex.MALE,
                script=Script.HAN, original="渡辺 健二",
                variants=("Watanabe Kenji", "Kenzi Watanabe"), nationalities=(JP,),
                recorded_by=entity_id(AgencySubtype.POLICE, JP)),
        _person(DEMO_PERSON_SANCTIONED, "Omar", "Haddad", dob=date(1982, 5, 5), sex=Sex.MALE,
                script=Script.ARABIC, original="عمر حداد", variants=("Omar Hadad", "Umar Haddad"),
                nationalities=("SY",), recorded_by=UNSC_ID),
    ]
    documents = [
        {"props": {"number": DEMO_PASSPORT_STOLEN, "issuingCountry": KZ,
                   "type": DocumentType.PASSPORT.value, "status": DocumentStatus.STOLEN.value},
         "holder": DEMO_PERSON_WANTED},
        {"props": {"number": DEMO_PASSPORT_VALID, "issuingCountry": FR,
                   "type": DocumentType.PASSPORT.value, "status": DocumentStatus.VALID.value},
         "holder": DEMO_PERSON_MISSING},
    ]
    red, published = NoticeType.RED, NoticeStatus.PUBLISHED
    wanted_notices = [
        _notice(DEMO_NOTICE_BLOCKED, DEMO_PERSON_WANTED, red, published,
                requested_by=ncb_id(KZ), source=KZ, requested=date(2025, 5, 20),
                published=date(2025, 6, 1), public=True, deny=(CA,),
                summary="Wanted for prosecution: participation in an extremist organisation"),
    ]
    wanted_diffusions = [
        _diffusion(DEMO_DIFFUSION_BLOCKED, DEMO_PERSON_WANTED, DiffusionPurpose.ARREST,
                   source=KZ, sent=date(2025, 9, 10), reviewed=True),
    ]
    pending_notices = [
        _notice(DEMO_NOTICE_FLAGGED, DEMO_PERSON_PENDING, red, published,
                requested_by=ncb_id(KZ), source=KZ, requested=date(2023, 12, 20),
                published=date(2024, 1, 10),
                summary="Wanted for prosecution: organising mass riots"),
    ]
    other_notices = [
        _notice(DEMO_NOTICE_ALLOW_LIST, DEMO_PERSON_MISSING, NoticeType.YELLOW, published,
                requested_by=ncb_id(FR), source=FR, requested=date(2026, 2, 25),
                published=date(2026, 3, 2), allow=("DE", NL), summary="Missing person"),
        _notice(DEMO_NOTICE_REQUESTED, DEMO_PERSON_MISSING, red, NoticeStatus.REQUESTED,
                requested_by=ncb_id(FR), source=FR, requested=date(2026, 10, 20),
                summary="Wanted for prosecution: aggravated fraud"),
        _notice(DEMO_NOTICE_UN, DEMO_PERSON_SANCTIONED, NoticeType.UN_SPECIAL, published,
                requested_by=UNSC_ID, source=None, requested=date(2023, 9, 1),
                published=date(2023, 9, 12), public=True,
                summary="Subject to UN Security Council sanctions: asset freeze and travel ban"),
    ]
    other_diffusions = [
        _diffusion(DEMO_DIFFUSION_LOCATE, DEMO_PERSON_MISSING, DiffusionPurpose.LOCATE,
                   source=FR, sent=date(2026, 10, 5), to=("DE", JP), reviewed=False),
    ]

    granted: Row = {
        "id": DEMO_APPLICATION_GRANTED, "lodgedAt": date(2026, 2, 1),
        "status": ApplicationStatus.GRANTED.value, "decidedAt": date(2026, 6, 15),
        "legalBasis": LegalBasis.CONVENTION_1951.value, "deniedOnCriminalGrounds": False,
        "screeningResult": ScreeningResult.HIT.value,
        "screeningRefs": [DEMO_NOTICE_BLOCKED, DEMO_DIFFUSION_BLOCKED],
        "receivingCountry": NL, "fearedCountry": KZ, "version": 1,
    }
    pending: Row = {
        "id": DEMO_APPLICATION_PENDING, "lodgedAt": date(2026, 9, 1),
        "status": ApplicationStatus.PENDING.value, "deniedOnCriminalGrounds": False,
        "screeningResult": ScreeningResult.HIT.value, "screeningRefs": [DEMO_NOTICE_FLAGGED],
        "receivingCountry": NL, "fearedCountry": KZ, "version": 1,
    }
    # R8, through the same function the generator uses: granted blocks, pending flags.
    apply_refugee_rule(ApplicationStatus.GRANTED, KZ, wanted_notices, wanted_diffusions)
    apply_refugee_rule(ApplicationStatus.PENDING, KZ, pending_notices, [])

    return {
        Kind.PERSON: persons,
        Kind.DOCUMENT: documents,
        Kind.NOTICE: [*wanted_notices, *pending_notices, *other_notices],
        Kind.DIFFUSION: [*wanted_diffusions, *other_diffusions],
        Kind.APPLICATION: [
            {"props": granted, "person": DEMO_PERSON_WANTED},
            {"props": pending, "person": DEMO_PERSON_PENDING},
        ],
        Kind.NOTIFICATION: [
            {"props": notification_props(DEMO_NOTIFICATION, granted),
             "application": DEMO_APPLICATION_GRANTED},
        ],
        Kind.ASSOCIATE: [
            {"from": DEMO_PERSON_WANTED, "to": DEMO_PERSON_PENDING,
             "kind": AssociateKind.ACCOMPLICE.value},
            {"from": DEMO_PERSON_PENDING, "to": DEMO_PERSON_MISSING,
             "kind": AssociateKind.FAMILY.value},
            {"from": DEMO_PERSON_MISSING, "to": DEMO_PERSON_UNLISTED,
             "kind": AssociateKind.CO_TRAVELLER.value},
        ],
    }
