"""The proof's world: a fixed set of private countries and agencies, random small graphs of
personal records over them (as plain records), and the writer that puts one graph into Neo4j.

Everything the proof writes carries a prefix of its own (country codes ``QM`` to ``QR``, which
ISO 3166 leaves to private use and the seed never uses; agency ids ``px-…``; record ids
``PX-…``; family names from a pool no seeded name is within two edits of), and every query the
proof asks is scoped to it (by those countries, ids and names), so the standard graph that
other test files share is neither read nor disturbed; ``remove_world`` takes it all away again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from neo4j import Driver

from gateway.cypher.names import name_keys

# --- The fixed world ----------------------------------------------------------------------

COUNTRIES = ("QM", "QN", "QO", "QP", "QQ", "QR")
DEAD_COUNTRY = "QR"  # its NCB is inactive: no agency of it is admitted (R1)
OVERSIGHT_IDS = ("gs", "ccf")  # the standard graph's GS and CCF
INTL_ID = "px-intl"  # an international entity without a country
UNSC_ID = "px-unsc"  # requests UN special notices, without a country
REFUGEE_REASON = "refugee protection granted (R8)"
GS_BLOCK_REASON = "blocked by the GS on review"
GENERIC_REASON = "not compliant with the rules"

# National entities of every country: (id stem, subtype, scopes or None for no authorisation,
# active, authorised by another country's NCB).
ENTITIES: tuple[tuple[str, str, tuple[str, ...] | None, bool, bool], ...] = (
    ("police", "POLICE", ("screen", "read"), True, False),
    ("border", "BORDER", ("screen",), True, False),
    ("asylum", "ASYLUM", ("screen", "asylum"), True, False),
    ("judicial", "JUDICIAL", ("read",), True, False),
    ("readasylum", "POLICE", ("read", "asylum"), True, False),
    ("asylumonly", "ASYLUM", ("asylum",), True, False),
    ("noscope", "BORDER", (), True, False),
    ("inactive", "POLICE", ("screen", "read"), False, False),
    ("unauth", "POLICE", None, True, False),
    ("foreign", "POLICE", ("screen", "read"), True, True),
)


@dataclass(frozen=True)
class Agency:
    id: str
    name: str
    kind: str
    subtype: str | None
    active: bool
    country: str | None
    authorized_by: str | None = None  # the NCB's id
    grant: tuple[str, ...] | None = None  # the scopes on AUTHORIZED_BY


def ncb_id(country: str) -> str:
    return f"px-ncb-{country.lower()}"


def _agencies() -> dict[str, Agency]:
    out: dict[str, Agency] = {}
    for c in COUNTRIES:
        out[ncb_id(c)] = Agency(ncb_id(c), f"NCB {c}", "NCB", None, c != DEAD_COUNTRY, c)
        for stem, subtype, scopes, active, foreign in ENTITIES:
            other = COUNTRIES[(COUNTRIES.index(c) + 1) % len(COUNTRIES)]
            aid = f"px-{stem}-{c.lower()}"
            out[aid] = Agency(
                aid,
                f"{stem.title()} {c}",
                "NATIONAL_ENTITY",
                subtype,
                active,
                c,
                authorized_by=None if scopes is None else ncb_id(other if foreign else c),
                grant=scopes,
            )
    out[INTL_ID] = Agency(INTL_ID, "PX international entity", "INTERNATIONAL_ENTITY", None, True, None)
    out[UNSC_ID] = Agency(UNSC_ID, "PX sanctions committee", "INTERNATIONAL_ENTITY", None, True, None)
    return out


AGENCIES = _agencies()
COUNTRY_NAMES = {c: f"Privatia {c}" for c in COUNTRIES}
REGION = "Proofland"

# Names: no two within four edits of each other, and none within two edits of a seeded name
# (checked against the graph before the proof starts), so a tolerant name search for one of
# them finds exactly its bearers. A small pool makes namesakes common.
FAMILY_NAMES = ("Qazwirtel", "Zoxbrumak", "Vyxpelorn", "Juqtamsiv", "Wexflorbit")
GIVEN_NAMES = ("Olvexquin", "Mirzqaban", "Tuxhelvor")
SCRIPTS = (("Казвиртель", "CYRILLIC"), ("ザクスブルマク", "KATAKANA"), (None, "LATIN"))
BIRTH_DATES = (date(1971, 3, 4), date(1984, 11, 30), date(1999, 6, 15))


def typo(name: str) -> str:
    """One substituted letter (a spelling variant a tolerant search must still find)."""
    middle = len(name) // 2
    return name[:middle] + ("a" if name[middle] != "a" else "e") + name[middle + 1 :]


# --- A random graph, as plain records -----------------------------------------------------


@dataclass
class Person:
    id: str
    family: str
    given: str | None
    aliases: list[str]
    original: str | None
    script: str
    variants: list[str]
    dob: date | None
    sex: str
    fingerprint: str | None
    dna: str | None
    recorded_by: str
    nationalities: list[str]


@dataclass
class Document:
    number: str
    type: str
    status: str
    issuing: str
    holder: str


@dataclass
class Notice:
    id: str
    subject: str
    requested_by: str
    type: str
    status: str  # as stored
    offence: str
    requested_at: datetime
    published_at: datetime | None
    expires_at: datetime | None
    review_due_at: datetime | None
    public_extract: bool
    allow: list[str]
    deny: list[str]
    blocked: bool
    block_reason: str | None
    review_flag: bool
    status_reason: str | None


@dataclass
class Diffusion:
    id: str
    subject: str
    sent_by: str
    purpose: str
    sent_at: datetime
    to_all: bool
    recipients: list[str]
    reviewed: bool
    allow: list[str]
    deny: list[str]
    blocked: bool
    block_reason: str | None
    review_flag: bool
    status: str | None  # None: never changed (reads ACTIVE)
    status_reason: str | None


@dataclass
class Application:
    id: str
    applicant: str
    receiving: str
    feared: str
    status: str
    lodged_at: date
    decided_at: date | None
    legal_basis: str | None
    criminal: bool
    screening_result: str
    screening_refs: list[str]


@dataclass
class Notification:
    id: str
    application: str
    created_at: datetime
    outcome: str
    decided_at: date | None
    legal_basis: str | None
    receiving: str
    feared: str
    criminal: bool


@dataclass
class Link:
    source: str
    target: str
    kind: str


@dataclass
class Graph:
    now: datetime
    persons: dict[str, Person] = field(default_factory=dict)
    documents: list[Document] = field(default_factory=list)
    notices: dict[str, Notice] = field(default_factory=dict)
    diffusions: dict[str, Diffusion] = field(default_factory=dict)
    applications: dict[str, Application] = field(default_factory=dict)
    notifications: dict[str, Notification] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)

    def describe(self) -> str:
        """A readable dump for counterexamples."""
        lines = [f"graph at {self.now.isoformat()}:"]
        for p in self.persons.values():
            lines.append(
                f"  person {p.id} {p.family}/{p.given} aliases={p.aliases} dob={p.dob} "
                f"recordedBy={p.recorded_by} nat={p.nationalities}"
            )
        for d in self.documents:
            lines.append(f"  document {d.number} {d.type} {d.status} {d.issuing} holder={d.holder}")
        for n in self.notices.values():
            lines.append(
                f"  notice {n.id} {n.type} {n.status} about {n.subject} by {n.requested_by} "
                f"allow={n.allow} deny={n.deny} blocked={n.blocked} flag={n.review_flag} "
                f"publicExtract={n.public_extract} expires={n.expires_at and n.expires_at.date()}"
            )
        for d in self.diffusions.values():
            lines.append(
                f"  diffusion {d.id} {d.purpose} about {d.subject} by {d.sent_by} "
                f"to={'ALL' if d.to_all else d.recipients} allow={d.allow} deny={d.deny} "
                f"reviewed={d.reviewed} status={d.status} blocked={d.blocked}"
            )
        for a in self.applications.values():
            lines.append(
                f"  application {a.id} of {a.applicant} in {a.receiving} fearing {a.feared}: {a.status}"
            )
        for k in self.links:
            lines.append(f"  link {k.source} -{k.kind}-> {k.target}")
        return "\n".join(lines)


NOTICE_TYPES = ("RED", "YELLOW", "BLUE", "BLACK", "GREEN", "ORANGE", "PURPLE", "UN_SPECIAL")
# Stored notice states: (status, published, expired by date)
NOTICE_STATES = (
    ("REQUESTED", False, False),
    ("PUBLISHED", True, False),
    ("PUBLISHED", True, True),  # past its expiry, not yet swept: reads EXPIRED (R14)
    ("EXPIRED", True, True),
    ("REFUSED", False, False),
    ("CANCELLED", True, False),
)
RECORDERS = tuple(a.id for a in AGENCIES.values() if a.kind in ("NCB", "NATIONAL_ENTITY") and a.grant != ())
REQUESTERS = tuple(ncb_id(c) for c in COUNTRIES) + tuple(f"px-police-{c.lower()}" for c in COUNTRIES)


def _countries(draw: st.DrawFn, most: int) -> list[str]:
    return sorted(draw(st.sets(st.sampled_from(COUNTRIES), max_size=most)))


def _instant(now: datetime, days: int, seconds: int = 0) -> datetime:
    return (now + timedelta(days=days, seconds=seconds)).replace(microsecond=0)


@st.composite
def graphs(draw: st.DrawFn, now: datetime) -> Graph:
    """A small random graph whose stored state the workflows could have produced (R8's
    blocks and flags follow the applications), with namesakes, restrictions, every notice
    state, cancelled, blocked and unreviewed diffusions, asylum-recorded persons and links."""
    g = Graph(now=now)
    n_persons = draw(st.integers(1, 7))
    for i in range(n_persons):
        original, script = draw(st.sampled_from(SCRIPTS))
        pid = f"PX-P{i}"
        g.persons[pid] = Person(
            id=pid,
            family=draw(st.sampled_from(FAMILY_NAMES)),
            given=draw(st.none() | st.sampled_from(GIVEN_NAMES)),
            aliases=draw(st.lists(st.sampled_from(FAMILY_NAMES), max_size=1)),
            original=original,
            script=script,
            variants=draw(st.lists(st.sampled_from(FAMILY_NAMES), max_size=1)),
            dob=draw(st.none() | st.sampled_from(BIRTH_DATES)),
            sex=draw(st.sampled_from(("M", "F", "X"))),
            fingerprint=draw(st.none() | st.just(f"FP-{i}")),
            dna=draw(st.none() | st.just(f"DNA-{i}")),
            recorded_by=draw(st.sampled_from(RECORDERS)),
            nationalities=_countries(draw, 2),
        )
    # A crowd of namesakes with no record about them: a screening must see past them (R11).
    crowd = draw(st.sampled_from((0, 0, 0, 25)))
    if crowd:
        name = draw(st.sampled_from(FAMILY_NAMES))
        recorder = draw(st.sampled_from(RECORDERS))
        for i in range(crowd):
            pid = f"PX-C{i:02d}"
            g.persons[pid] = Person(
                pid, name, None, [], None, "LATIN", [], None, "X", None, None, recorder, []
            )
    people = sorted(p for p in g.persons if p.startswith("PX-P"))

    for i, pid in enumerate(people):
        if draw(st.integers(0, 3)) == 0:
            g.documents.append(
                Document(
                    f"PXD{i}{draw(st.integers(0, 9))}",
                    draw(st.sampled_from(("PASSPORT", "ID_CARD", "TRAVEL_DOCUMENT"))),
                    draw(st.sampled_from(("VALID", "STOLEN", "LOST", "REVOKED"))),
                    draw(st.sampled_from(COUNTRIES)),
                    pid,
                )
            )

    for i in range(draw(st.integers(0, 7))):
        ntype = draw(st.sampled_from(NOTICE_TYPES))
        status, published, expired = draw(st.sampled_from(NOTICE_STATES))
        requester = UNSC_ID if ntype == "UN_SPECIAL" else draw(st.sampled_from(REQUESTERS))
        pub = (
            _instant(now, -draw(st.integers(40, 900)), draw(st.integers(0, 3)) * 3600) if published else None
        )
        if pub and expired:
            pub = _instant(now, -(5 * 365 + 1) - draw(st.integers(30, 400)))
        expires = pub + timedelta(days=5 * 365 + 1) if pub else None
        nid = f"PX-N{i}"
        restricted = draw(st.sampled_from(("none", "none", "allow", "deny")))
        g.notices[nid] = Notice(
            id=nid,
            subject=draw(st.sampled_from(people)),
            requested_by=requester,
            type=ntype,
            status=status,
            offence=f"offence {i}",
            requested_at=(pub or _instant(now, -10)) - timedelta(days=draw(st.integers(1, 30))),
            published_at=pub,
            expires_at=expires,
            review_due_at=expires - timedelta(days=183) if expires else None,
            public_extract=draw(st.booleans()),
            allow=_countries(draw, 2) if restricted == "allow" else [],
            deny=_countries(draw, 2) if restricted == "deny" else [],
            blocked=draw(st.integers(0, 7)) == 0,
            block_reason=None,
            review_flag=False,
            status_reason={"REFUSED": "refused on review", "CANCELLED": "withdrawn by the source"}.get(
                status
            ),
        )

    for i in range(draw(st.integers(0, 6))):
        sender = ncb_id(draw(st.sampled_from(COUNTRIES)))
        to_all = draw(st.booleans())
        status = draw(st.sampled_from((None, None, "ACTIVE", "CANCELLED")))
        did = f"PX-D{i}"
        g.diffusions[did] = Diffusion(
            id=did,
            subject=draw(st.sampled_from(people)),
            sent_by=sender,
            purpose=draw(st.sampled_from(("ARREST", "LOCATE", "INFORMATION", "ALERT"))),
            sent_at=_instant(now, -draw(st.integers(2, 900)), draw(st.integers(0, 3)) * 3600),
            to_all=to_all,
            recipients=[] if to_all else _countries(draw, 3),
            reviewed=draw(st.booleans()) or status == "CANCELLED",  # the GS's cancel is a review
            allow=_countries(draw, 2) if to_all and draw(st.booleans()) else [],
            deny=_countries(draw, 2) if to_all and draw(st.booleans()) else [],
            blocked=draw(st.integers(0, 7)) == 0,
            block_reason=None,
            review_flag=False,
            status=status,
            status_reason="cancelled on review" if status == "CANCELLED" else None,
        )

    for i in range(draw(st.integers(0, 4))):
        status = draw(st.sampled_from(("PENDING", "GRANTED", "DENIED", "REVOKED")))
        receiving = draw(st.sampled_from(COUNTRIES))
        feared = draw(st.sampled_from([c for c in COUNTRIES if c != receiving]))
        lodged = (now - timedelta(days=draw(st.integers(60, 600)))).date()
        decided = lodged + timedelta(days=30) if status != "PENDING" else None
        basis = (
            None
            if decided is None
            else draw(st.sampled_from(("CONVENTION_1951", "SUBSIDIARY_PROTECTION", "OTHER")))
        )
        refs = sorted(draw(st.sets(st.sampled_from(sorted(g.notices) or ["PX-N0"]), max_size=2)))
        aid = f"PX-A{i}"
        g.applications[aid] = Application(
            aid,
            draw(st.sampled_from(people)),
            receiving,
            feared,
            status,
            lodged,
            decided,
            basis,
            status == "DENIED" and draw(st.booleans()),
            "HIT" if refs else "NO_HIT",
            refs,
        )
        if decided is not None:
            sid = f"PX-S{i}"
            g.notifications[sid] = Notification(
                sid,
                aid,
                datetime(decided.year, decided.month, decided.day, 16, tzinfo=UTC),
                status,
                decided,
                basis,
                receiving,
                feared,
                g.applications[aid].criminal,
            )

    # R8 as the workflows leave it: a grant blocks the feared country's items about the
    # applicant, a pending application flags them for the GS; other blocks are the GS's own.
    for item in (*g.notices.values(), *g.diffusions.values()):
        source = source_country(item)
        granted = any(
            a.applicant == item.subject and a.feared == source and a.status == "GRANTED"
            for a in g.applications.values()
        )
        pending = any(
            a.applicant == item.subject and a.feared == source and a.status == "PENDING"
            for a in g.applications.values()
        )
        if granted:
            item.blocked, item.block_reason = True, REFUGEE_REASON
        elif item.blocked:
            item.block_reason = GS_BLOCK_REASON
        item.review_flag = pending

    pairs = draw(
        st.sets(
            st.tuples(st.sampled_from(people), st.sampled_from(people)).filter(lambda t: t[0] < t[1]),
            max_size=8,
        )
        if len(people) > 1
        else st.just(set())
    )
    for a, b in sorted(pairs):
        flip = draw(st.booleans())
        g.links.append(
            Link(
                b if flip else a,
                a if flip else b,
                draw(st.sampled_from(("FAMILY", "ACCOMPLICE", "CO_TRAVELLER"))),
            )
        )
    return g


def source_country(item: Notice | Diffusion) -> str | None:
    """The country of the agency that requested or sent the item (domain.md)."""
    agency = AGENCIES[item.requested_by if isinstance(item, Notice) else item.sent_by]
    return agency.country


# --- Writing to Neo4j -----------------------------------------------------------------------


def install_world(driver: Driver) -> None:
    remove_world(driver)
    driver.execute_query(
        "UNWIND $rows AS row CREATE (:Country {code: row.code, name: row.name, region: row.region})",
        rows=[{"code": c, "name": COUNTRY_NAMES[c], "region": REGION} for c in COUNTRIES],
    )
    driver.execute_query(
        """
        UNWIND $rows AS row
        CREATE (a:Agency {id: row.id, name: row.name, kind: row.kind, active: row.active})
        SET a.subtype = row.subtype
        WITH a, row
        CALL (a, row) { WITH a, row WHERE row.country IS NOT NULL
          MATCH (c:Country {code: row.country}) CREATE (a)-[:OF_COUNTRY]->(c) }
        """,
        rows=[
            {
                "id": a.id,
                "name": a.name,
                "kind": a.kind,
                "active": a.active,
                "subtype": a.subtype,
                "country": a.country,
            }
            for a in AGENCIES.values()
        ],
    )
    driver.execute_query(
        """
        UNWIND $rows AS row
        MATCH (e:Agency {id: row.id}), (n:Agency {id: row.ncb})
        CREATE (e)-[:AUTHORIZED_BY {scopes: row.scopes}]->(n)
        """,
        rows=[
            {"id": a.id, "ncb": a.authorized_by, "scopes": list(a.grant or ())}
            for a in AGENCIES.values()
            if a.authorized_by
        ],
    )


def clear_graph(driver: Driver) -> None:
    driver.execute_query(
        """
        UNWIND ['Person', 'Notice', 'Diffusion', 'AsylumApplication', 'StatusNotification'] AS label
        CALL (label) { MATCH (n) WHERE label IN labels(n) AND n.id STARTS WITH 'PX-' DETACH DELETE n }
        """
    )
    driver.execute_query("MATCH (d:TravelDocument) WHERE d.number STARTS WITH 'PXD' DETACH DELETE d")


def remove_world(driver: Driver) -> None:
    clear_graph(driver)
    driver.execute_query("MATCH (a:Agency) WHERE a.id STARTS WITH 'px-' DETACH DELETE a")
    driver.execute_query("MATCH (c:Country) WHERE c.code IN $codes DETACH DELETE c", codes=list(COUNTRIES))


def _with_name_keys(props: dict[str, Any]) -> dict[str, Any]:
    """The screening's look-up keys, as every write of a person stores them."""
    return {**props, "nameKeys": name_keys(props)}


