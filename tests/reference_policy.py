"""domain.md (R1, R4-R8, R11-R13, R16-R18) and DECISIONS 1-7, restated in plain Python: the
proof's oracle. Given a graph (``tests.proof_world.Graph``), a caller and a query, it
predicts the whole response: the data, key by key, and the codes of the errors.

It shares no logic with ``gateway/``: it reads the plain records the proof generated, derives
a notice's or diffusion's source from the agency that requested or sent it, derives R8's
protection from the granted applications, and the caller's rights from its agency and its
authorisation. Wherever the rules say a caller sees a masked value (a status, a reason,
``subjectToReview``, a restriction list, who recorded a person), filters, sort orders and
nested orders use that shown value, never the stored one (DECISIONS 2 and 3).
"""

from __future__ import annotations

import base64
import json
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from tests import proof_world as w

NCB = "NCB"
NATIONAL_ENTITY = "NATIONAL_ENTITY"
INTERNATIONAL_ENTITY = "INTERNATIONAL_ENTITY"
GENERAL_SECRETARIAT = "GENERAL_SECRETARIAT"
CCF = "CCF"
CONTACT_NCB = "Possible match: contact your NCB, quoting the reference."
NESTED_LIMIT = 100
LINKS_LIMIT = 200
NAME_MAX_CHARS, NAME_MAX_WORDS, DOCUMENT_MAX_CHARS = 200, 8, 40

# --- The caller (R1) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """Who asks, as the rules see it; ``kind is None`` is the public."""

    agency: str | None
    kind: str | None
    country: str | None = None
    scopes: frozenset[str] = frozenset()


PUBLIC = Viewer(None, None)
OVERSIGHT_VIEWERS = {"gs": Viewer("gs", GENERAL_SECRETARIAT), "ccf": Viewer("ccf", CCF)}


def viewer(agency_id: str | None) -> Viewer | None:
    """The viewer behind a token naming ``agency_id`` (None: the public); None when R1 refuses
    it: an unknown or inactive agency, or a national entity without an authorisation from an
    active NCB of its own country."""
    if agency_id is None:
        return PUBLIC
    if agency_id in OVERSIGHT_VIEWERS:
        return OVERSIGHT_VIEWERS[agency_id]
    a = w.AGENCIES.get(agency_id)
    if a is None or not a.active:
        return None
    if a.kind == NATIONAL_ENTITY:
        ncb = w.AGENCIES.get(a.authorized_by or "")
        if ncb is None or ncb.kind != NCB or not ncb.active or ncb.country != a.country:
            return None
        return Viewer(a.id, a.kind, a.country, frozenset(a.grant or ()))
    return Viewer(a.id, a.kind, a.country)


def oversight(v: Viewer) -> bool:
    return v.kind in (GENERAL_SECRETARIAT, CCF)


def member(v: Viewer) -> bool:
    """An NCB, or a national entity granted `read`: reads as its country's NCB."""
    return v.kind == NCB or (v.kind == NATIONAL_ENTITY and "read" in v.scopes)


def asylum_reader(v: Viewer) -> bool:
    """R7: the receiving country's NCB and its asylum authority (scope `asylum`)."""
    return v.kind == NCB or (v.kind == NATIONAL_ENTITY and "asylum" in v.scopes)


def may_screen(v: Viewer) -> bool:
    return oversight(v) or v.kind == NCB or bool(v.scopes & {"screen", "read"})


def full_screening(v: Viewer) -> bool:
    """R11: the records behind a hit for NCBs and `read`; a reference for `screen` only."""
    return oversight(v) or member(v)


def biometrics(v: Viewer) -> bool:
    """R12: NCBs, the GS and the CCF."""
    return v.kind == NCB or oversight(v)


# --- Visibility ---------------------------------------------------------------------------


def protected(g: w.Graph, item: w.Notice | w.Diffusion) -> bool:
    """R8: the subject was granted protection against the item's source country."""
    source = w.source_country(item)
    return any(
        a.applicant == item.subject and a.status == "GRANTED" and a.feared == source
        for a in g.applications.values()
    )


def hidden_by_block(g: w.Graph, item: w.Notice | w.Diffusion) -> bool:
    return item.blocked or protected(g, item)


def admitted(country: str | None, allow: Sequence[str], deny: Sequence[str]) -> bool:
    """R4 for a member country that is not the source."""
    return (not allow or country in allow) and country not in deny


def expired(g: w.Graph, n: w.Notice) -> bool:
    return n.expires_at is not None and n.expires_at <= g.now


def live(g: w.Graph, n: w.Notice) -> bool:
    """R5/R8/R14: published, not blocked, not past its expiry."""
    return n.status == "PUBLISHED" and not hidden_by_block(g, n) and not expired(g, n)


def is_source(v: Viewer, item: w.Notice | w.Diffusion) -> bool:
    source = w.source_country(item)
    return source is not None and source == v.country


