"""Random callers and random queries for the proof: every root field the proof covers, nested
selections up to three levels, every field, filter and sort, screening, links and paths.
Every query is scoped to the proof's own records (see ``tests.proof_world``)."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import strategies as st

from tests import proof_world as w
from tests.reference_policy import Field, list_order

# --- Callers ------------------------------------------------------------------------------

CALLER_KINDS = ("public", "gs", "ccf", w.INTL_ID, w.UNSC_ID, "ncb", *(e[0] for e in w.ENTITIES))


@st.composite
def callers(draw: st.DrawFn) -> str | None:
    """An agency id for the token, or None for the public: every kind of caller, of every
    private country (one of whose NCBs is inactive)."""
    kind = draw(st.sampled_from(CALLER_KINDS))
    if kind == "public":
        return None
    if kind in ("gs", "ccf", w.INTL_ID, w.UNSC_ID):
        return kind
    return f"px-{kind}-{draw(st.sampled_from(w.COUNTRIES)).lower()}"


# --- Selections -----------------------------------------------------------------------------

SCALARS: dict[str, tuple[str, ...]] = {
    "person": (
        "id",
        "familyName",
        "givenNames",
        "aliases",
        "nameOriginalScript",
        "script",
        "nameVariants",
        "dateOfBirth",
        "sex",
        "fingerprintRef",
        "dnaRef",
    ),
    "notice": (
        "id",
        "type",
        "status",
        "statusReason",
        "offenceSummary",
        "requestedAt",
        "publishedAt",
        "expiresAt",
        "reviewDueAt",
        "publicExtract",
        "allowCountries",
        "denyCountries",
        "blocked",
        "blockReason",
        "reviewFlag",
        "sourceCountryCode",
    ),
    "diffusion": (
        "id",
        "purpose",
        "status",
        "statusReason",
        "sentAt",
        "toAllMembers",
        "subjectToReview",
        "allowCountries",
        "denyCountries",
        "blocked",
        "blockReason",
        "reviewFlag",
        "sourceCountryCode",
    ),
    "application": (
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
    ),
    "notification": (
        "id",
        "createdAt",
        "outcome",
        "decidedAt",
        "legalBasis",
        "receivingCountryCode",
        "fearedPersecutionCountryCode",
        "deniedOnCriminalGrounds",
    ),
    "document": ("number", "type", "status", "issuingCountryCode"),
    "country": ("code", "name", "region"),
    "agency": ("id", "name", "kind", "subtype", "active", "scopes"),
}
RELATIONS: dict[str, dict[str, str]] = {
    "person": {
        "nationalities": "country",
        "recordedBy": "agency",
        "travelDocuments": "document",
        "notices": "notice",
        "diffusions": "diffusion",
        "asylumApplications": "application",
    },
    "notice": {"sourceCountry": "country", "requestedBy": "agency", "subject": "person"},
    "diffusion": {"sentBy": "agency", "recipients": "country", "subject": "person"},
    "application": {
        "applicant": "person",
        "receivingCountry": "country",
        "fearedPersecutionCountry": "country",
        "notifications": "notification",
    },
    "notification": {"application": "application"},
    "document": {"issuingCountry": "country", "holder": "person"},
    "country": {"ncb": "agency", "agencies": "agency"},
    "agency": {"country": "country", "authorizedBy": "agency"},
}
LISTS = {
    "nationalities",
    "travelDocuments",
    "notices",
    "diffusions",
    "asylumApplications",
    "recipients",
    "notifications",
    "agencies",
}
MAX_COST = 4000  # the gateway refuses above 5000 (QUERY_TOO_COMPLEX); the proof stays below
LIST_WEIGHT = 10  # the gateway's cost estimate of a nested list


def selections(type_name: str, levels: int, weight: int = 1) -> st.SearchStrategy[tuple[Field, ...]]:
    """Some scalar fields of a type and, ``levels`` deep, some of its relations."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[Field, ...]:
        scalars = draw(st.lists(st.sampled_from(SCALARS[type_name]), min_size=1, max_size=5, unique=True))
        out = [Field(s) for s in scalars]
        if levels > 0:
            # A list under a list multiplies the cost: go deeper only while it stays small.
            options = sorted(r for r in RELATIONS[type_name] if r not in LISTS or weight * LIST_WEIGHT <= 100)
            for rel in draw(st.lists(st.sampled_from(options), max_size=2, unique=True)) if options else []:
                rows = LIST_WEIGHT if rel in LISTS else 1
                sub = draw(selections(RELATIONS[type_name][rel], levels - 1, weight * rows))
                out.append(Field(rel, sub))
        return tuple(out)

    return build()