def write_graph(driver: Driver, g: Graph) -> None:
    """One graph in a handful of UNWIND statements, after removing the previous one."""
    clear_graph(driver)
    run = driver.execute_query
    run(
        """
        UNWIND $rows AS row
        MATCH (a:Agency {id: row.recordedBy})
        CREATE (p:Person) SET p = row.props
        CREATE (p)-[:RECORDED_BY]->(a)
        WITH p, row UNWIND row.nationalities AS code
        MATCH (c:Country {code: code}) CREATE (p)-[:NATIONAL_OF]->(c)
        """,
        rows=[
            {
                "props": _with_name_keys(_person_props(p)),
                "recordedBy": p.recorded_by,
                "nationalities": p.nationalities,
            }
            for p in g.persons.values()
        ],
    )
    run(
        """
        UNWIND $rows AS row
        MATCH (p:Person {id: row.holder}), (c:Country {code: row.props.issuingCountry})
        CREATE (d:TravelDocument) SET d = row.props
        CREATE (p)-[:HOLDS]->(d) CREATE (d)-[:ISSUED_BY]->(c)
        """,
        rows=[
            {
                "holder": d.holder,
                "props": {
                    "number": d.number,
                    "type": d.type,
                    "status": d.status,
                    "issuingCountry": d.issuing,
                },
            }
            for d in g.documents
        ],
    )
    run(
        """
        UNWIND $rows AS row
        MATCH (p:Person {id: row.subject}), (a:Agency {id: row.by})
        CREATE (n:Notice) SET n = row.props
        CREATE (n)-[:CONCERNS]->(p) CREATE (n)-[:REQUESTED_BY]->(a)
        """,
        rows=[
            {"subject": n.subject, "by": n.requested_by, "props": _notice_props(n)}
            for n in g.notices.values()
        ],
    )
    run(
        """
        UNWIND $rows AS row
        MATCH (p:Person {id: row.subject}), (a:Agency {id: row.by})
        CREATE (d:Diffusion) SET d = row.props
        CREATE (d)-[:CONCERNS]->(p) CREATE (d)-[:SENT_BY]->(a)
        WITH d, row UNWIND row.to AS code
        MATCH (c:Country {code: code}) CREATE (d)-[:SENT_TO]->(c)
        """,
        rows=[
            {"subject": d.subject, "by": d.sent_by, "to": d.recipients, "props": _diffusion_props(d)}
            for d in g.diffusions.values()
        ],
    )
    run(
        """
        UNWIND $rows AS row
        MATCH (p:Person {id: row.applicant}), (r:Country {code: row.props.receivingCountry}),
              (f:Country {code: row.props.fearedCountry})
        CREATE (a:AsylumApplication) SET a = row.props
        CREATE (p)-[:APPLIED_FOR]->(a) CREATE (a)-[:LODGED_IN]->(r) CREATE (a)-[:FEARS_PERSECUTION_IN]->(f)
        """,
        rows=[{"applicant": a.applicant, "props": _application_props(a)} for a in g.applications.values()],
    )
    run(
        """
        UNWIND $rows AS row
        MATCH (a:AsylumApplication {id: row.application})
        CREATE (s:StatusNotification) SET s = row.props CREATE (s)-[:REPORTS]->(a)
        """,
        rows=[
            {
                "application": s.application,
                "props": {
                    "id": s.id,
                    "createdAt": s.created_at,
                    "outcome": s.outcome,
                    "decidedAt": s.decided_at,
                    "legalBasis": s.legal_basis,
                    "receivingCountry": s.receiving,
                    "fearedCountry": s.feared,
                    "deniedOnCriminalGrounds": s.criminal,
                },
            }
            for s in g.notifications.values()
        ],
    )
    run(
        """
        UNWIND $rows AS row
        MATCH (a:Person {id: row.source}), (b:Person {id: row.target})
        CREATE (a)-[:ASSOCIATE_OF {kind: row.kind}]->(b)
        """,
        rows=[{"source": k.source, "target": k.target, "kind": k.kind} for k in g.links],
    )