def visible_notice(v: Viewer, g: w.Graph, n: w.Notice) -> bool:
    if v.kind is None:  # R13; R4: a restricted notice is not for the world
        return live(g, n) and not n.allow and not n.deny and (n.public_extract or n.type == "UN_SPECIAL")
    if oversight(v):
        return True
    if v.kind == INTERNATIONAL_ENTITY:
        return live(g, n) and not n.allow and not n.deny
    if member(v):
        return is_source(v, n) or (live(g, n) and admitted(v.country, n.allow, n.deny))
    return False


def visible_diffusion(v: Viewer, g: w.Graph, d: w.Diffusion) -> bool:
    if oversight(v):
        return True
    if not member(v):  # R6: never public; international entities have no country to be sent to
        return False
    if is_source(v, d):
        return True
    if hidden_by_block(g, d) or (d.status or "ACTIVE") != "ACTIVE":
        return False
    return (d.to_all or v.country in d.recipients) and admitted(v.country, d.allow, d.deny)


def visible_application(v: Viewer, a: w.Application) -> bool:
    if oversight(v):
        return True
    return asylum_reader(v) and a.receiving == v.country


def visible_person(v: Viewer, g: w.Graph, p: w.Person) -> bool:
    """R18 (and R3: an agency sees the records it created)."""
    if oversight(v):
        return True
    recorder = w.AGENCIES.get(p.recorded_by)
    if member(v) and recorder is not None and recorder.country == v.country:
        return True
    if v.agency is not None and p.recorded_by == v.agency and v.kind == NATIONAL_ENTITY:
        return True
    return (
        any(visible_notice(v, g, n) for n in g.notices.values() if n.subject == p.id)
        or any(visible_diffusion(v, g, d) for d in g.diffusions.values() if d.subject == p.id)
        or any(visible_application(v, a) for a in g.applications.values() if a.applicant == p.id)
    )


def person_visible_by_id(v: Viewer, g: w.Graph, pid: str) -> bool:
    p = g.persons.get(pid)
    return p is not None and visible_person(v, g, p)


# --- The field view (DECISIONS 1) -----------------------------------------------------------


def shown_notice_status(v: Viewer, g: w.Graph, n: w.Notice) -> str:
    """R8: blocked reads CANCELLED except to the GS and CCF; R14: expiry applies on reading."""
    if hidden_by_block(g, n) and not oversight(v):
        return "CANCELLED"
    if n.status == "PUBLISHED" and expired(g, n):
        return "EXPIRED"
    return n.status


def shown_diffusion_status(v: Viewer, g: w.Graph, d: w.Diffusion) -> str:
    if hidden_by_block(g, d) and not oversight(v):
        return "CANCELLED"
    return d.status or "ACTIVE"


def shown_reason(v: Viewer, g: w.Graph, item: w.Notice | w.Diffusion) -> str | None:
    """R8: the source learns a generic reason only; the GS and the CCF the real one."""
    if hidden_by_block(g, item):
        return item.block_reason if oversight(v) else w.GENERIC_REASON
    return item.status_reason


def shown_subject_to_review(v: Viewer, g: w.Graph, d: w.Diffusion) -> bool:
    """R6 with R8: a blocked diffusion reads to its source like one the GS reviewed and
    cancelled, so it is no longer "subject to review"."""
    return not d.reviewed and not (hidden_by_block(g, d) and not oversight(v))


def reads_requested_at(v: Viewer) -> bool:
    return v.kind is not None


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- Predicting a response ----------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One field of a query: response key, field name, arguments and sub-selection."""

    name: str
    sub: tuple[Field, ...] = ()
    args: tuple[tuple[str, Any], ...] = ()
    alias: str | None = None

    @property
    def key(self) -> str:
        return self.alias or self.name

    def arg(self, name: str, default: Any = None) -> Any:
        return dict(self.args).get(name, default)


def merged(fields: Iterable[Field]) -> list[Field]:
    """GraphQL's field collection: one field per response key, sub-selections united."""
    out: dict[str, Field] = {}
    for f in fields:
        if f.key in out:
            out[f.key] = Field(f.name, out[f.key].sub + f.sub, f.args, f.alias)
        else:
            out[f.key] = f
    return list(out.values())


class AnyOf:
    """Several responses are right (e.g. which of two equally short paths)."""

    def __init__(self, options: Sequence[Any]) -> None:
        self.options = list(options)

    def __repr__(self) -> str:
        return "AnyOf(" + " | ".join(repr(o) for o in self.options) + ")"


class Refused(Exception):
    """The request fails with this code; the root field answers null."""

    def __init__(self, code: str, why: str) -> None:
        super().__init__(why)
        self.code = code


