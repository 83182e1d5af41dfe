"""Pure, deterministic generation of the synthetic graph: no database, no clock.

``generate(persons, seed)`` yields ``Chunk``s of plain dict rows, ready for ``UNWIND``. All
randomness comes from one ``random.Random(seed)`` consumed person by person, in order, so:

- the same ``(persons, seed)`` always gives the same rows, whatever the chunk size;
- a person's records (documents, notices, diffusions, application, links) are drawn with the
  person, so a chunk holds everything that hangs off its persons and memory stays bounded;
- associate links only point at persons already generated (lower index), so a loader that
  writes chunk by chunk always finds both ends.

Every date is anchored on ``AS_OF``, never on today, so a seed made next year is identical.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import accumulate
from typing import Any, TypeVar

from graph_schema.model import (
    DEFAULT_SCOPES,
    NOTICE_LIFETIME_DAYS,
    REFUGEE_BLOCK_REASON,
    REVIEW_WINDOW_DAYS,
    AgencyKind,
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
from seed.countries import BY_CODE, CODES, COUNTRIES
from seed.names import POOLS, make_name, pool_for

Row = dict[str, Any]
T = TypeVar("T")

AS_OF = date(2026, 11, 1)
AS_OF_INSTANT = datetime.combine(AS_OF, time(), tzinfo=UTC)
DOB_MIN = date(1940, 1, 1)
DOB_MAX = date(2006, 12, 31)
CHUNK_SIZE = 5_000
# Planted duplicates (multiple-identity detection): this share of persons is a second record
# of a person generated shortly before, by another country, under a variant name.
DUPLICATE_RATE = 0.02
DUPLICATE_WINDOW = 2_000  # the earlier persons a duplicate may copy

GS_ID = "gs"
CCF_ID = "ccf"
EUROPOL_ID = "intl-europol"
ICC_ID = "intl-icc"
UNSC_ID = "intl-unsc"


class Kind(StrEnum):
    """Kinds of rows, in the order a loader must write them (endpoints before links)."""

    COUNTRY = "country"
    AGENCY = "agency"
    AUTHORIZATION = "authorization"
    PERSON = "person"
    DOCUMENT = "document"
    NOTICE = "notice"
    DIFFUSION = "diffusion"
    APPLICATION = "application"
    NOTIFICATION = "notification"
    ASSOCIATE = "associate"


LOAD_ORDER: tuple[Kind, ...] = tuple(Kind)


@dataclass(frozen=True)
class Duplicate:
    """A planted second record of a person: the ground truth of identity-link detection."""

    original: str
    duplicate: str
    change: str  # how the name differs: variant, typo, swap or same
    birth_moved: bool  # day and month swapped, or a day off
    shared_document: bool  # holds a document with a number of the original's


@dataclass
class Chunk:
    """The rows for persons ``first .. first + persons - 1`` (1-based) and all they hold."""

    first: int
    persons: int
    rows: dict[Kind, list[Row]] = field(default_factory=lambda: {k: [] for k in LOAD_ORDER})
    duplicates: list[Duplicate] = field(default_factory=list)  # the ground truth of this chunk


def ncb_id(code: str) -> str:
    return f"ncb-{code.lower()}"


def entity_id(subtype: AgencySubtype, code: str) -> str:
    return f"{subtype.value.lower()}-{code.lower()}"


def person_id(index: int) -> str:
    return f"P-{index:07d}"


def instant(d: date, hour: int = 9) -> datetime:
    """A UTC instant on a calendar day (demo records and notification times)."""
    return datetime.combine(d, time(hour), tzinfo=UTC)


def notice_dates(published: datetime) -> dict[str, datetime]:
    """R14: expiry five years after publication, review window its last six months."""
    expires = published + timedelta(days=NOTICE_LIFETIME_DAYS)
    return {
        "publishedAt": published,
        "expiresAt": expires,
        "reviewDueAt": expires - timedelta(days=REVIEW_WINDOW_DAYS),
    }


_SUBTYPE_NAMES: dict[AgencySubtype, str] = {
    AgencySubtype.POLICE: "National Police",
    AgencySubtype.BORDER: "Border Authority",
    AgencySubtype.ASYLUM: "Asylum Authority",
    AgencySubtype.JUDICIAL: "Judicial Authority",
}


def reference_rows() -> dict[Kind, list[Row]]:
    """Countries and agencies: independent of the seed, always loaded."""
    countries = [{"code": c.code, "name": c.name, "region": c.region.value} for c in COUNTRIES]
    agencies: list[Row] = [
        _agency(GS_ID, "General Secretariat", AgencyKind.GENERAL_SECRETARIAT),
        _agency(CCF_ID, "Commission for the Control of Files", AgencyKind.CCF),
        _agency(EUROPOL_ID, "Europol", AgencyKind.INTERNATIONAL_ENTITY),
        _agency(ICC_ID, "International Criminal Court", AgencyKind.INTERNATIONAL_ENTITY),
        _agency(UNSC_ID, "United Nations Security Council", AgencyKind.INTERNATIONAL_ENTITY),
    ]
    authorizations: list[Row] = []
    for c in COUNTRIES:
        agencies.append(
            _agency(ncb_id(c.code), f"National Central Bureau {c.name}", AgencyKind.NCB, c.code)
        )
        for subtype in AgencySubtype:
            aid = entity_id(subtype, c.code)
            name = f"{c.name} {_SUBTYPE_NAMES[subtype]}"
            agencies.append(
                _agency(aid, name, AgencyKind.NATIONAL_ENTITY, c.code, subtype=subtype)
            )
            scopes = [s.value for s in DEFAULT_SCOPES[subtype]]
            authorizations.append({"from": aid, "to": ncb_id(c.code), "scopes": scopes})
    return {Kind.COUNTRY: countries, Kind.AGENCY: agencies, Kind.AUTHORIZATION: authorizations}


def _agency(
    aid: str,
    name: str,
    kind: AgencyKind,
    country: str | None = None,
    subtype: AgencySubtype | None = None,
) -> Row:
    props: Row = {"id": aid, "name": name, "kind": kind.value, "active": True}
    if subtype is not None:
        props["subtype"] = subtype.value
    return {"props": props, "country": country}


def _cum(weights: dict[str, int], default: int = 0) -> tuple[tuple[str, ...], list[int]]:
    """Cumulative weights over country codes, in ``COUNTRIES`` order (stable draws)."""
    unknown = set(weights) - set(CODES)
    assert not unknown, f"not member countries: {sorted(unknown)}"
    codes = tuple(c for c in CODES if weights.get(c, default) > 0)
    return codes, list(accumulate(weights.get(c, default) for c in codes))


# Where people come from: every member, more weight on populous and high-traffic countries.
_NATIONALITY = _cum(
    {
        "CN": 8, "IN": 8, "US": 6, "RU": 5, "BR": 5, "NG": 5, "ID": 4, "PK": 4, "MX": 4,
        "DE": 4, "FR": 4, "TR": 4, "UA": 4, "GB": 4, "IT": 3, "ES": 3, "PL": 3, "CO": 3,
        "EG": 3, "IR": 3, "KZ": 3, "JP": 3, "VN": 3, "PH": 3, "MA": 3, "DZ": 3, "RO": 3,
        "AR": 2, "SY": 2, "IQ": 2, "AF": 2, "NL": 2, "GR": 2, "SA": 2, "ZA": 2, "KE": 2,
        "ET": 2, "BD": 2, "TH": 2, "KR": 2, "VE": 2, "RS": 2, "BY": 2, "CA": 2, "AU": 2,
    },
    default=1,
)
# Where asylum seekers come from, and where they apply (R != F is enforced on draw).
_ORIGIN = _cum(
    {
        "SY": 10, "AF": 10, "VE": 6, "IR": 5, "IQ": 5, "ER": 4, "SO": 4, "CO": 4, "TR": 4,
        "RU": 4, "BY": 3, "KZ": 3, "CN": 3, "NG": 3, "PK": 3, "SD": 3, "SS": 2, "CD": 3,
        "YE": 2, "LY": 2, "ET": 2, "UA": 3, "BD": 2, "GN": 2, "CM": 2, "HT": 2, "CU": 2,
        "NI": 2, "TJ": 2, "UZ": 1, "GE": 1, "AM": 1, "AZ": 1, "MM": 2, "LK": 1, "EG": 1,
    }
)
_RECEIVING = _cum(
    {
        "DE": 10, "FR": 8, "US": 8, "GB": 6, "ES": 5, "IT": 5, "NL": 5, "CA": 5, "SE": 4,
        "AT": 4, "BE": 4, "GR": 4, "CH": 3, "AU": 3, "TR": 3, "NO": 2, "DK": 2, "IE": 2,
        "PL": 2, "BR": 2, "MX": 2, "KE": 1, "ZA": 1, "JP": 1,
    }
)


def _weighted(rng: random.Random, pair: tuple[Sequence[str], list[int]]) -> str:
    values, cum = pair
    return rng.choices(values, cum_weights=cum)[0]


def _pick(rng: random.Random, table: Sequence[tuple[T, int]]) -> T:
    values = [v for v, _ in table]
    return rng.choices(values, weights=[w for _, w in table])[0]


_NOTICE_TYPES = (
    (NoticeType.RED, 46),
    (NoticeType.BLUE, 16),
    (NoticeType.YELLOW, 14),
    (NoticeType.GREEN, 9),
    (NoticeType.BLACK, 5),
    (NoticeType.ORANGE, 4),
    (NoticeType.PURPLE, 4),
    (NoticeType.UN_SPECIAL, 2),
)
_NOTICE_STATUSES = (
    (NoticeStatus.PUBLISHED, 72),
    (NoticeStatus.REQUESTED, 8),
    (NoticeStatus.REFUSED, 5),
    (NoticeStatus.CANCELLED, 7),
    (NoticeStatus.EXPIRED, 8),
)
_OFFENCES: dict[NoticeType, tuple[str, ...]] = {
    NoticeType.RED: (
        "Wanted for prosecution: armed robbery",
        "Wanted for prosecution: drug trafficking",
        "Wanted for prosecution: aggravated fraud",
        "Wanted for prosecution: murder",
        "Wanted for prosecution: trafficking in human beings",
        "Wanted for prosecution: money laundering",
        "Wanted to serve a sentence: fraud",
        "Wanted to serve a sentence: armed robbery",
        "Wanted for prosecution: participation in a criminal organisation",
        "Wanted for prosecution: migrant smuggling",
    ),
    NoticeType.YELLOW: (
        "Missing person",
        "Missing minor, possibly abducted by a parent",
        "Person unable to identify themselves",
    ),
    NoticeType.BLUE: (
        "Locate: witness in a homicide investigation",
        "Locate and obtain information: suspected fraud",
        "Identify and locate: person of interest in a drugs investigation",
    ),
    NoticeType.BLACK: (
        "Unidentified body; possibly identical with the subject",
        "Human remains found; identification sought",
    ),
    NoticeType.GREEN: (
        "Warning: repeat offender, sexual offences against minors",
        "Warning: serial fraudster operating across borders",
        "Warning: violent offender travelling internationally",
    ),
    NoticeType.ORANGE: (
        "Imminent threat: explosives expertise",
        "Imminent threat: escaped prisoner considered dangerous",
    ),
    NoticeType.PURPLE: (
        "Modus operandi: concealment of drugs in vehicles",
        "Modus operandi: counterfeit travel documents",
    ),
    NoticeType.UN_SPECIAL: (
        "Subject to UN Security Council sanctions: asset freeze and travel ban",
        "Subject to UN Security Council sanctions: arms embargo",
    ),
}
_REFUSAL_REASONS = (
    "Predominantly political character (Article 3)",
    "Insufficient judicial data",
    "Offence does not meet the penalty threshold",
)
_CANCEL_REASONS = (
    "Subject located and arrested",
    "Arrest warrant withdrawn by the judicial authority",
    "Subject found; case closed",
)
_DOC_TYPES = ((DocumentType.PASSPORT, 65), (DocumentType.ID_CARD, 30),
              (DocumentType.TRAVEL_DOCUMENT, 5))
_DOC_PREFIX = {DocumentType.PASSPORT: "P", DocumentType.ID_CARD: "C",
               DocumentType.TRAVEL_DOCUMENT: "T"}
_DOC_STATUSES = ((DocumentStatus.VALID, 85), (DocumentStatus.STOLEN, 7),
                 (DocumentStatus.LOST, 6), (DocumentStatus.REVOKED, 2))
_PURPOSES = ((DiffusionPurpose.ARREST, 35), (DiffusionPurpose.LOCATE, 30),
             (DiffusionPurpose.INFORMATION, 25), (DiffusionPurpose.ALERT, 10))
_APP_STATUSES = ((ApplicationStatus.PENDING, 35), (ApplicationStatus.GRANTED, 30),
                 (ApplicationStatus.DENIED, 25), (ApplicationStatus.REVOKED, 10))
_GRANT_BASES = ((LegalBasis.CONVENTION_1951, 60), (LegalBasis.SUBSIDIARY_PROTECTION, 30),
                (LegalBasis.OTHER, 10))
_DENIAL_BASES = ((LegalBasis.CONVENTION_1951, 50), (LegalBasis.OTHER, 50))
_ASSOCIATE_KINDS = ((AssociateKind.FAMILY, 35), (AssociateKind.ACCOMPLICE, 30),
                    (AssociateKind.CO_TRAVELLER, 25), (AssociateKind.SAME_DOCUMENT, 10))

_DAY = 86_400
_LIFETIME = timedelta(days=NOTICE_LIFETIME_DAYS)


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A whole-second instant in [start, end)."""
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(max(span, 1)))