def cost(fields: tuple[Field, ...]) -> int:
    """The gateway's cost estimate (graphql/limits.py), to keep random queries within it."""
    total = 0
    for f in fields:
        rows = f.arg("first") or (LIST_WEIGHT if f.name in LISTS | {"edges", "matches", "nodes"} else 1)
        total += 1 + rows * cost(f.sub)
    return total


# --- Root fields ----------------------------------------------------------------------------


def _ids(g: w.Graph, kind: str) -> list[str]:
    pool = {
        "person": g.persons,
        "notice": g.notices,
        "diffusion": g.diffusions,
        "asylumApplication": g.applications,
    }[kind]
    return [*sorted(pool)[:12], f"PX-absent-{kind}"]


TYPE_OF = {
    "person": "person",
    "notice": "notice",
    "diffusion": "diffusion",
    "asylumApplication": "application",
}


@st.composite
def lookups(draw: st.DrawFn, g: w.Graph) -> tuple[Field, ...]:
    kind = draw(st.sampled_from(sorted(TYPE_OF)))
    ident = draw(st.sampled_from(_ids(g, kind)))
    return (Field(kind, draw(selections(TYPE_OF[kind], 3)), (("id", ident),)),)


@st.composite
def merged_lookups(draw: st.DrawFn, g: w.Graph) -> tuple[Field, ...]:
    """DECISIONS 5: one response key selected twice, with different sub-selections."""
    kind = draw(st.sampled_from(sorted(TYPE_OF)))
    ident = draw(st.sampled_from(_ids(g, kind)))
    return tuple(
        Field(kind, draw(selections(TYPE_OF[kind], 1)), (("id", ident),), alias="a") for _ in range(2)
    )


@st.composite
def plain_roots(draw: st.DrawFn) -> tuple[Field, ...]:
    """Countries and agencies: not personal, the same for everyone."""
    if draw(st.booleans()):
        code = draw(st.sampled_from((*w.COUNTRIES, "QZ")))
        return (Field("country", draw(selections("country", 2)), (("code", code),)),)
    ident = draw(st.sampled_from(sorted(a for a in w.AGENCIES)))
    return (Field("agency", draw(selections("agency", 2)), (("id", ident),)),)


class Enum(str):
    """An enum value: rendered bare in GraphQL, compared as its name."""


def _connection_fields(draw: st.DrawFn, type_name: str, first: int) -> tuple[Field, ...]:
    node = draw(selections(type_name, 2, weight=first * LIST_WEIGHT))
    parts = draw(st.sets(st.sampled_from(("totalCount", "pageInfo", "edges")), min_size=1))
    out = []
    if "totalCount" in parts:
        out.append(Field("totalCount"))
    if "pageInfo" in parts:
        info = draw(
            st.lists(
                st.sampled_from(("hasNextPage", "hasPreviousPage", "startCursor", "endCursor")),
                min_size=1,
                unique=True,
            )
        )
        out.append(Field("pageInfo", tuple(Field(i) for i in info)))
    if "edges" in parts:
        inner = [Field("node", node)] + ([Field("cursor")] if draw(st.booleans()) else [])
        out.append(Field("edges", tuple(inner)))
    return tuple(out)


def _after(draw: st.DrawFn, g: w.Graph, root: str, sort: str | None, flt: dict[str, Any]) -> str | None:
    """No cursor; a keyset cursor at any record of the root's type (visible or not: a cursor
    is a position in the order, and one made by hand may name any); one issued for another
    order; or text that is no cursor (an offset cursor of the old API among them)."""
    kind = draw(st.sampled_from(("none", "none", "row", "row", "row", "other", "garbage")))
    records = {"persons": g.persons, "notices": g.notices, "diffusions": g.diffusions,
               "asylumApplications": g.applications}[root]  # fmt: skip
    if kind == "garbage":
        old = base64.urlsafe_b64encode(b"o:3").decode()
        return draw(st.sampled_from(("garbage", "bzo5", old, "W10", "WzEsIngiXQ")))
    if kind == "none" or not records:
        return None
    # Mostly a record in the list's scope, so that the page after it is often not empty.
    scoped = [k for k, r in records.items() if _in_scope(r, flt)]
    record = draw(st.sampled_from(sorted(scoped if scoped and draw(st.booleans()) else records, key=str)))
    if kind == "row":
        return list_order(root, sort).cursor(records[record])
    sorts = {"persons": "DATE_OF_BIRTH_ASC", "notices": "PUBLISHED_AT_DESC", "diffusions": "SENT_AT_ASC",
             "asylumApplications": "LODGED_AT_ASC"}  # fmt: skip
    other = sorts[root] if sort != sorts[root] else None  # "other": a cursor of another order
    return list_order(root, other).cursor(records[record])