@dataclass
class Oracle:
    v: Viewer
    g: w.Graph
    notes: list[str] = field(default_factory=list)

    # -- objects ----------------------------------------------------------------------

    def project(self, type_name: str, obj: Any, sel: Sequence[Field]) -> dict[str, Any]:
        value: Callable[[Any, Field], Any] = getattr(self, f"_{type_name}")
        out: dict[str, Any] = {}
        for f in merged(sel):
            out[f.key] = value(obj, f)
        return out

    def _country(self, code: str, f: Field) -> Any:
        if f.name == "code":
            return code
        if f.name == "name":
            return w.COUNTRY_NAMES[code]
        if f.name == "region":
            return w.REGION
        if f.name == "ncb":
            ncb = w.AGENCIES[w.ncb_id(code)]
            return self.project("agency", ncb, f.sub)
        if f.name == "agencies":
            mine = sorted(a.id for a in w.AGENCIES.values() if a.country == code)
            return [self.project("agency", w.AGENCIES[a], f.sub) for a in mine[:NESTED_LIMIT]]
        raise AssertionError(f.name)

    def _agency(self, a: w.Agency, f: Field) -> Any:
        simple = {"id": a.id, "name": a.name, "kind": a.kind, "subtype": a.subtype, "active": a.active}
        if f.name in simple:
            return simple[f.name]
        if f.name == "scopes":
            return list(a.grant) if a.authorized_by else None
        if f.name == "country":
            return self.project("country", a.country, f.sub) if a.country else None
        if f.name == "authorizedBy":
            return self.project("agency", w.AGENCIES[a.authorized_by], f.sub) if a.authorized_by else None
        raise AssertionError(f.name)

    def _person(self, p: w.Person, f: Field) -> Any:
        v, g = self.v, self.g
        public = v.kind is None
        simple = {
            "id": p.id,
            "familyName": p.family,
            "givenNames": p.given,
            "dateOfBirth": _iso(p.dob),
            "sex": p.sex,
        }
        if f.name in simple:
            return simple[f.name]
        extended = {  # R13: not in the public extract
            "aliases": p.aliases,
            "nameOriginalScript": p.original,
            "script": p.script,
            "nameVariants": p.variants,
        }
        if f.name in extended:
            return None if public else extended[f.name]
        if f.name in ("fingerprintRef", "dnaRef"):  # R12
            return (p.fingerprint if f.name == "fingerprintRef" else p.dna) if biometrics(v) else None
        if f.name == "nationalities":
            return [self.project("country", c, f.sub) for c in sorted(p.nationalities)]
        if f.name == "recordedBy":  # DECISIONS 4
            recorder = w.AGENCIES[p.recorded_by]
            if oversight(v) or (v.country is not None and recorder.country == v.country):
                return self.project("agency", recorder, f.sub)
            return None
        if f.name == "travelDocuments":  # R18 with R13
            if public:
                return []
            docs = sorted((d for d in g.documents if d.holder == p.id), key=lambda d: d.number)
            return [self.project("document", d, f.sub) for d in docs]
        if f.name == "notices":  # DECISIONS 3
            seen = [n for n in g.notices.values() if n.subject == p.id and visible_notice(v, g, n)]
            return [self.project("notice", n, f.sub) for n in self.notice_order(seen, None)[:NESTED_LIMIT]]
        if f.name == "diffusions":
            seen_d = [d for d in g.diffusions.values() if d.subject == p.id and visible_diffusion(v, g, d)]
            ordered = order(seen_d, [(lambda d: d.sent_at, True)])
            return [self.project("diffusion", d, f.sub) for d in ordered[:NESTED_LIMIT]]
        if f.name == "asylumApplications":
            apps = sorted(
                (a for a in g.applications.values() if a.applicant == p.id and visible_application(v, a)),
                key=lambda a: a.id,
            )
            return [self.project("application", a, f.sub) for a in apps]
        raise AssertionError(f.name)

    def _person_ref(self, pid: str, sub: Sequence[Field]) -> Any:
        p = self.g.persons.get(pid)
        return self.project("person", p, sub) if p and visible_person(self.v, self.g, p) else None

    def _document(self, d: w.Document, f: Field) -> Any:
        simple = {"number": d.number, "type": d.type, "status": d.status, "issuingCountryCode": d.issuing}
        if f.name in simple:
            return simple[f.name]
        if f.name == "issuingCountry":
            return self.project("country", d.issuing, f.sub)
        if f.name == "holder":
            return self._person_ref(d.holder, f.sub)
        raise AssertionError(f.name)

    def _notice(self, n: w.Notice, f: Field) -> Any:
        v, g = self.v, self.g
        source = w.source_country(n)
        own_settings = oversight(v) or (source is not None and source == v.country)
        simple = {
            "id": n.id,
            "type": n.type,
            "offenceSummary": n.offence,
            "publishedAt": _iso(n.published_at),
            "expiresAt": _iso(n.expires_at),
            "publicExtract": n.public_extract,
            "sourceCountryCode": source,
            "status": shown_notice_status(v, g, n),
            "statusReason": shown_reason(v, g, n),
            "requestedAt": _iso(n.requested_at) if reads_requested_at(v) else None,
            "reviewDueAt": _iso(n.review_due_at) if v.kind is not None else None,
            "allowCountries": n.allow if own_settings else None,  # R4: the source's own settings
            "denyCountries": n.deny if own_settings else None,
            "blocked": n.blocked if oversight(v) else None,  # R8: GS and CCF only
            "blockReason": n.block_reason if oversight(v) else None,
            "reviewFlag": n.review_flag if oversight(v) else None,
        }
        if f.name in simple:
            return simple[f.name]
        if f.name == "sourceCountry":
            return self.project("country", source, f.sub) if source else None
        if f.name == "requestedBy":
            return self.project("agency", w.AGENCIES[n.requested_by], f.sub)
        if f.name == "subject":
            return self._person_ref(n.subject, f.sub)
        raise AssertionError(f.name)

    def _diffusion(self, d: w.Diffusion, f: Field) -> Any:
        v, g = self.v, self.g
        source = w.source_country(d)
        own_settings = oversight(v) or (source is not None and source == v.country)
        simple = {
            "id": d.id,
            "purpose": d.purpose,
            "sentAt": _iso(d.sent_at),
            "toAllMembers": d.to_all,
            "status": shown_diffusion_status(v, g, d),
            "statusReason": shown_reason(v, g, d),
            "subjectToReview": shown_subject_to_review(v, g, d),
            "sourceCountryCode": source,
            "allowCountries": d.allow if own_settings else None,
            "denyCountries": d.deny if own_settings else None,
            "blocked": d.blocked if oversight(v) else None,
            "blockReason": d.block_reason if oversight(v) else None,
            "reviewFlag": d.review_flag if oversight(v) else None,
        }
        if f.name in simple:
            return simple[f.name]
        if f.name == "sentBy":
            return self.project("agency", w.AGENCIES[d.sent_by], f.sub)
        if f.name == "recipients":
            return [self.project("country", c, f.sub) for c in sorted(d.recipients)]
        if f.name == "subject":
            return self._person_ref(d.subject, f.sub)
        raise AssertionError(f.name)

    def _application(self, a: w.Application, f: Field) -> Any:
        simple = {
            "id": a.id,
            "lodgedAt": _iso(a.lodged_at),
            "status": a.status,
            "decidedAt": _iso(a.decided_at),
            "legalBasis": a.legal_basis,
            "deniedOnCriminalGrounds": a.criminal,
            "screeningResult": a.screening_result,
            "screeningRefs": a.screening_refs,
            "receivingCountryCode": a.receiving,
            "fearedPersecutionCountryCode": a.feared,
        }
        if f.name in simple:
            return simple[f.name]
        if f.name == "applicant":
            return self._person_ref(a.applicant, f.sub)
        if f.name == "receivingCountry":
            return self.project("country", a.receiving, f.sub)
        if f.name == "fearedPersecutionCountry":
            return self.project("country", a.feared, f.sub)
        if f.name == "notifications":  # R9: GS and CCF only
            if not oversight(self.v):
                return []
            mine = sorted(
                (s for s in self.g.notifications.values() if s.application == a.id), key=lambda s: s.id
            )
            return [self.project("notification", s, f.sub) for s in mine]
        raise AssertionError(f.name)

    def _notification(self, s: w.Notification, f: Field) -> Any:
        simple = {
            "id": s.id,
            "createdAt": _iso(s.created_at),
            "outcome": s.outcome,
            "decidedAt": _iso(s.decided_at),
            "legalBasis": s.legal_basis,
            "receivingCountryCode": s.receiving,
            "fearedPersecutionCountryCode": s.feared,
            "deniedOnCriminalGrounds": s.criminal,
        }
        if f.name in simple:
            return simple[f.name]
        if f.name == "application":
            a = self.g.applications[s.application]
            return self.project("application", a, f.sub) if visible_application(self.v, a) else None
        raise AssertionError(f.name)

    # -- orders -----------------------------------------------------------------------

    def notice_order(self, notices: list[w.Notice], sort: str | None) -> list[w.Notice]:
        return order(notices, self.notice_sort(sort).keyed)

    def notice_sort(self, sort: str | None) -> Order:
        """DECISIONS 2/3: an explicit sort on a readable field, else requestedAt DESC when the
        caller reads it, else publishedAt DESC; ties by id."""
        return list_order("notices", sort, reads_requested_at(self.v))

    # -- root fields ------------------------------------------------------------------

    def root(self, f: Field) -> Any:
        return getattr(self, f"root_{f.name}")(f)

    def root_person(self, f: Field) -> Any:
        return self._person_ref(f.arg("id"), f.sub)

    def root_notice(self, f: Field) -> Any:
        n = self.g.notices.get(f.arg("id"))
        return self.project("notice", n, f.sub) if n and visible_notice(self.v, self.g, n) else None

    def root_diffusion(self, f: Field) -> Any:
        d = self.g.diffusions.get(f.arg("id"))
        return self.project("diffusion", d, f.sub) if d and visible_diffusion(self.v, self.g, d) else None

    def root_asylumApplication(self, f: Field) -> Any:
        a = self.g.applications.get(f.arg("id"))
        return self.project("application", a, f.sub) if a and visible_application(self.v, a) else None

    def root_country(self, f: Field) -> Any:
        code = f.arg("code")
        return self.project("country", code, f.sub) if code in w.COUNTRY_NAMES else None

    def root_agency(self, f: Field) -> Any:
        a = w.AGENCIES.get(f.arg("id"))
        return self.project("agency", a, f.sub) if a else None

    def root_persons(self, f: Field) -> Any:
        v, g = self.v, self.g
        flt = f.arg("filter") or {}
        if "name" in flt:
            check_name(flt["name"], "filter.name")
        people = [p for p in g.persons.values() if visible_person(v, g, p)]
        if "name" in flt:
            # R13/R17: the public's name search reads only the name fields it is shown.
            people = [p for p in people if name_matches(flt["name"], p, public=v.kind is None)]
        if "nationality" in flt:
            people = [p for p in people if flt["nationality"] in p.nationalities]
        if "bornAfter" in flt:
            people = [p for p in people if p.dob is not None and p.dob.isoformat() >= flt["bornAfter"]]
        if "bornBefore" in flt:
            people = [p for p in people if p.dob is not None and p.dob.isoformat() <= flt["bornBefore"]]
        if "hasNoticeType" in flt:
            people = [
                p
                for p in people
                if any(
                    n.subject == p.id and n.type == flt["hasNoticeType"] and visible_notice(v, g, n)
                    for n in g.notices.values()
                )
            ]
        return self.connection(f, "person", people, list_order("persons", f.arg("sort")))

    def root_notices(self, f: Field) -> Any:
        v, g = self.v, self.g
        flt = f.arg("filter") or {}
        sort = f.arg("sort")
        if sort and sort.startswith("REQUESTED_AT") and not reads_requested_at(v):  # DECISIONS 2
            raise Refused("BAD_USER_INPUT", "you may not sort by requestedAt")
        found = [n for n in g.notices.values() if visible_notice(v, g, n)]
        if "type" in flt:
            found = [n for n in found if n.type == flt["type"]]
        if "status" in flt:  # the status the caller is shown (R8, R14)
            found = [n for n in found if shown_notice_status(v, g, n) == flt["status"]]
        if "sourceCountry" in flt:
            found = [n for n in found if w.source_country(n) == flt["sourceCountry"]]
        if "subjectId" in flt:
            found = [n for n in found if n.subject == flt["subjectId"]]
        return self.connection(f, "notice", found, self.notice_sort(sort))

    def root_diffusions(self, f: Field) -> Any:
        v, g = self.v, self.g
        flt = f.arg("filter") or {}
        found = [d for d in g.diffusions.values() if visible_diffusion(v, g, d)]
        if "senderCountry" in flt:
            found = [d for d in found if w.source_country(d) == flt["senderCountry"]]
        if "recipientCountry" in flt:
            found = [d for d in found if d.to_all or flt["recipientCountry"] in d.recipients]
        if "subjectToReview" in flt:  # DECISIONS 2: the shown value
            found = [d for d in found if shown_subject_to_review(v, g, d) == flt["subjectToReview"]]
        return self.connection(f, "diffusion", found, list_order("diffusions", f.arg("sort")))

    def root_asylumApplications(self, f: Field) -> Any:
        flt = f.arg("filter") or {}
        found = [a for a in self.g.applications.values() if visible_application(self.v, a)]
        if "status" in flt:
            found = [a for a in found if a.status == flt["status"]]
        if "receivingCountry" in flt:
            found = [a for a in found if a.receiving == flt["receivingCountry"]]
        return self.connection(f, "application", found, list_order("asylumApplications", f.arg("sort")))

    def connection(self, f: Field, type_name: str, found: list[Any], by: Order) -> dict[str, Any]:
        """A page of ``found`` in the order ``by``: the rows after the ``after`` cursor's
        position (keyset), each with its own cursor."""
        first = f.arg("first", 20)
        after = f.arg("after")
        records = order(found, by.keyed)
        offset = 0
        if after is not None:
            position = decode_cursor(after)
            # A caller that reads nothing of the type has no row to place a cursor among.
            if reads_type(self.v, type_name):
                if position[0] != by.tag or len(position[1]) != len(by.keys) + 1:
                    raise Refused("BAD_USER_INPUT", "after was issued for another sort order")
                offset = next((i for i, r in enumerate(records) if by.beyond(r, position[1])), len(records))
        page = records[offset : offset + first]
        cursors = [by.cursor(r) for r in page]
        info = {
            "hasNextPage": len(records) > offset + first,
            "hasPreviousPage": after is not None,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        }
        out: dict[str, Any] = {}
        for s in merged(f.sub):
            if s.name == "totalCount":
                out[s.key] = len(records)
            elif s.name == "pageInfo":
                out[s.key] = {x.key: info[x.name] for x in merged(s.sub)}
            elif s.name == "edges":
                edges = []
                for c, record in zip(cursors, page, strict=True):
                    edge: dict[str, Any] = {}
                    for x in merged(s.sub):
                        edge[x.key] = c if x.name == "cursor" else self.project(type_name, record, x.sub)
                    edges.append(edge)
                out[s.key] = edges
        return out

    def root_screen(self, f: Field) -> Any:
        """R10/R11 with DECISIONS 7: every visible live item about every person the identity
        designates; the answer never depends on what the caller cannot see."""
        v, g = self.v, self.g
        if not may_screen(v):
            raise Refused("FORBIDDEN", "this agency may not run screenings")
        given: dict[str, Any] = f.arg("input")
        check_name(given["familyName"], "input.familyName")
        if given.get("givenNames"):
            check_name(given["givenNames"], "input.givenNames")
        number = (given.get("documentNumber") or "").strip()
        if len(number) > DOCUMENT_MAX_CHARS:
            raise Refused("BAD_USER_INPUT", "input.documentNumber is too long")
        holders = {d.holder for d in g.documents if number and d.number == number}
        candidates = [
            p
            for p in g.persons.values()
            if (name_matches(given["familyName"], p, public=False) or p.id in holders)
            and (
                given.get("dateOfBirth") is None or p.dob is None or p.dob.isoformat() == given["dateOfBirth"]
            )
            and (given.get("nationality") is None or given["nationality"] in p.nationalities)
        ]
        full = full_screening(v)
        matches: list[dict[str, Any]] = []
        match_sel = [s for s in merged(f.sub) if s.name == "matches"]
        sub = match_sel[0].sub if match_sel else ()
        for p in candidates:
            for n in g.notices.values():
                if n.subject == p.id and self.screening_sees_notice(n):
                    matches.append(self.match(sub, p, n, None, full))
            for d in g.diffusions.values():
                if d.subject == p.id and self.screening_sees_diffusion(d):
                    matches.append(self.match(sub, p, None, d, full))
        hit = bool(matches)
        out: dict[str, Any] = {}
        for s in merged(f.sub):
            if s.name == "outcome":
                out[s.key] = "HIT" if hit else "NO_HIT"
            elif s.name == "hit":
                out[s.key] = hit
            elif s.name == "matches":
                out[s.key] = Unordered(matches)
        return out

    def screening_sees_notice(self, n: w.Notice) -> bool:
        """R10/R11: live notices the caller's country may see (the GS and CCF: all live)."""
        if not live(self.g, n):
            return False
        return oversight(self.v) or is_source(self.v, n) or admitted(self.v.country, n.allow, n.deny)

    def screening_sees_diffusion(self, d: w.Diffusion) -> bool:
        """R10/R11: active, unblocked diffusions the caller's country sent or receives."""
        if hidden_by_block(self.g, d) or (d.status or "ACTIVE") != "ACTIVE":
            return False
        if oversight(self.v) or is_source(self.v, d):
            return True
        return (d.to_all or self.v.country in d.recipients) and admitted(self.v.country, d.allow, d.deny)

    def match(
        self, sel: Sequence[Field], p: w.Person, n: w.Notice | None, d: w.Diffusion | None, full: bool
    ) -> dict[str, Any]:
        item: w.Notice | w.Diffusion = n or d  # type: ignore[assignment]
        values = {
            "reference": item.id,
            "kind": "NOTICE" if n else "DIFFUSION",
            "noticeType": n.type if n else None,
            "sourceCountryCode": w.source_country(item),
            "instruction": None if full else CONTACT_NCB,
        }
        out: dict[str, Any] = {}
        for s in merged(sel):
            if s.name in values:
                out[s.key] = values[s.name]
            elif s.name == "person":
                out[s.key] = self.project("person", p, s.sub) if full else None
            elif s.name == "notice":
                out[s.key] = self.project("notice", n, s.sub) if full and n else None
            elif s.name == "diffusion":
                out[s.key] = self.project("diffusion", d, s.sub) if full and d else None
        return out

    # -- links and paths (R16) ----------------------------------------------------------

    def visible_link(self, link: w.Link) -> bool:
        if self.v.kind is None:  # R13: the public sees no links
            return False
        return person_visible_by_id(self.v, self.g, link.source) and person_visible_by_id(
            self.v, self.g, link.target
        )

    def distances(self, start: str, depth: int) -> tuple[dict[str, int], list[w.Link]]:
        distance = {start: 0}
        queue = deque([start])
        edges: list[w.Link] = []
        while queue:
            here = queue.popleft()
            if distance[here] >= depth:
                continue
            for link in self.g.links:
                if here not in (link.source, link.target) or not self.visible_link(link):
                    continue
                if link not in edges:
                    edges.append(link)
                there = link.target if link.source == here else link.source
                if there not in distance:
                    distance[there] = distance[here] + 1
                    queue.append(there)
        return distance, edges

    def root_links(self, f: Field) -> Any:
        start = f.arg("personId")
        depth = f.arg("depth", 1)
        if not person_visible_by_id(self.v, self.g, start):
            return None
        distance, edges = self.distances(start, depth)
        nodes = sorted(distance, key=lambda p: (distance[p], p))  # DECISIONS 6
        out: dict[str, Any] = {}
        for s in merged(f.sub):
            if s.name == "nodes":
                out[s.key] = [self.project("person", self.g.persons[p], s.sub) for p in nodes[:LINKS_LIMIT]]
            elif s.name == "edges":
                out[s.key] = Unordered([edge(k, s.sub) for k in edges])
            elif s.name == "truncated":
                out[s.key] = len(nodes) > LINKS_LIMIT
        return out

    def root_path(self, f: Field) -> Any:
        a, b, most = f.arg("fromPersonId"), f.arg("toPersonId"), f.arg("maxDepth", 6)
        if not (person_visible_by_id(self.v, self.g, a) and person_visible_by_id(self.v, self.g, b)):
            return None
        paths = self.shortest_paths(a, b, most)
        if not paths:
            return None
        options = []
        for nodes, links in paths:
            out: dict[str, Any] = {}
            for s in merged(f.sub):
                if s.name == "length":
                    out[s.key] = len(links)
                elif s.name == "nodes":
                    out[s.key] = [self.project("person", self.g.persons[p], s.sub) for p in nodes]
                elif s.name == "edges":
                    out[s.key] = [edge(k, s.sub) for k in links]
            options.append(out)
        return options[0] if len(options) == 1 else AnyOf(options)

    def shortest_paths(self, a: str, b: str, most: int) -> list[tuple[list[str], list[w.Link]]]:
        """Every shortest trail a→b of 1..most visible links through visible persons."""
        frontier: list[tuple[list[str], list[w.Link]]] = [([a], [])]
        for _ in range(most):
            grown = []
            for nodes, links in frontier:
                here = nodes[-1]
                for link in self.g.links:
                    if here not in (link.source, link.target) or link in links or not self.visible_link(link):
                        continue
                    there = link.target if link.source == here else link.source
                    grown.append(([*nodes, there], [*links, link]))
            done = [t for t in grown if t[0][-1] == b]
            if done:
                return done
            frontier = grown
        return []