def _ago(days: float) -> datetime:
    return AS_OF_INSTANT - timedelta(days=days)


def _scramble(n: int, mul: int, add: int, mod: int) -> int:
    """A bijection on [0, mod) (mul is coprime with mod): unique, non-sequential numbers."""
    return (n * mul + add) % mod


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.documents = 0
        self.notices = 0
        self.diffusions = 0
        self.applications = 0
        self.notifications = 0
        # Duplicates draw from a stream of their own, so every other record is as before.
        self.dup_rng = random.Random(f"duplicates:{seed}")
        self.recent: deque[Row] = deque(maxlen=DUPLICATE_WINDOW)

    # -- helpers ---------------------------------------------------------------------
    def _other_country(self, *excluded: str | None) -> str:
        while True:
            code = _weighted(self.rng, _NATIONALITY)
            if code not in excluded:
                return code

    def _countries(self, k: int, excluded: str | None) -> list[str]:
        """k distinct codes other than ``excluded``, in draw order."""
        picked = [c for c in self.rng.sample(CODES, k + 1) if c != excluded]
        return picked[:k]

    def _restrictions(self, source: str | None) -> tuple[list[str], list[str]]:
        """R4 allow list (~5%) or deny list (~8%), never both, never naming the source."""
        roll = self.rng.random()
        if source is None or roll >= 0.13:
            return [], []
        if roll < 0.05:
            return sorted(self._countries(self.rng.randint(1, 4), source)), []
        return [], sorted(self._countries(self.rng.randint(1, 3), source))

    # -- records ---------------------------------------------------------------------
    def person(self, index: int, chunk: Chunk) -> None:
        rng = self.rng
        pid = person_id(index)
        applicant = rng.random() < 0.03
        nationality = _weighted(rng, _ORIGIN if applicant else _NATIONALITY)
        nationalities = [nationality]
        if rng.random() < 0.05:
            nationalities.append(self._other_country(nationality))

        sex = _pick(rng, ((Sex.MALE, 55), (Sex.FEMALE, 44), (Sex.UNKNOWN, 1)))
        female = sex is Sex.FEMALE or (sex is Sex.UNKNOWN and rng.random() < 0.5)
        country = BY_CODE[nationality]
        pool = (
            pool_for(nationality, country.region.value) if rng.random() < 0.85
            else rng.choice(POOLS)
        )
        name = make_name(rng, pool, female)
        dob = date.fromordinal(rng.randint(DOB_MIN.toordinal(), DOB_MAX.toordinal()))
        props: Row = {
            "id": pid,
            "familyName": name.family_name,
            "givenNames": name.given_names,
            "aliases": list(name.aliases),
            "script": name.script.value,
            "nameVariants": list(name.variants),
            "dateOfBirth": dob,
            "sex": sex.value,
        }
        if name.original_script is not None:
            props["nameOriginalScript"] = name.original_script
        # Biometric references (R12) exist for a minority; absent otherwise, not null.
        if rng.random() < 0.40:
            props["fingerprintRef"] = f"FP-{_scramble(index, 7_654_321, 1, 10**9):09d}"
        if rng.random() < 0.10:
            props["dnaRef"] = f"DNA-{_scramble(index, 3_141_593, 7, 10**9):09d}"

        roll = rng.random()
        if roll < 0.65:
            recorded_by = ncb_id(nationality)
        elif roll < 0.85:
            recorded_by = entity_id(AgencySubtype.POLICE, nationality)
        else:
            recorded_by = ncb_id(self._other_country(nationality))
        person_row = {"props": props, "recordedBy": recorded_by, "nationalities": nationalities}
        chunk.rows[Kind.PERSON].append(person_row)

        documents = []
        for _ in range(rng.choices((0, 1, 2, 3), cum_weights=(10, 72, 98, 100))[0]):
            documents.append(self.document(pid, rng.choice(nationalities)))
        chunk.rows[Kind.DOCUMENT].extend(documents)
        self.plant_duplicate(person_row, documents, name.variants, chunk)

        notices: list[Row] = []
        diffusions: list[Row] = []
        if rng.random() < 0.25:
            for _ in range(rng.choices((1, 2), cum_weights=(75, 100))[0]):
                source = nationality if rng.random() < 0.5 else self._other_country()
                notices.append(self.notice(pid, source))
        if rng.random() < 0.10:
            for _ in range(rng.choices((1, 2), cum_weights=(85, 100))[0]):
                source = nationality if rng.random() < 0.5 else self._other_country()
                diffusions.append(self.diffusion(pid, source))

        if applicant:
            self.application(pid, nationality, notices, diffusions, chunk)
        chunk.rows[Kind.NOTICE].extend(notices)
        chunk.rows[Kind.DIFFUSION].extend(diffusions)
        self.associates(index, chunk)

    def plant_duplicate(self, row: Row, documents: list[Row], variants: Sequence[str], chunk: Chunk) -> None:
        """Make this person, now and then, a second record of a recent one: recorded by another
        country, under a transliteration variant, a typo or swapped names, mostly with the same
        date of birth, sometimes with a document of the same number. Otherwise remember it as
        a person a later record may copy."""
        r, props = self.dup_rng, row["props"]
        if not self.recent or r.random() >= DUPLICATE_RATE:
            docs = [(d["props"]["issuingCountry"], d["props"]["number"]) for d in documents]
            self.recent.append({**props, "variants": list(variants), "docs": docs,
                                "recorder": row["recordedBy"].split("-", 1)[1].upper()})  # fmt: skip
            return
        original = r.choice(self.recent)
        given, family = original["givenNames"], original["familyName"]
        change = r.choices(("variant", "typo", "swap", "same"), weights=(35, 30, 20, 15))[0]
        if change == "variant" and original["variants"]:
            *first, last = r.choice(original["variants"]).split(" ")
            given, family = " ".join(first), last
        elif change == "typo":
            if len(family) >= 4:
                family = _typo(r, family)
            else:
                given = _typo(r, given)
        elif change == "swap":
            given, family = family, given.split(" ")[0]
        props.update(familyName=family, givenNames=given, nameVariants=[], aliases=[],
                     script=original["script"], sex=original["sex"])  # fmt: skip
        props.pop("nameOriginalScript", None)
        if "nameOriginalScript" in original:
            props["nameOriginalScript"] = original["nameOriginalScript"]
        born: date = original["dateOfBirth"]
        moved = r.random() < 0.12
        if moved:  # a date typed with day and month swapped, or a day off
            swapped = date(born.year, born.day, born.month) if born.day <= 12 and born.day != born.month else None
            born = swapped or born + timedelta(days=r.choice((-1, 1)))
        props["dateOfBirth"] = min(max(born, DOB_MIN), DOB_MAX)
        shared = bool(documents and original["docs"]) and r.random() < (0.5 if moved else 0.25)
        if shared:
            issuing, number = r.choice(original["docs"])
            doc = documents[0]["props"]
            doc["number"] = number  # the same passport number, recorded under another issuer
            if doc["issuingCountry"] == issuing:
                doc["issuingCountry"] = next(c for c in r.sample(CODES, 2) if c != issuing)
        if row["recordedBy"].split("-", 1)[1].upper() == original["recorder"]:
            row["recordedBy"] = ncb_id(next(c for c in r.sample(CODES, 2) if c != original["recorder"]))
        chunk.duplicates.append(Duplicate(original["id"], props["id"], change, moved, shared))

    def document(self, pid: str, issuing: str) -> Row:
        self.documents += 1
        doc_type = _pick(self.rng, _DOC_TYPES)
        # Numbers are unique across all documents, so (issuingCountry, number) is unique too.
        serial = _scramble(self.documents, 73_939_133, 12_345_678, 10**8)
        number = f"{_DOC_PREFIX[doc_type]}{serial:08d}"
        status = _pick(self.rng, _DOC_STATUSES)
        props = {"number": number, "issuingCountry": issuing, "type": doc_type.value,
                 "status": status.value}
        return {"props": props, "holder": pid}

    def notice(
        self,
        pid: str,
        source: str,
        *,
        notice_type: NoticeType | None = None,
        status: NoticeStatus | None = None,
        published_before: datetime | None = None,
    ) -> Row:
        rng = self.rng
        self.notices += 1
        ntype = notice_type or _pick(rng, _NOTICE_TYPES)
        nstatus = status or _pick(rng, _NOTICE_STATUSES)
        source_country: str | None = source
        if ntype is NoticeType.UN_SPECIAL:
            # UN Security Council special notices come from the UNSC, not from a member.
            requested_by, source_country = UNSC_ID, None
        elif rng.random() < 0.85:
            requested_by = ncb_id(source)
        else:
            # A national police force may request through its NCB's authorisation.
            requested_by = entity_id(AgencySubtype.POLICE, source)

        props: Row = {"id": f"N-{self.notices:07d}", "type": ntype.value, "status": nstatus.value,
                      "offenceSummary": rng.choice(_OFFENCES[ntype])}
        if nstatus in (NoticeStatus.REQUESTED, NoticeStatus.REFUSED):
            start = _ago(45) if nstatus is NoticeStatus.REQUESTED else _ago(6 * 365)
            props["requestedAt"] = _between(rng, start, _ago(1))
            if nstatus is NoticeStatus.REFUSED:
                props["statusReason"] = rng.choice(_REFUSAL_REASONS)
        else:
            if published_before is not None:
                # Refugee scenario: published before the asylum application was lodged.
                low = max(_ago(NOTICE_LIFETIME_DAYS - 1), published_before - timedelta(days=1500))
                published = _between(rng, low, published_before - timedelta(days=5))
            elif nstatus is NoticeStatus.EXPIRED:
                published = _between(rng, AS_OF_INSTANT - _LIFETIME - timedelta(days=5 * 365),
                                     AS_OF_INSTANT - _LIFETIME - timedelta(days=1))
            elif nstatus is NoticeStatus.CANCELLED:
                published = _between(rng, _ago(5 * 365), _ago(30))
                props["statusReason"] = rng.choice(_CANCEL_REASONS)
            elif rng.random() < 0.03:
                # A few published notices overdue for the expiry sweep (R14).
                published = _between(rng, AS_OF_INSTANT - _LIFETIME - timedelta(days=120),
                                     AS_OF_INSTANT - _LIFETIME)
            else:
                published = _between(rng, _ago(NOTICE_LIFETIME_DAYS - 1), _ago(1))
            props["requestedAt"] = published - timedelta(
                seconds=rng.randrange(_DAY, 30 * _DAY)
            )
            props.update(notice_dates(published))
        published_ok = nstatus is NoticeStatus.PUBLISHED
        props["publicExtract"] = (
            published_ok and ntype in (NoticeType.RED, NoticeType.YELLOW) and rng.random() < 0.30
        ) or ntype is NoticeType.UN_SPECIAL
        allow, deny = self._restrictions(source_country)
        props.update(allowCountries=allow, denyCountries=deny, blocked=False, reviewFlag=False,
                     version=1)
        if source_country is not None:
            props["sourceCountry"] = source_country
        return {"props": props, "person": pid, "requestedBy": requested_by}

    def diffusion(self, pid: str, source: str, *, sent_before: datetime | None = None) -> Row:
        rng = self.rng
        self.diffusions += 1
        purpose = (
            DiffusionPurpose.ARREST if sent_before is not None and rng.random() < 0.7
            else _pick(rng, _PURPOSES)
        )
        if sent_before is not None:
            sent = _between(
                rng, sent_before - timedelta(days=1200), sent_before - timedelta(days=3)
            )
        else:
            sent = _between(rng, _ago(5 * 365), _ago(1 / 24))
        to_all = rng.random() < 0.30
        sent_to = [] if to_all else sorted(self._countries(rng.randint(1, 5), source))
        # Restrictions only make sense on a broadcast: a targeted diffusion already lists.
        allow, deny = self._restrictions(source) if to_all else ([], [])
        props: Row = {
            "id": f"D-{self.diffusions:07d}", "purpose": purpose.value, "sentAt": sent,
            "toAllMembers": to_all, "reviewed": rng.random() < 0.70, "allowCountries": allow,
            "denyCountries": deny, "blocked": False, "reviewFlag": False,
            "sourceCountry": source, "version": 1,
        }
        return {"props": props, "person": pid, "sentBy": ncb_id(source), "sentTo": sent_to}

    def application(
        self, pid: str, feared: str, notices: list[Row], diffusions: list[Row], chunk: Chunk
    ) -> None:
        rng = self.rng
        self.applications += 1
        receiving = _weighted(rng, _RECEIVING)
        while receiving == feared:
            receiving = _weighted(rng, _RECEIVING)
        lodged = AS_OF - timedelta(days=rng.randint(1, 3 * 365))
        lodged_at = instant(lodged, 0)

        # The refugee scenario: the feared country has a RED notice and/or a diffusion out.
        if rng.random() < 0.35:
            shape = rng.choices(("notice", "diffusion", "both"), cum_weights=(50, 75, 100))[0]
            if shape != "diffusion":
                notices.append(self.notice(pid, feared, notice_type=NoticeType.RED,
                                           status=NoticeStatus.PUBLISHED,
                                           published_before=lodged_at))
            if shape != "notice":
                diffusions.append(self.diffusion(pid, feared, sent_before=lodged_at))

        # The first applications take every status in turn, so that even a small seed has
        # each one; the rest follow the mix.
        every = list(ApplicationStatus)
        status = every[self.applications - 1] if self.applications <= len(every) else _pick(rng, _APP_STATUSES)
        aid = f"A-{self.applications:07d}"
        props: Row = {
            "id": aid, "lodgedAt": lodged, "status": status.value,
            "deniedOnCriminalGrounds": False, "receivingCountry": receiving,
            "fearedCountry": feared, "version": 1,
        }
        # R10: screened at lodging against what the receiving country could see then.
        refs = [n["props"]["id"] for n in notices if _screenable_notice(n, receiving, lodged_at)]
        refs += [d["props"]["id"] for d in diffusions
                 if _screenable_diffusion(d, receiving, lodged_at)]
        props["screeningRefs"] = refs
        props["screeningResult"] = (ScreeningResult.HIT if refs else ScreeningResult.NO_HIT).value

        if status is not ApplicationStatus.PENDING:
            span = (AS_OF - lodged).days - 1
            decided = lodged + timedelta(days=min(rng.randint(30, 540), span))
            if status is ApplicationStatus.DENIED:
                basis = _pick(rng, _DENIAL_BASES)
                props["deniedOnCriminalGrounds"] = rng.random() < 0.30
            else:
                basis = _pick(rng, _GRANT_BASES)
            props.update(decidedAt=decided, legalBasis=basis.value)
            self.notifications += 1
            chunk.rows[Kind.NOTIFICATION].append(
                {"props": notification_props(f"SN-{self.notifications:07d}", props),
                 "application": aid}
            )
        apply_refugee_rule(status, feared, notices, diffusions)
        chunk.rows[Kind.APPLICATION].append({"props": props, "person": pid})

    def associates(self, index: int, chunk: Chunk) -> None:
        rng = self.rng
        count = rng.choices((0, 1, 2), cum_weights=(60, 90, 100))[0]
        if index == 1:
            return
        targets: list[int] = []
        for _ in range(count):
            # Mostly someone generated shortly before (same chunk); sometimes anyone earlier.
            low = max(1, index - 200) if rng.random() < 0.7 else 1
            other = rng.randint(low, index - 1)
            if other in targets:
                continue
            targets.append(other)
            kind = _pick(rng, _ASSOCIATE_KINDS)
            ends = (index, other) if rng.random() < 0.5 else (other, index)
            chunk.rows[Kind.ASSOCIATE].append(
                {"from": person_id(ends[0]), "to": person_id(ends[1]), "kind": kind.value}
            )


