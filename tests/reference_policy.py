"""A plain-Python restatement of the visibility rules of domain.md (R1, R4-R8, R13, R16, R18).

This module is the test oracle for the gateway's Cypher predicates (``gateway/policy.py``).
It deliberately shares no logic with them: the graph is read once into plain dataclasses,
source and receiving countries are taken from the relationships that domain.md names
(``REQUESTED_BY``/``SENT_BY``/``LODGED_IN`` -> agency -> ``OF_COUNTRY``) rather than from the
denormalised ``sourceCountry``/``receivingCountry`` properties, R8's block is derived from the
granted applications as well as read from the ``blocked`` flag, and the caller's rights are
derived from its agency record and its ``AUTHORIZED_BY`` relationship, not from
``gateway.rules.caller``.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from neo4j import Driver

NCB = "NCB"
NATIONAL_ENTITY = "NATIONAL_ENTITY"
INTERNATIONAL_ENTITY = "INTERNATIONAL_ENTITY"
GENERAL_SECRETARIAT = "GENERAL_SECRETARIAT"
CCF = "CCF"

PUBLISHED = "PUBLISHED"
UN_SPECIAL = "UN_SPECIAL"


def _native(value: Any) -> Any:
    to_native = getattr(value, "to_native", None)
    return to_native() if to_native else value


# --- The graph, as plain records ----------------------------------------------------------


@dataclass(frozen=True)
class Agency:
    id: str
    kind: str
    subtype: str | None
    active: bool
    country: str | None
    # scopes granted by an active NCB of the agency's own country (R1); None: no such grant
    scopes: frozenset[str] | None


@dataclass(frozen=True)
class Notice:
    id: str
    type: str
    status: str
    blocked: bool
    expires_at: datetime | None
    public_extract: bool
    allow: frozenset[str]
    deny: frozenset[str]
    source: str | None  # country of the requesting agency (None for e.g. the UNSC)
    subject: str | None
    protected: bool = False  # R8: the subject was granted asylum against the source country


@dataclass(frozen=True)
class Diffusion:
    id: str
    status: str  # ACTIVE unless cancelled (absent on diffusions never changed)
    to_all: bool
    recipients: frozenset[str]
    reviewed: bool
    blocked: bool
    allow: frozenset[str]
    deny: frozenset[str]
    source: str | None  # country of the sending agency
    subject: str | None
    protected: bool = False  # R8, as for notices


@dataclass(frozen=True)
class Application:
    id: str
    status: str
    receiving: str | None  # LODGED_IN
    feared: str | None  # FEARS_PERSECUTION_IN
    applicant: str | None


@dataclass(frozen=True)
class Person:
    id: str
    recorded_by: str | None  # the RECORDED_BY agency
    recorded_country: str | None  # its country
    nationalities: frozenset[str]


@dataclass(frozen=True)
class Link:
    source: str
    target: str
    kind: str | None


@dataclass
class Graph:
    agencies: dict[str, Agency]
    notices: dict[str, Notice]
    diffusions: dict[str, Diffusion]
    applications: dict[str, Application]
    persons: dict[str, Person]
    links: list[Link]
    notices_of: dict[str, list[Notice]] = field(default_factory=dict)
    diffusions_of: dict[str, list[Diffusion]] = field(default_factory=dict)
    applications_of: dict[str, list[Application]] = field(default_factory=dict)
    adjacency: dict[str, list[int]] = field(default_factory=dict)  # person -> indexes into links

    def __repr__(self) -> str:  # keeps Hypothesis's falsifying-example reports readable
        return (
            f"Graph({len(self.notices)} notices, {len(self.diffusions)} diffusions, "
            f"{len(self.applications)} applications, {len(self.persons)} persons, {len(self.links)} links)"
        )

    def __post_init__(self) -> None:
        notices_of: dict[str, list[Notice]] = defaultdict(list)
        diffusions_of: dict[str, list[Diffusion]] = defaultdict(list)
        applications_of: dict[str, list[Application]] = defaultdict(list)
        adjacency: dict[str, list[int]] = defaultdict(list)
        for n in self.notices.values():
            if n.subject:
                notices_of[n.subject].append(n)
        for d in self.diffusions.values():
            if d.subject:
                diffusions_of[d.subject].append(d)
        for a in self.applications.values():
            if a.applicant:
                applications_of[a.applicant].append(a)
        for index, link in enumerate(self.links):
            adjacency[link.source].append(index)
            if link.target != link.source:
                adjacency[link.target].append(index)
        self.notices_of = dict(notices_of)
        self.diffusions_of = dict(diffusions_of)
        self.applications_of = dict(applications_of)
        self.adjacency = dict(adjacency)


def load(driver: Driver) -> Graph:
    """Read the whole (small) test graph into plain records."""

    def rows(cypher: str) -> list[dict[str, Any]]:
        records, _, _ = driver.execute_query(cypher)
        return [r.data() for r in records]

    agencies: dict[str, Agency] = {}
    for r in rows(
        """
        MATCH (a:Agency)
        OPTIONAL MATCH (a)-[:OF_COUNTRY]->(c:Country)
        RETURN a.id AS id, a.kind AS kind, a.subtype AS subtype, a.active AS active,
               c.code AS country,
               [(a)-[g:AUTHORIZED_BY]->(n:Agency)-[:OF_COUNTRY]->(nc:Country)
                | {scopes: g.scopes, kind: n.kind, active: n.active, country: nc.code}] AS grants
        """
    ):
        scopes: set[str] | None = None
        for g in r["grants"]:
            # R1: only an authorisation by an active NCB of the entity's own country counts.
            if g["kind"] == NCB and g["active"] and g["country"] == r["country"]:
                scopes = (scopes or set()) | set(g["scopes"] or [])
        agencies[r["id"]] = Agency(
            r["id"], r["kind"], r["subtype"], bool(r["active"]), r["country"],
            frozenset(scopes) if scopes is not None else None,
        )  # fmt: skip

    notices = {
        r["id"]: Notice(
            id=r["id"],
            type=r["type"],
            status=r["status"],
            blocked=bool(r["blocked"]),
            expires_at=_native(r["expiresAt"]),
            public_extract=bool(r["publicExtract"]),
            allow=frozenset(r["allow"] or []),
            deny=frozenset(r["deny"] or []),
            source=r["source"],
            subject=r["subject"],
        )
        for r in rows(
            """
            MATCH (n:Notice)
            OPTIONAL MATCH (n)-[:CONCERNS]->(p:Person)
            OPTIONAL MATCH (n)-[:REQUESTED_BY]->(:Agency)-[:OF_COUNTRY]->(c:Country)
            RETURN n.id AS id, n.type AS type, n.status AS status, n.blocked AS blocked,
                   n.expiresAt AS expiresAt, n.publicExtract AS publicExtract,
                   n.allowCountries AS allow, n.denyCountries AS deny,
                   c.code AS source, p.id AS subject
            """
        )
    }
    diffusions = {
        r["id"]: Diffusion(
            id=r["id"],
            status=r["status"] or "ACTIVE",
            to_all=bool(r["toAll"]),
            recipients=frozenset(r["recipients"]),
            reviewed=bool(r["reviewed"]),
            blocked=bool(r["blocked"]),
            allow=frozenset(r["allow"] or []),
            deny=frozenset(r["deny"] or []),
            source=r["source"],
            subject=r["subject"],
        )
        for r in rows(
            """
            MATCH (d:Diffusion)
            OPTIONAL MATCH (d)-[:CONCERNS]->(p:Person)
            OPTIONAL MATCH (d)-[:SENT_BY]->(:Agency)-[:OF_COUNTRY]->(c:Country)
            RETURN d.id AS id, d.status AS status, d.toAllMembers AS toAll, d.reviewed AS reviewed,
                   d.blocked AS blocked, d.allowCountries AS allow, d.denyCountries AS deny,
                   [(d)-[:SENT_TO]->(r:Country) | r.code] AS recipients,
                   c.code AS source, p.id AS subject
            """
        )
    }
    applications = {
        r["id"]: Application(r["id"], r["status"], r["receiving"], r["feared"], r["applicant"])
        for r in rows(
            """
            MATCH (a:AsylumApplication)
            OPTIONAL MATCH (p:Person)-[:APPLIED_FOR]->(a)
            OPTIONAL MATCH (a)-[:LODGED_IN]->(rc:Country)
            OPTIONAL MATCH (a)-[:FEARS_PERSECUTION_IN]->(fc:Country)
            RETURN a.id AS id, a.status AS status, rc.code AS receiving, fc.code AS feared,
                   p.id AS applicant
            """
        )
    }
    persons = {
        r["id"]: Person(r["id"], r["agency"], r["recorded"], frozenset(r["nationalities"]))
        for r in rows(
            """
            MATCH (p:Person)
            OPTIONAL MATCH (p)-[:RECORDED_BY]->(a:Agency)
            OPTIONAL MATCH (a)-[:OF_COUNTRY]->(c:Country)
            RETURN p.id AS id, a.id AS agency, c.code AS recorded,
                   [(p)-[:NATIONAL_OF]->(n:Country) | n.code] AS nationalities
            """
        )
    }
    links = [
        Link(r["source"], r["target"], r["kind"])
        for r in rows(
            "MATCH (a:Person)-[r:ASSOCIATE_OF]->(b:Person) "
            "RETURN a.id AS source, b.id AS target, r.kind AS kind"
        )
    ]
    # R8, derived from the applications rather than read from the stored flag: an item about a
    # person granted asylum whose source is the feared country is blocked for members.
    granted = {(a.applicant, a.feared) for a in applications.values() if a.status == "GRANTED" and a.feared}
    notices = {k: replace(n, protected=(n.subject, n.source) in granted) for k, n in notices.items()}
    diffusions = {k: replace(d, protected=(d.subject, d.source) in granted) for k, d in diffusions.items()}
    return Graph(agencies, notices, diffusions, applications, persons, links)


# --- The caller -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """Who asks, as the rules see it; ``kind is None`` is the public."""

    agency: str | None  # the agency's id; None for the public
    kind: str | None
    country: str | None = None
    scopes: frozenset[str] = frozenset()


PUBLIC_VIEWER = Viewer(None, None)


def viewer(graph: Graph, agency_id: str | None) -> Viewer | None:
    """The viewer behind a token for ``agency_id`` (None: the public), or None when R1 refuses."""
    if agency_id is None:
        return PUBLIC_VIEWER
    a = graph.agencies.get(agency_id)
    if a is None or not a.active:
        return None
    if a.kind == NATIONAL_ENTITY:
        if a.scopes is None:
            return None
        return Viewer(a.id, a.kind, a.country, a.scopes)
    return Viewer(a.id, a.kind, a.country)


def is_oversight(v: Viewer) -> bool:
    return v.kind in (GENERAL_SECRETARIAT, CCF)


def has_member_view(v: Viewer) -> bool:
    """An NCB, or a national entity granted `read`: reads as its country's NCB does."""
    return v.kind == NCB or (v.kind == NATIONAL_ENTITY and "read" in v.scopes)