def edge(link: w.Link, sel: Sequence[Field]) -> dict[str, Any]:
    values = {"source": link.source, "target": link.target, "kind": link.kind}
    return {s.key: values[s.name] for s in merged(sel)}


class Unordered:
    """A list whose order the API does not promise (screening matches, link edges)."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def __repr__(self) -> str:
        return f"Unordered({self.items!r})"


def order(records: list[Any], keys: list[tuple[Callable[[Any], Any], bool]]) -> list[Any]:
    """Neo4j's ORDER BY: nulls last ascending and first descending; ties by id ascending."""
    out = sorted(records, key=lambda r: r.id)
    for key, desc in reversed(keys):
        # Python's sort is stable, also in reverse, so ties keep the id order.
        present = sorted((r for r in out if key(r) is not None), key=key, reverse=desc)
        absent = [r for r in out if key(r) is None]
        out = absent + present if desc else present + absent
    return out


@dataclass(frozen=True)
class Order:
    """A list's order: (GraphQL field, the record's value, descending) keys, then the id
    ascending. Its tag and its rows' cursors are what the API's keyset cursors hold."""

    type_name: str
    keys: tuple[tuple[str, Callable[[Any], Any], bool], ...]

    @property
    def keyed(self) -> list[tuple[Callable[[Any], Any], bool]]:
        return [(value, desc) for _, value, desc in self.keys]

    @property
    def tag(self) -> str:
        return (
            self.type_name + ":" + "".join(("-" if d else "") + name + "," for name, _, d in self.keys) + "id"
        )

    def values(self, record: Any) -> list[Any]:
        return [wire(value(record)) for _, value, _ in self.keys] + [record.id]

    def cursor(self, record: Any) -> str:
        return encode_cursor(self.tag, self.values(record))

    def beyond(self, record: Any, position: list[Any]) -> bool:
        """Whether ``record`` comes after the cursor's ``position`` in this order: a null
        after every value (Neo4j: last ascending, first descending), then the id."""
        for (_, _, desc), mine, theirs in zip(self.keys, self.values(record), position, strict=False):
            if mine == theirs:
                continue
            if mine is None or theirs is None:
                return (mine is None) != desc
            return (mine < theirs) if desc else (mine > theirs)
        return bool(record.id > position[-1])