def _typo(r: random.Random, word: str) -> str:
    """One slip of the keyboard after the first letter: a letter dropped, doubled, changed, or
    two neighbours swapped."""
    i = r.randrange(1, len(word))
    kind = r.randrange(4)
    if kind == 0 and len(word) > 3:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    if kind == 2 and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    letter = r.choice([c for c in "aeiourstnlkm" if c != word[i].lower()])
    return word[:i] + letter + word[i + 1 :]


def _visible_to(props: Row, country: str) -> bool:
    """R4 from the receiving country's point of view; the source always sees its own."""
    if props.get("sourceCountry") == country:
        return True
    allow, deny = props["allowCountries"], props["denyCountries"]
    return (not allow or country in allow) and country not in deny


def _screenable_notice(row: Row, receiving: str, at: datetime) -> bool:
    p = row["props"]
    return (
        p["status"] == NoticeStatus.PUBLISHED.value
        and p["publishedAt"] < at
        and p.get("sourceCountry") != receiving
        and _visible_to(p, receiving)
    )


def _screenable_diffusion(row: Row, receiving: str, at: datetime) -> bool:
    p = row["props"]
    return (
        p["sentAt"] < at
        and p["sourceCountry"] != receiving
        and (p["toAllMembers"] or receiving in row["sentTo"])
        and _visible_to(p, receiving)
    )


