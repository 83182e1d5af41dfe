"""Property tests: what the API returns is exactly what the plain-Python reference allows.

For random callers drawn from the real agencies of the seeded graph (NCBs, each kind of
national entity, the GS, the CCF, an international entity and the public) and random
queries, every id the API returns must be visible under ``tests/reference_policy.py`` and
match the query's filter (soundness), every visible id matching the filter must come back
(completeness), and ``totalCount`` must equal the reference's count.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from neo4j import Driver

from tests import reference_policy as ref
from tests.conftest import Client

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

MAX_PAGES = 12  # pages fetched per paged query at most (first is raised to stay within)
PURPOSE = "INVESTIGATION"
NOTICE_TYPES = ("RED", "YELLOW", "BLUE", "BLACK", "GREEN", "ORANGE", "PURPLE", "UN_SPECIAL")
APPLICATION_STATUSES = ("PENDING", "GRANTED", "DENIED", "REVOKED")
DEMO_COUNTRIES = ("KZ", "NL", "JP", "CA", "FR", "DE")
CALLER_KINDS = (
    (ref.NCB, None),
    (ref.NATIONAL_ENTITY, "POLICE"),
    (ref.NATIONAL_ENTITY, "BORDER"),
    (ref.NATIONAL_ENTITY, "ASYLUM"),
    (ref.NATIONAL_ENTITY, "JUDICIAL"),
    ("gs", None),
    ("ccf", None),
    ("intl-europol", None),
    ("public", None),
)


@pytest.fixture(scope="module")
def graph(seeded: Driver) -> ref.Graph:
    return ref.load(seeded)


def now() -> datetime:
    return datetime.now(UTC)


# --- Strategies -----------------------------------------------------------------------------


def interesting_countries(graph: ref.Graph) -> list[str]:
    """Countries the records name: sources, recipients, restrictions, asylum countries."""
    found: set[str] = set(DEMO_COUNTRIES)
    for n in graph.notices.values():
        found |= n.allow | n.deny | ({n.source} if n.source else set())
    for d in graph.diffusions.values():
        found |= d.allow | d.deny | d.recipients | ({d.source} if d.source else set())
    for a in graph.applications.values():
        found |= {c for c in (a.receiving, a.feared) if c}
    return sorted(found)


def member_countries(graph: ref.Graph) -> list[str]:
    return sorted({a.country for a in graph.agencies.values() if a.kind == ref.NCB and a.country})


def countries(graph: ref.Graph) -> st.SearchStrategy[str]:
    return st.sampled_from(interesting_countries(graph)) | st.sampled_from(member_countries(graph))


def named_by(graph: ref.Graph, record: object) -> set[str]:
    """The countries a record names (for a person: those its records name too)."""
    if isinstance(record, ref.Notice):
        return {*record.allow, *record.deny, *([record.source] if record.source else [])}
    if isinstance(record, ref.Diffusion):
        return {*record.allow, *record.deny, *record.recipients, *([record.source] if record.source else [])}
    if isinstance(record, ref.Application):
        return {c for c in (record.receiving, record.feared) if c}
    assert isinstance(record, ref.Person)
    found = set(record.nationalities) | ({record.recorded_country} if record.recorded_country else set())
    for related in (
        *graph.notices_of.get(record.id, ()),
        *graph.diffusions_of.get(record.id, ()),
        *graph.applications_of.get(record.id, ()),
    ):
        found |= named_by(graph, related)
    return found


@st.composite
def callers(draw: st.DrawFn, graph: ref.Graph, near: set[str] | None = None) -> tuple[str | None, ref.Viewer]:
    """(agency id for the token, or None for the public; the reference's view of it).

    The caller's country is often one that ``near`` names (the source, recipients, allow and
    deny lists, asylum countries of the records the query targets), where the rules bite.
    """
    kind, subtype = draw(st.sampled_from(CALLER_KINDS))
    if kind == "public":
        return None, ref.PUBLIC_VIEWER
    if kind in ("gs", "ccf", "intl-europol"):
        agency_id = kind
    else:
        country = draw(st.sampled_from(sorted(near)) | countries(graph) if near else countries(graph))
        agency_id = next(
            a.id
            for a in graph.agencies.values()
            if a.kind == kind and a.subtype == subtype and a.country == country
        )
    v = ref.viewer(graph, agency_id)
    assert v is not None, f"{agency_id} is refused by R1 in the seed"
    return agency_id, v


def subset(draw: st.DrawFn, options: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    keys = draw(st.sets(st.sampled_from(sorted(options))))
    return {k: draw(options[k]) for k in sorted(keys)}


# --- Talking to the API -------------------------------------------------------------------


def ask(client: Client, agency: str | None, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Public: no token, no purpose; everyone else: a token and purpose INVESTIGATION."""
    return client.data(query, variables, agency=agency, purpose=PURPOSE if agency else None)