LIST_KEYS: dict[str, tuple[str, str, dict[str, tuple[str, Callable[[Any], Any]]]]] = {
    # root field: (type, default sort, sort prefix -> (GraphQL field, the record's value))
    "persons": (
        "Person",
        "FAMILY_NAME_ASC",
        {
            "FAMILY_NAME": ("familyName", lambda p: p.family),
            "DATE_OF_BIRTH": ("dateOfBirth", lambda p: p.dob),
        },
    ),
    "notices": (
        "Notice",
        "REQUESTED_AT_DESC",
        {
            "REQUESTED_AT": ("requestedAt", lambda n: n.requested_at),
            "PUBLISHED_AT": ("publishedAt", lambda n: n.published_at),
        },
    ),
    "diffusions": ("Diffusion", "SENT_AT_DESC", {"SENT_AT": ("sentAt", lambda d: d.sent_at)}),
    "asylumApplications": (
        "AsylumApplication",
        "LODGED_AT_DESC",
        {"LODGED_AT": ("lodgedAt", lambda a: a.lodged_at)},
    ),
}


def list_order(root: str, sort: str | None, reads_requested: bool = True) -> Order:
    """The order of a root list for a sort argument (None: the default, DECISIONS 3)."""
    type_name, default, keys = LIST_KEYS[root]
    if sort is None:
        sort = default if reads_requested else "PUBLISHED_AT_DESC"
    field_name, value = keys[sort.rsplit("_", 1)[0]]
    return Order(type_name, ((field_name, value, sort.endswith("DESC")),))