def reads_applications(v: Viewer) -> bool:
    """R7: the NCB and the asylum authority (scope `asylum`) of the receiving country."""
    return v.kind == NCB or (v.kind == NATIONAL_ENTITY and "asylum" in v.scopes)


# --- The rules ------------------------------------------------------------------------------


def admitted(country: str | None, allow: frozenset[str], deny: frozenset[str]) -> bool:
    """R4 for a non-source member country."""
    if allow and country not in allow:
        return False
    return country not in deny


def live(n: Notice, now: datetime) -> bool:
    """R5/R8/R14: published, not blocked, and not yet past its expiry."""
    if n.status != PUBLISHED or n.blocked or n.protected:
        return False
    return n.expires_at is None or n.expires_at > now


def visible_notice(v: Viewer, n: Notice, now: datetime) -> bool:
    if v.kind is None:  # R13
        # R4 with R13: a notice its source restricted in any way is not for the world
        return live(n, now) and not n.allow and not n.deny and (n.public_extract or n.type == UN_SPECIAL)
    if is_oversight(v):
        return True
    if v.kind == INTERNATIONAL_ENTITY:
        return live(n, now) and not n.allow and not n.deny
    if has_member_view(v):
        if n.source is not None and n.source == v.country:  # R3/R4/R8: the source sees its own
            return True
        return live(n, now) and admitted(v.country, n.allow, n.deny)
    return False