def _drop_none(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if v is not None}


def _person_props(p: Person) -> dict[str, Any]:
    return _drop_none(
        {
            "id": p.id,
            "familyName": p.family,
            "givenNames": p.given,
            "aliases": p.aliases,
            "nameOriginalScript": p.original,
            "script": p.script,
            "nameVariants": p.variants,
            "dateOfBirth": p.dob,
            "sex": p.sex,
            "fingerprintRef": p.fingerprint,
            "dnaRef": p.dna,
        }
    )


def _notice_props(n: Notice) -> dict[str, Any]:
    return _drop_none(
        {
            "id": n.id,
            "type": n.type,
            "status": n.status,
            "offenceSummary": n.offence,
            "requestedAt": n.requested_at,
            "publishedAt": n.published_at,
            "expiresAt": n.expires_at,
            "reviewDueAt": n.review_due_at,
            "publicExtract": n.public_extract,
            "allowCountries": n.allow,
            "denyCountries": n.deny,
            "blocked": n.blocked,
            "blockReason": n.block_reason,
            "reviewFlag": n.review_flag,
            "statusReason": n.status_reason,
            "sourceCountry": source_country(n),
            "version": 1,
        }
    )


def _diffusion_props(d: Diffusion) -> dict[str, Any]:
    return _drop_none(
        {
            "id": d.id,
            "purpose": d.purpose,
            "sentAt": d.sent_at,
            "toAllMembers": d.to_all,
            "reviewed": d.reviewed,
            "allowCountries": d.allow,
            "denyCountries": d.deny,
            "blocked": d.blocked,
            "blockReason": d.block_reason,
            "reviewFlag": d.review_flag,
            "status": d.status,
            "statusReason": d.status_reason,
            "sourceCountry": source_country(d),
            "version": 1,
        }
    )


def _application_props(a: Application) -> dict[str, Any]:
    return _drop_none(
        {
            "id": a.id,
            "lodgedAt": a.lodged_at,
            "status": a.status,
            "decidedAt": a.decided_at,
            "legalBasis": a.legal_basis,
            "deniedOnCriminalGrounds": a.criminal,
            "screeningResult": a.screening_result,
            "screeningRefs": a.screening_refs,
            "receivingCountry": a.receiving,
            "fearedCountry": a.feared,
            "version": 1,
        }
    )