def wire(value: Any) -> Any:
    """A key value as a cursor holds it: dates ISO; instants in UTC, to the nanosecond, in
    one fixed width (so that their text orders as they do)."""
    if isinstance(value, datetime):
        u = value.astimezone(UTC)
        return f"{u:%Y-%m-%dT%H:%M:%S}.{u.microsecond:06d}000+00:00"
    if isinstance(value, date):
        return value.isoformat()
    return value


def encode_cursor(tag: str, values: Sequence[Any]) -> str:
    text = json.dumps([1, tag, *values], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[str, list[Any]]:
    """(tag, values) of a cursor; Refused for anything that is not one (the API's wording)."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
    except ValueError:
        raise Refused("BAD_USER_INPUT", "after is not a cursor this API issued") from None
    if not (
        isinstance(payload, list) and len(payload) >= 3 and payload[0] == 1 and isinstance(payload[1], str)
    ):
        raise Refused("BAD_USER_INPUT", "after is not a cursor this API issued")
    return payload[1], payload[2:]


def check_name(text: str, name: str) -> None:
    """DECISIONS 7: a name of at most 200 characters and 8 words."""
    if len(text) > NAME_MAX_CHARS or len(text.split()) > NAME_MAX_WORDS:
        raise Refused("BAD_USER_INPUT", f"{name} is too long")


def _edits(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def name_matches(query: str, p: w.Person, public: bool) -> bool:
    """A tolerant match: some word of the query is within two edits of a word of one of the
    person's name fields (for the public only the fields it is shown, R13)."""
    fields = [p.family, p.given or ""]
    if not public:
        fields += [*p.aliases, *p.variants, p.original or ""]
    words = {x.lower() for text in fields for x in text.split()}
    return any(_edits(q.lower(), x) <= 2 for q in query.split()[:NAME_MAX_WORDS] for x in words)


def reads_type(v: Viewer, type_name: str) -> bool:
    """Whether the caller's view lists any field of a type (DECISIONS 1)."""
    if oversight(v):
        return True
    if type_name == "notice":
        return v.kind in (None, INTERNATIONAL_ENTITY) or member(v)
    if type_name == "diffusion":
        return member(v)
    if type_name == "application":
        return asylum_reader(v)
    return True


def may_refuse_filter(v: Viewer, f: Field) -> bool:
    """A filter or sort over a type the caller reads nothing of: refusing it (DECISIONS 2)
    and answering an empty page are both right, since neither reveals anything."""
    of = {"notices": "notice", "diffusions": "diffusion", "asylumApplications": "application"}.get(f.name)
    if of and not reads_type(v, of) and (f.arg("filter") or f.arg("sort")):
        return True
    return f.name == "persons" and "hasNoticeType" in (f.arg("filter") or {}) and not reads_type(v, "notice")


Response = tuple[Any, list[str]]


def respond(agency: str | None, g: w.Graph, roots: Sequence[Field]) -> Response | AnyOf:
    """The whole response: (data, sorted error codes), or the responses that are all right."""
    v = viewer(agency)
    if v is None:  # R1
        return None, ["UNAUTHENTICATED"]
    oracle = Oracle(v, g)
    data: dict[str, Any] = {}
    codes: list[str] = []
    nullable = {"person", "notice", "diffusion", "asylumApplication", "country", "agency", "links", "path"}
    fields = merged(roots)
    for f in fields:
        try:
            data[f.key] = oracle.root(f)
        except Refused as refused:
            codes.append(refused.code)
            if f.name not in nullable:  # a non-null root field: the whole data is null
                return None, sorted(codes)
            data[f.key] = None
    if len(fields) == 1 and may_refuse_filter(v, fields[0]) and not codes:
        return AnyOf([(data, []), (None, ["BAD_USER_INPUT"])])
    return data, sorted(codes)