def _in_scope(record: Any, flt: dict[str, Any]) -> bool:
    if "nationality" in flt:
        return flt["nationality"] in record.nationalities
    if "subjectId" in flt:
        return bool(record.subject == flt["subjectId"])
    country = flt.get("sourceCountry") or flt.get("senderCountry")
    if country:
        return w.source_country(record) == country
    if "receivingCountry" in flt:
        return bool(record.receiving == flt["receivingCountry"])
    return True


def _maybe(draw: st.DrawFn, options: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    keys = draw(st.sets(st.sampled_from(sorted(options))))
    return {k: draw(options[k]) for k in sorted(keys)}


COUNTRY = st.sampled_from(w.COUNTRIES)
NAMES = st.sampled_from(w.FAMILY_NAMES + w.GIVEN_NAMES) | st.sampled_from(w.FAMILY_NAMES).map(w.typo)
LONG_NAME = st.just("Qazwirtel " + " ".join(["van"] * 8))  # nine words: over DECISIONS 7's cap


@st.composite
def lists(draw: st.DrawFn, g: w.Graph) -> tuple[Field, ...]:
    """A filtered, sorted, paged list, scoped to the proof's records by a private country, a
    proof person or a proof name."""
    root = draw(st.sampled_from(("persons", "notices", "diffusions", "asylumApplications")))
    args: list[tuple[str, Any]] = [("first", draw(st.integers(1, 6)))]
    people = sorted(g.persons)[:10]
    flt: dict[str, Any]
    if root == "persons":
        scope = draw(st.sampled_from(("name", "nationality")))
        flt = {scope: draw(NAMES | LONG_NAME if scope == "name" else COUNTRY)}
        flt |= _maybe(
            draw,
            {
                "bornAfter": st.sampled_from(w.BIRTH_DATES).map(lambda d: d.isoformat()),
                "bornBefore": st.sampled_from(w.BIRTH_DATES).map(lambda d: d.isoformat()),
                "hasNoticeType": st.sampled_from(w.NOTICE_TYPES).map(Enum),
            },
        )
        sorts = ("FAMILY_NAME_ASC", "FAMILY_NAME_DESC", "DATE_OF_BIRTH_ASC", "DATE_OF_BIRTH_DESC")
        node = "person"
    elif root == "notices":
        scope = draw(st.sampled_from(("subjectId", "sourceCountry")))
        flt = {scope: draw(st.sampled_from(people) if scope == "subjectId" else COUNTRY)}
        flt |= _maybe(
            draw,
            {
                "type": st.sampled_from(w.NOTICE_TYPES).map(Enum),
                "status": st.sampled_from(("REQUESTED", "PUBLISHED", "REFUSED", "CANCELLED", "EXPIRED")).map(
                    Enum
                ),
            },
        )
        sorts = ("REQUESTED_AT_DESC", "REQUESTED_AT_ASC", "PUBLISHED_AT_DESC")
        node = "notice"
    elif root == "diffusions":
        flt = {"senderCountry": draw(COUNTRY)}
        flt |= _maybe(draw, {"recipientCountry": COUNTRY, "subjectToReview": st.booleans()})
        sorts = ("SENT_AT_DESC", "SENT_AT_ASC")
        node = "diffusion"
    else:
        flt = {"receivingCountry": draw(COUNTRY)}
        flt |= _maybe(
            draw,
            {
                "status": st.sampled_from(("PENDING", "GRANTED", "DENIED", "REVOKED")).map(Enum),
            },
        )
        sorts = ("LODGED_AT_DESC", "LODGED_AT_ASC")
        node = "application"
    args.append(("filter", flt))
    sort = draw(st.none() | st.sampled_from(sorts))
    if sort:
        args.append(("sort", Enum(sort)))
    after = _after(draw, g, root, sort, flt)
    if after is not None:
        args.append(("after", after))
    fields = _connection_fields(draw, node, args[0][1])
    return (Field(root, fields, tuple(args)),)


@st.composite
def screenings(draw: st.DrawFn, g: w.Graph) -> tuple[Field, ...]:
    names = [p.family for p in g.persons.values()]
    family = draw(
        st.sampled_from(sorted(set(names))) | NAMES | st.sampled_from(names).map(w.typo) | LONG_NAME
    )
    given: dict[str, Any] = {"familyName": family}
    given |= _maybe(
        draw,
        {
            "givenNames": st.sampled_from(w.GIVEN_NAMES),
            "dateOfBirth": st.sampled_from(w.BIRTH_DATES).map(lambda d: d.isoformat()),
            "nationality": COUNTRY,
            "documentNumber": st.sampled_from([*sorted(d.number for d in g.documents), "PXD-none"]),
        },
    )
    match = draw(
        st.lists(
            st.sampled_from(("reference", "kind", "noticeType", "sourceCountryCode", "instruction")),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    sub = [Field(m) for m in match]
    for rel, type_name in (("person", "person"), ("notice", "notice"), ("diffusion", "diffusion")):
        if draw(st.booleans()):
            sub.append(Field(rel, draw(selections(type_name, 1, weight=LIST_WEIGHT))))
    top = draw(st.lists(st.sampled_from(("outcome", "hit")), unique=True))
    return (Field("screen", (*(Field(t) for t in top), Field("matches", tuple(sub))), (("input", given),)),)


@st.composite
def graph_walks(draw: st.DrawFn, g: w.Graph) -> tuple[Field, ...]:
    people = [*sorted(p for p in g.persons if p.startswith("PX-P")), "PX-absent-person"]
    edges = (
        Field(
            "edges",
            tuple(
                Field(e)
                for e in draw(
                    st.lists(st.sampled_from(("source", "target", "kind")), min_size=1, unique=True)
                )
            ),
        ),
    )
    nodes = Field("nodes", draw(selections("person", 1, weight=LIST_WEIGHT)))
    if draw(st.booleans()):
        extra = (Field("truncated"),) if draw(st.booleans()) else ()
        args = (("personId", draw(st.sampled_from(people))), ("depth", draw(st.integers(1, 3))))
        return (Field("links", (nodes, *edges, *extra), args),)
    a, b = draw(st.lists(st.sampled_from(people), min_size=2, max_size=2, unique=True))
    extra = (Field("length"),) if draw(st.booleans()) else ()
    args = (("fromPersonId", a), ("toPersonId", b), ("maxDepth", draw(st.integers(1, 6))))
    return (Field("path", (nodes, *edges, *extra), args),)


@st.composite
def queries(draw: st.DrawFn, g: w.Graph) -> tuple[Field, ...]:
    kind = draw(st.sampled_from(("lookup", "lookup", "list", "list", "screen", "walk", "merge", "plain")))
    strategy = {
        "lookup": lookups(g),
        "list": lists(g),
        "screen": screenings(g),
        "walk": graph_walks(g),
        "merge": merged_lookups(g),
        "plain": plain_roots(),
    }[kind]
    # Within the gateway's cost limit (a few retries, rather than discarding the graph's example).
    return draw(strategy.filter(lambda roots: cost(roots) <= MAX_COST))


# --- Rendering ------------------------------------------------------------------------------


def literal(value: Any) -> str:
    if isinstance(value, Enum):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def render_field(f: Field, indent: int = 1) -> str:
    pad = "  " * indent
    head = f"{f.alias}: {f.name}" if f.alias else f.name
    if f.args:
        head += "(" + ", ".join(f"{k}: {literal(v)}" for k, v in f.args) + ")"
    if not f.sub:
        return pad + head
    inner = "\n".join(render_field(s, indent + 1) for s in f.sub)
    return f"{pad}{head} {{\n{inner}\n{pad}}}"


def render(roots: tuple[Field, ...]) -> str:
    return "{\n" + "\n".join(render_field(r) for r in roots) + "\n}"