CONNECTION = """
query Page($filter: {type}, $first: Int!, $after: String) {{
  {field}(filter: $filter, first: $first, after: $after) {{
    totalCount
    edges {{ cursor node {{ id }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""
FILTER_TYPES = {
    "notices": "NoticeFilter",
    "diffusions": "DiffusionFilter",
    "asylumApplications": "AsylumApplicationFilter",
    "persons": "PersonFilter",
}


def page_through(
    client: Client, agency: str | None, field: str, flt: dict[str, Any] | None, first: int, expected: int
) -> tuple[list[str], set[int], int]:
    """Every id of every page, following ``after`` cursors; the totals seen; the page size used.

    ``first`` is raised when needed so that the expected result takes at most MAX_PAGES pages.
    """
    first = min(100, max(first, math.ceil(expected / MAX_PAGES)))
    query = CONNECTION.format(type=FILTER_TYPES[field], field=field)
    ids: list[str] = []
    totals: set[int] = set()
    after: str | None = None
    for _ in range(3 * MAX_PAGES + 3):  # stops a runaway result rather than looping
        page = ask(client, agency, query, {"filter": flt, "first": first, "after": after})[field]
        edges = page["edges"]
        totals.add(page["totalCount"])
        ids += [e["node"]["id"] for e in edges]
        assert len(edges) <= first
        if not page["pageInfo"]["hasNextPage"]:
            return ids, totals, first
        assert len(edges) == first, "a page short of `first` claims a next page"
        after = page["pageInfo"]["endCursor"]
        assert after == edges[-1]["cursor"]
    raise AssertionError(f"{field} kept paging: {len(ids)} ids so far, {expected} expected")


def check_connection(
    label: str,
    returned: list[str],
    totals: set[int],
    matching: set[str],
    allowed: set[str],
    universe: set[str],
) -> None:
    """Soundness, completeness and totalCount of one paged result against the reference.

    ``matching``: every id that matches the query's filter, visible or not; ``allowed``: those
    of them the caller may see.
    """
    event(f"reference allows {_bucket(len(allowed))} ids")
    event("filter matches hidden records too" if matching - allowed else "filter matches no hidden record")
    duplicates = sorted(i for i, c in Counter(returned).items() if c > 1)
    assert not duplicates, f"{label}: ids returned on more than one page: {duplicates[:10]}"
    got = set(returned)
    wrong = {
        i: "absent from the graph"
        if i not in universe
        else "hidden"
        if i in matching
        else "outside the filter"
        for i in sorted(got - allowed)
    }
    assert not wrong, f"{label}: returned but not allowed by the reference: {wrong}"
    missing = sorted(allowed - got)
    assert not missing, f"{label}: allowed by the reference but not returned: {missing}"
    assert totals == {len(allowed)}, f"{label}: totalCount {sorted(totals)} != reference {len(allowed)}"


def _bucket(n: int) -> str:
    return "0" if n == 0 else "1-9" if n < 10 else "10-99" if n < 100 else "100+"


# --- (a) notices ----------------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_notices_paged_match_the_reference(client: Client, graph: ref.Graph, data: st.DataObject) -> None:
    # An anchor record supplies filter values that match something and countries for the caller.
    anchor = graph.notices[data.draw(st.sampled_from(sorted(graph.notices)), label="anchor")]
    agency, v = data.draw(callers(graph, named_by(graph, anchor)), label="caller")
    own = [v.country] if v.country else []
    flt = subset(
        data.draw,
        {
            "type": st.sampled_from([anchor.type]) | st.sampled_from(NOTICE_TYPES),
            "sourceCountry": st.sampled_from([anchor.source or "KZ", *own]) | countries(graph),
        },
    )
    first = data.draw(st.integers(1, 100), label="first")
    matching = {
        n.id
        for n in graph.notices.values()
        if flt.get("type", n.type) == n.type
        and ("sourceCountry" not in flt or flt["sourceCountry"] == n.source)
    }
    t = now()
    allowed = {i for i in matching if ref.visible_notice(v, graph.notices[i], t)}
    returned, totals, used = page_through(client, agency, "notices", flt or None, first, len(allowed))
    note(f"caller={agency} filter={flt} first={used}")
    label = f"{agency or 'public'} notices(filter: {flt}, first: {used})"
    check_connection(label, returned, totals, matching, allowed, set(graph.notices))


# --- (b) diffusions -------------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_diffusions_paged_match_the_reference(client: Client, graph: ref.Graph, data: st.DataObject) -> None:
    anchor = graph.diffusions[data.draw(st.sampled_from(sorted(graph.diffusions)), label="anchor")]
    agency, v = data.draw(callers(graph, named_by(graph, anchor)), label="caller")
    own = [v.country] if v.country else []
    flt = subset(
        data.draw,
        {
            "senderCountry": st.sampled_from([anchor.source or "KZ", *own]) | countries(graph),
            "recipientCountry": st.sampled_from([*sorted(anchor.recipients), *own] or ["DE"])
            | countries(graph),
            "reviewed": st.booleans(),
        },
    )
    first = data.draw(st.integers(1, 100), label="first")

    def matches(d: ref.Diffusion) -> bool:
        if "senderCountry" in flt and d.source != flt["senderCountry"]:
            return False
        if "recipientCountry" in flt and not (d.to_all or flt["recipientCountry"] in d.recipients):
            return False
        return flt.get("reviewed", d.reviewed) == d.reviewed

    matching = {d.id for d in graph.diffusions.values() if matches(d)}
    allowed = {i for i in matching if ref.visible_diffusion(v, graph.diffusions[i])}
    returned, totals, used = page_through(client, agency, "diffusions", flt or None, first, len(allowed))
    note(f"caller={agency} filter={flt} first={used}")
    label = f"{agency or 'public'} diffusions(filter: {flt}, first: {used})"
    check_connection(label, returned, totals, matching, allowed, set(graph.diffusions))


# --- (c) asylum applications ----------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_asylum_applications_match_the_reference(
    client: Client, graph: ref.Graph, data: st.DataObject
) -> None:
    anchor = graph.applications[data.draw(st.sampled_from(sorted(graph.applications)), label="anchor")]
    agency, v = data.draw(callers(graph, named_by(graph, anchor)), label="caller")
    receiving = sorted({a.receiving for a in graph.applications.values() if a.receiving})
    feared = sorted({a.feared for a in graph.applications.values() if a.feared})
    flt = subset(
        data.draw,
        {
            "status": st.sampled_from(APPLICATION_STATUSES),
            # R7: filtering on the feared country's code as receiving must reveal nothing either.
            "receivingCountry": st.sampled_from(receiving + feared + ([v.country] if v.country else [])),
        },
    )
    first = data.draw(st.integers(1, 100), label="first")
    matching = {
        a.id
        for a in graph.applications.values()
        if flt.get("status", a.status) == a.status
        and ("receivingCountry" not in flt or flt["receivingCountry"] == a.receiving)
    }
    allowed = {i for i in matching if ref.visible_application(v, graph.applications[i])}
    returned, totals, used = page_through(
        client, agency, "asylumApplications", flt or None, first, len(allowed)
    )
    note(f"caller={agency} filter={flt} first={used}")
    label = f"{agency or 'public'} asylumApplications(filter: {flt}, first: {used})"
    check_connection(label, returned, totals, matching, allowed, set(graph.applications))


# --- (d) persons by nationality -------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_persons_by_nationality_match_the_reference(
    client: Client, graph: ref.Graph, data: st.DataObject
) -> None:
    anchor = graph.persons[data.draw(st.sampled_from(sorted(graph.persons)), label="anchor")]
    agency, v = data.draw(callers(graph, named_by(graph, anchor)), label="caller")
    t = now()
    seen = sorted(
        {c for p in graph.persons.values() if ref.visible_person(v, p, graph, t) for c in p.nationalities}
    )
    nationality = data.draw(
        st.sampled_from(sorted(anchor.nationalities) or ["KZ"])
        | st.sampled_from(seen or ["KZ"])
        | st.sampled_from([v.country or "FR"])
        | countries(graph),
        label="nationality",
    )
    first = data.draw(st.integers(1, 100), label="first")
    matching = {p.id for p in graph.persons.values() if nationality in p.nationalities}
    t = now()
    allowed = {i for i in matching if ref.visible_person(v, graph.persons[i], graph, t)}
    flt = {"nationality": nationality}
    returned, totals, used = page_through(client, agency, "persons", flt, first, len(allowed))
    note(f"caller={agency} filter={flt} first={used}")
    label = f"{agency or 'public'} persons(filter: {flt}, first: {used})"
    check_connection(label, returned, totals, matching, allowed, set(graph.persons))


# --- (e) single look-ups --------------------------------------------------------------------

LOOKUP_FIELDS = {
    "notice": "notices",
    "person": "persons",
    "diffusion": "diffusions",
    "asylumApplication": "applications",
}


@st.composite
def lookups(draw: st.DrawFn, graph: ref.Graph) -> list[tuple[str, str]]:
    """Up to eight (root field, id) pairs: existing ids of every kind, and an absent one."""
    out = []
    for _ in range(draw(st.integers(1, 8))):
        field = draw(st.sampled_from(sorted(LOOKUP_FIELDS)))
        ids = sorted(getattr(graph, LOOKUP_FIELDS[field]))
        existing = st.sampled_from(ids)
        out.append((field, draw(st.one_of(existing, existing, existing, st.just(f"{field}-absent-0")))))
    return out


def visible_by_id(v: ref.Viewer, graph: ref.Graph, field: str, ident: str, t: datetime) -> bool:
    if field == "notice":
        return ident in graph.notices and ref.visible_notice(v, graph.notices[ident], t)
    if field == "diffusion":
        return ident in graph.diffusions and ref.visible_diffusion(v, graph.diffusions[ident])
    if field == "asylumApplication":
        return ident in graph.applications and ref.visible_application(v, graph.applications[ident])
    return ident in graph.persons and ref.visible_person(v, graph.persons[ident], graph, t)


@SETTINGS
@given(data=st.data())
def test_single_lookups_match_the_reference(client: Client, graph: ref.Graph, data: st.DataObject) -> None:
    asked = data.draw(lookups(graph), label="lookups")
    near = set()
    for field, ident in asked:
        record = getattr(graph, LOOKUP_FIELDS[field]).get(ident)
        near |= named_by(graph, record) if record else set()
    agency, v = data.draw(callers(graph, near), label="caller")
    variables = {f"i{k}": ident for k, (_f, ident) in enumerate(asked)}
    header = ", ".join(f"$i{k}: ID!" for k in range(len(asked)))
    body = " ".join(f"q{k}: {f}(id: $i{k}) {{ id }}" for k, (f, _i) in enumerate(asked))
    result = ask(client, agency, f"query Lookups({header}) {{ {body} }}", variables)
    t = now()
    for k, (field, ident) in enumerate(asked):
        expected = visible_by_id(v, graph, field, ident, t)
        event(f"{field}: {'visible' if expected else 'hidden' if 'absent' not in ident else 'absent'}")
        got = result[f"q{k}"]
        assert (got is not None) == expected, (
            f"{agency or 'public'} {field}(id: {ident!r}): expected {'the record' if expected else 'null'}, got {got}"
        )
        if got is not None:
            assert got["id"] == ident


# --- (f) links ------------------------------------------------------------------------------

LINKS = """
query Links($id: ID!, $depth: Int!) {
  links(personId: $id, depth: $depth) { nodes { id } edges { source target kind } }
}
"""


@SETTINGS
@given(data=st.data())
def test_links_match_the_reference(client: Client, graph: ref.Graph, data: st.DataObject) -> None:
    linked = sorted(graph.adjacency)
    anchor = data.draw(st.sampled_from(linked), label="anchor")
    agency, v = data.draw(callers(graph, named_by(graph, graph.persons[anchor])), label="caller")
    t = now()
    seen = [p for p in linked if ref.visible_person(v, graph.persons[p], graph, t)]
    start = data.draw(
        st.just(anchor) | st.sampled_from(seen or linked) | st.sampled_from(sorted(graph.persons)),
        label="personId",
    )
    depth = data.draw(st.integers(1, 3), label="depth")
    got = ask(client, agency, LINKS, {"id": start, "depth": depth})["links"]
    expected = ref.neighbourhood(v, graph, start, depth, now())
    label = f"{agency or 'public'} links(personId: {start!r}, depth: {depth})"
    if expected is None:
        event("start person hidden")
        assert got is None, f"{label}: expected null (start hidden), got {got}"
        return
    assert got is not None, f"{label}: expected a neighbourhood of {len(expected[0])} persons, got null"
    nodes = [n["id"] for n in got["nodes"]]
    edges = Counter((e["source"], e["target"], e["kind"]) for e in got["edges"])
    want_nodes, want_edges = expected
    everything = ref.neighbourhood(ref.viewer(graph, "gs") or ref.PUBLIC_VIEWER, graph, start, depth, now())
    event(
        "hidden persons cut the neighbourhood"
        if everything and everything[0] != want_nodes
        else "nothing cut"
    )
    assert len(nodes) == len(set(nodes)), f"{label}: repeated nodes {nodes}"
    assert start in nodes, f"{label}: the start person is missing from {nodes}"
    assert not set(nodes) - want_nodes, f"{label}: nodes not allowed: {sorted(set(nodes) - want_nodes)}"
    assert not want_nodes - set(nodes), f"{label}: allowed nodes missing: {sorted(want_nodes - set(nodes))}"
    assert not edges - want_edges, f"{label}: edges not allowed: {sorted(edges - want_edges)}"
    assert not want_edges - edges, f"{label}: allowed edges missing: {sorted(want_edges - edges)}"