def apply_refugee_rule(
    status: ApplicationStatus, feared: str, notices: list[Row], diffusions: list[Row]
) -> None:
    """R8: block items from the feared country when granted, flag them while pending."""
    for row in (*notices, *diffusions):
        p = row["props"]
        if p.get("sourceCountry") != feared:
            continue
        if status is ApplicationStatus.GRANTED:
            p["blocked"] = True
            p["blockReason"] = REFUGEE_BLOCK_REASON
        elif status is ApplicationStatus.PENDING:
            p["reviewFlag"] = True


def notification_props(sid: str, application: Row) -> Row:
    """R9: the confidential StatusNotification copied from a decided application."""
    a = application
    return {
        "id": sid,
        "createdAt": instant(a["decidedAt"], 16),
        "outcome": a["status"],
        "decidedAt": a["decidedAt"],
        "legalBasis": a["legalBasis"],
        "receivingCountry": a["receivingCountry"],
        "fearedCountry": a["fearedCountry"],
        "deniedOnCriminalGrounds": a["deniedOnCriminalGrounds"],
    }


def planted_duplicates(persons: int, seed: int) -> list[Duplicate]:
    """The ground truth of multiple-identity detection."""
    return [pair for chunk in generate(persons, seed) for pair in chunk.duplicates]


def generate(persons: int, seed: int, *, chunk_size: int = CHUNK_SIZE) -> Iterator[Chunk]:
    """Yield the generated persons and everything hanging off them, chunk by chunk."""
    if persons < 0:
        raise ValueError(f"persons must be >= 0, got {persons}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    gen = _Generator(seed)
    for first in range(1, persons + 1, chunk_size):
        count = min(chunk_size, persons - first + 1)
        chunk = Chunk(first, count)
        for index in range(first, first + count):
            gen.person(index, chunk)
        yield chunk