def visible_diffusion(v: Viewer, d: Diffusion) -> bool:
    if v.kind is None:  # R6/R13: never public
        return False
    if is_oversight(v):
        return True
    if has_member_view(v):
        if d.source is not None and d.source == v.country:
            return True
        if d.blocked or d.protected:  # R8
            return False
        if d.status != "ACTIVE":  # domain.md is silent; as R5 for notices: cancelled stays with the source
            return False
        addressed = d.to_all or v.country in d.recipients
        return addressed and admitted(v.country, d.allow, d.deny)
    return False


def visible_application(v: Viewer, a: Application) -> bool:
    if v.kind is None:
        return False
    if is_oversight(v):
        return True
    return reads_applications(v) and a.receiving is not None and a.receiving == v.country


def visible_person(v: Viewer, p: Person, graph: Graph, now: datetime) -> bool:
    """R18."""
    if is_oversight(v):
        return True
    if has_member_view(v) and p.recorded_country is not None and p.recorded_country == v.country:
        return True
    if v.agency is not None and p.recorded_by == v.agency:  # R3: an agency sees the records it created
        return True
    return (
        any(visible_notice(v, n, now) for n in graph.notices_of.get(p.id, ()))
        or any(visible_diffusion(v, d) for d in graph.diffusions_of.get(p.id, ()))
        or any(visible_application(v, a) for a in graph.applications_of.get(p.id, ()))
    )


def visible_link(v: Viewer, link: Link, graph: Graph, now: datetime) -> bool:
    """R16/R18: both ends visible; the public sees no links (R13)."""
    if v.kind is None:
        return False
    return visible_person(v, graph.persons[link.source], graph, now) and visible_person(
        v, graph.persons[link.target], graph, now
    )


# --- Views over the whole graph -------------------------------------------------------------


@dataclass
class View:
    """Everything one viewer may see at one instant."""

    notices: set[str]
    diffusions: set[str]
    applications: set[str]
    persons: set[str]


def view(v: Viewer, graph: Graph, now: datetime) -> View:
    return View(
        notices={i for i, n in graph.notices.items() if visible_notice(v, n, now)},
        diffusions={i for i, d in graph.diffusions.items() if visible_diffusion(v, d)},
        applications={i for i, a in graph.applications.items() if visible_application(v, a)},
        persons={i for i, p in graph.persons.items() if visible_person(v, p, graph, now)},
    )


def neighbourhood(
    v: Viewer, graph: Graph, start: str, depth: int, now: datetime
) -> tuple[set[str], Counter[tuple[str, str, str | None]]] | None:
    """R16: the persons reachable from ``start`` in at most ``depth`` hops over visible links
    (so through visible persons only), and the visible links with an end fewer than ``depth``
    hops from ``start`` (as (source, target, kind) with multiplicity); None when ``start`` is
    absent or hidden."""
    person = graph.persons.get(start)
    if person is None or not visible_person(v, person, graph, now):
        return None
    distance = {start: 0}
    queue = deque([start])
    edges: set[int] = set()
    while queue:
        here = queue.popleft()
        if distance[here] >= depth:
            continue
        for index in graph.adjacency.get(here, ()):
            link = graph.links[index]
            if not visible_link(v, link, graph, now):
                continue
            edges.add(index)
            there = link.target if link.source == here else link.source
            if there not in distance:
                distance[there] = distance[here] + 1
                queue.append(there)
    return set(distance), Counter(
        (graph.links[i].source, graph.links[i].target, graph.links[i].kind) for i in edges
    )
