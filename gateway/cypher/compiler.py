"""The translation of a GraphQL selection into one parameterised Cypher statement.

A root field becomes one statement: the root match, the caller's visibility predicates from
``gateway.policy`` inside it, and the nested selection as a map projection in which every
relationship is a ``COLLECT`` subquery carrying the target's own predicate. Nothing is
filtered in Python and there is one round trip per root field. Every personal node in the
projection carries its reference under the key ``~ref`` for the audit (R15).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import strawberry
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from gateway.cypher.names import lucene_query
from gateway.errors import Code, GatewayError
from gateway.graphql.types import GRAPH, Expr, Prop, Relation
from gateway.rules import policy
from gateway.rules.caller import Caller

REF = "~ref"
MAX_FIRST = 100
NESTED_LIMIT = 100  # rows per nested list; the cost limit counts them at this weight

Selection = SelectedField | FragmentSpread | InlineFragment


@dataclass
class Statement:
    cypher: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Page:
    first: int
    offset: int


@cache
def _fields(schema: strawberry.Schema, type_name: str) -> dict[str, Any]:
    """GraphQL field name -> graph mapping (Prop, Expr or Relation) of one object type."""
    definition = schema.get_type_by_name(type_name)
    assert definition is not None, type_name
    return {
        schema.config.name_converter.get_graphql_name(f): f.metadata.get(GRAPH)
        for f in definition.fields  # type: ignore[union-attr]
    }


def merge(
    selections: Iterable[Selection], type_name: str | None = None
) -> dict[str, tuple[str, dict[str, Any], list[Selection]]]:
    """Response key -> (field name, arguments, sub-selections), with fragments flattened,
    @skip/@include applied and repeated keys merged, as GraphQL's field collection does."""
    out: dict[str, tuple[str, dict[str, Any], list[Selection]]] = {}
    for s in selections:
        if _skipped(s.directives):
            continue
        if isinstance(s, FragmentSpread | InlineFragment):
            condition = getattr(s, "type_condition", None)
            if type_name is None or condition in (None, type_name):
                for key, (name, args, subs) in merge(s.selections, type_name).items():
                    _add(out, key, name, args, subs)
            continue
        _add(out, s.alias or s.name, s.name, s.arguments, list(s.selections))
    return out


def _add(out: dict[str, Any], key: str, name: str, args: dict[str, Any], subs: list[Selection]) -> None:
    if key in out:
        out[key][2].extend(subs)
    else:
        out[key] = (name, args, list(subs))


def _skipped(directives: dict[str, dict[str, Any]] | None) -> bool:
    directives = directives or {}
    if "skip" in directives and directives["skip"].get("if"):
        return True
    return "include" in directives and not directives["include"].get("if")


def sub(selections: Sequence[Selection], *path: str) -> list[Selection]:
    """The merged sub-selections found under a path of field names (any alias)."""
    found: list[Selection] = list(selections)
    for name in path:
        found = [s for (n, _a, subs) in merge(found).values() if n == name for s in subs]
    return found


def selects(selections: Sequence[Selection], name: str) -> bool:
    return any(n == name for (n, _a, _s) in merge(selections).values())


def page(first: int, after: str | None) -> Page:
    if not 1 <= first <= MAX_FIRST:
        raise GatewayError(Code.BAD_USER_INPUT, f"first must be between 1 and {MAX_FIRST}, got {first}")
    return Page(first, decode_cursor(after) + 1 if after else 0)


def encode_cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"o:{index}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if text.startswith("o:") and text[2:].isdigit() and len(text) < 12:
            return int(text[2:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise GatewayError(Code.BAD_USER_INPUT, f"after is not a cursor this API issued: {cursor!r}")


COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


def country_code(value: str, field_name: str) -> str:
    if not COUNTRY_CODE.match(value):
        raise GatewayError(
            Code.BAD_USER_INPUT,
            f"{field_name} must be an ISO 3166-1 alpha-2 code such as 'FR', got {value!r}",
        )
    return value


@dataclass
class Compiler:
    """Builds one statement for one caller; keeps the parameters and fresh variable names."""

    schema: strawberry.Schema
    caller: Caller
    params: dict[str, Any] = field(default_factory=dict)
    _names: int = 0

    def __post_init__(self) -> None:
        self.params.update(policy.parameters(self.caller))

    def param(self, value: Any) -> str:
        self._names += 1
        name = f"p{self._names}"
        self.params[name] = value
        return f"${name}"

    def var(self, prefix: str = "n") -> str:
        self._names += 1
        return f"{prefix}{self._names}"

    def visible(self, label: str, v: str) -> str:
        return policy.visible(self.caller, label, v)

    def statement(self, cypher: str) -> Statement:
        return Statement(cypher, self.params)

    # --- projections ---------------------------------------------------------------

    def projection(self, type_name: str, v: str, selections: Sequence[Selection]) -> str:
        """A Cypher map with one entry per response key of the selection on ``v``."""
        fields = _fields(self.schema, type_name)
        entries = (
            [f"`{REF}`: '{type_name}:' + {self._ref(type_name, v)}"] if type_name in policy.PERSONAL else []
        )
        for key, (name, _args, subs) in merge(selections, type_name).items():
            if name == "__typename":
                entries.append(f"`{key}`: '{type_name}'")
                continue
            mapping = fields[name]
            entries.append(f"`{key}`: {self._value(type_name, name, mapping, v, subs)}")
        return "{" + ", ".join(entries) + "}"

    def _ref(self, type_name: str, v: str) -> str:
        if type_name == "TravelDocument":
            return f"{v}.issuingCountry + ':' + {v}.number"
        return f"toString({v}.id)"

    def _value(self, type_name: str, name: str, mapping: Any, v: str, subs: Sequence[Selection]) -> str:
        if isinstance(mapping, Prop):
            return policy.field_expression(self.caller, type_name, name, v, mapping.name or name)
        if isinstance(mapping, Expr):
            return mapping.template.format(v=v)
        if isinstance(mapping, Relation):
            return self.related(
                mapping, v, subs, policy.relation_condition(self.caller, type_name, name, "{t}")
            )
        raise AssertionError(f"{type_name}.{name} has no graph mapping")

    def related(self, rel: Relation, v: str, subs: Sequence[Selection], condition: str = policy.TRUE) -> str:
        t = self.var("t")
        predicate = self.visible(rel.target, t)
        if condition != policy.TRUE and predicate != policy.FALSE:
            predicate = f"{predicate} AND {condition.replace('{t}', t)}"
        if predicate == policy.FALSE:
            return "[]" if rel.many else "null"
        pattern = rel.pattern.format(v=v, t=t)
        order = rel.order.format(t=t)
        limit = NESTED_LIMIT if rel.many else 1
        rows = (
            f"COLLECT {{ MATCH {pattern} WHERE {predicate} "
            f"WITH {t} ORDER BY {order} LIMIT {limit} RETURN {self.projection(rel.target, t, subs)} }}"
        )
        return rows if rel.many else f"head({rows})"

    # --- root shapes ---------------------------------------------------------------

    def one(self, label: str, key: str, value: Any, selections: Sequence[Selection]) -> Statement:
        return self.statement(
            f"MATCH (v:{label} {{{key}: {self.param(value)}}}) WHERE {self.visible(label, 'v')} "
            f"RETURN {self.projection(label, 'v', selections)} AS row LIMIT 1"
        )

    def connection(
        self,
        label: str,
        conditions: list[str],
        sort: str,
        pg: Page,
        selections: Sequence[Selection],
        source: str | None = None,
    ) -> Statement:
        """A page of visible matches and, only when asked, their count (never a collected list)."""
        source = source or f"MATCH (v:{label})"
        where = " AND ".join([self.visible(label, "v"), *conditions])
        nodes = sub(selections, "edges", "node")
        parts = []
        if selects(selections, "totalCount"):
            parts.append(f"CALL () {{ {source} WITH v WHERE {where} RETURN count(v) AS total }}")
        else:
            parts.append("WITH -1 AS total")
        parts.append(
            f"CALL () {{ {source} WITH v WHERE {where} "
            f"WITH v ORDER BY {sort.format(v='v')}, v.id SKIP {self.param(pg.offset)} "
            f"LIMIT {self.param(pg.first + 1)} "
            f"RETURN collect({self.projection(label, 'v', nodes)}) AS rows }}"
        )
        parts.append("RETURN total, rows")
        return self.statement(" ".join(parts))


def shape_connection(
    selections: Sequence[Selection], rows: list[dict[str, Any]], total: int, pg: Page
) -> dict[str, Any]:
    """The connection's wrapper fields, by response key, around the rows of one page."""
    has_next = len(rows) > pg.first
    rows = rows[: pg.first]
    edges = [{"cursor": encode_cursor(pg.offset + i), "node": r} for i, r in enumerate(rows)]
    info = {
        "hasNextPage": has_next,
        "hasPreviousPage": pg.offset > 0,
        "startCursor": edges[0]["cursor"] if edges else None,
        "endCursor": edges[-1]["cursor"] if edges else None,
    }
    out: dict[str, Any] = {}
    for key, (name, _args, subs) in merge(selections).items():
        if name == "totalCount":
            out[key] = total
        elif name == "pageInfo":
            out[key] = {k: info[n] for k, (n, _a, _s) in merge(subs).items() if n in info}
        elif name == "edges":
            out[key] = [{k: e[n] for k, (n, _a, _s) in merge(subs).items() if n in e} for e in edges]
    return out


# --- Root statements with their filters ---------------------------------------------------
# Filters on related records test only related records the caller may see, so a filter can
# never reveal a hidden record (the bypass through related-type filters that generic
# GraphQL-to-Cypher layers are known for).


def _set(value: Any) -> bool:
    return value is not None and value is not strawberry.UNSET


def persons(c: Compiler, flt: Any, sort: str, pg: Page, selections: Sequence[Selection]) -> Statement:
    conditions: list[str] = []
    source = None
    if flt is not None:
        if _set(flt.name):
            source = (
                f"CALL db.index.fulltext.queryNodes('person_names', "
                f"{c.param(lucene_query(flt.name, fields=policy.searchable_names(c.caller)))}) "
                "YIELD node AS v"
            )
        if _set(flt.nationality):
            code = c.param(country_code(flt.nationality, "filter.nationality"))
            conditions.append(f"EXISTS {{ (v)-[:NATIONAL_OF]->(:Country {{code: {code}}}) }}")
        if _set(flt.born_after):
            conditions.append(f"v.dateOfBirth >= {c.param(flt.born_after)}")
        if _set(flt.born_before):
            conditions.append(f"v.dateOfBirth <= {c.param(flt.born_before)}")
        if _set(flt.has_notice_type):
            conditions.append(
                f"EXISTS {{ MATCH (n:Notice)-[:CONCERNS]->(v) WHERE n.type = {c.param(flt.has_notice_type.value)} "
                f"AND {c.visible('Notice', 'n')} }}"
            )
    return c.connection("Person", conditions, sort, pg, selections, source)


def notices(c: Compiler, flt: Any, sort: str, pg: Page, selections: Sequence[Selection]) -> Statement:
    conditions: list[str] = []
    if flt is not None:
        if _set(flt.type):
            conditions.append(f"v.type = {c.param(flt.type.value)}")
        if _set(flt.status):
            status = policy.field_expression(c.caller, "Notice", "status", "v", "status")
            conditions.append(f"{status} = {c.param(flt.status.value)}")
        if _set(flt.source_country):
            conditions.append(
                f"v.sourceCountry = {c.param(country_code(flt.source_country, 'filter.sourceCountry'))}"
            )
        if _set(flt.subject_id):
            conditions.append(
                f"EXISTS {{ (v)-[:CONCERNS]->(:Person {{id: {c.param(str(flt.subject_id))}}}) }}"
            )
    return c.connection("Notice", conditions, sort, pg, selections)


def diffusions(c: Compiler, flt: Any, sort: str, pg: Page, selections: Sequence[Selection]) -> Statement:
    conditions: list[str] = []
    if flt is not None:
        if _set(flt.sender_country):
            conditions.append(
                f"v.sourceCountry = {c.param(country_code(flt.sender_country, 'filter.senderCountry'))}"
            )
        if _set(flt.recipient_country):
            code = c.param(country_code(flt.recipient_country, "filter.recipientCountry"))
            conditions.append(f"(v.toAllMembers OR EXISTS {{ (v)-[:SENT_TO]->(:Country {{code: {code}}}) }})")
        if _set(flt.reviewed):
            conditions.append(f"coalesce(v.reviewed, false) = {c.param(flt.reviewed)}")
    return c.connection("Diffusion", conditions, sort, pg, selections)


def applications(c: Compiler, flt: Any, sort: str, pg: Page, selections: Sequence[Selection]) -> Statement:
    conditions: list[str] = []
    if flt is not None:
        if _set(flt.status):
            conditions.append(f"v.status = {c.param(flt.status.value)}")
        if _set(flt.receiving_country):
            code = country_code(flt.receiving_country, "filter.receivingCountry")
            conditions.append(f"v.receivingCountry = {c.param(code)}")
    return c.connection("AsylumApplication", conditions, sort, pg, selections)


def due_for_review(c: Compiler, pg: Page, selections: Sequence[Selection]) -> Statement:
    """R14: the caller's own live notices whose review window has opened."""
    conditions = [
        "v.sourceCountry = $country",
        "v.status = 'PUBLISHED'",
        "NOT coalesce(v.blocked, false)",
        "v.reviewDueAt <= datetime() < v.expiresAt",
    ]
    if not policy.may_request(c.caller):
        conditions.append("false")
    return c.connection("Notice", conditions, "{v}.expiresAt ASC", pg, selections)


def notifications(c: Compiler, flt: Any, pg: Page, selections: Sequence[Selection]) -> Statement:
    conditions: list[str] = []
    if flt is not None:
        if _set(flt.outcome):
            conditions.append(f"v.outcome = {c.param(flt.outcome.value)}")
        if _set(flt.receiving_country):
            code = country_code(flt.receiving_country, "filter.receivingCountry")
            conditions.append(f"v.receivingCountry = {c.param(code)}")
    return c.connection("StatusNotification", conditions, "{v}.createdAt DESC", pg, selections)


def access_events(c: Compiler, flt: Any, pg: Page, selections: Sequence[Selection]) -> Statement:
    conditions: list[str] = []
    if flt is not None:
        for attr, prop in (("agency_id", "agencyId"), ("user_id", "userId"), ("operation", "operation")):
            if _set(getattr(flt, attr)):
                conditions.append(f"v.{prop} = {c.param(getattr(flt, attr))}")
    return c.connection("AccessEvent", conditions, "{v}.seq DESC", pg, selections)


def links(c: Compiler, person_id: str, depth: int, selections: Sequence[Selection]) -> Statement:
    """R16: the neighbourhood reached through visible persons only; hidden ones cut paths."""
    if not 1 <= depth <= 3:
        raise GatewayError(Code.BAD_USER_INPUT, f"depth must be between 1 and 3, got {depth}")
    hop = policy.link_step(c.caller, "x")
    return c.statement(
        f"MATCH (s:Person {{id: {c.param(person_id)}}}) WHERE {c.visible('Person', 's')} "
        f"CALL (s) {{ OPTIONAL MATCH (s) (()-[r:ASSOCIATE_OF]-(x:Person) WHERE {hop}){{1,{depth}}} (o) "
        "UNWIND (CASE WHEN r IS NULL THEN [null] ELSE r END) AS rel "
        "RETURN collect(DISTINCT o) AS others, collect(DISTINCT rel) AS rels } "
        "UNWIND [s] + [o IN others WHERE o <> s] AS v "
        f"WITH rels, collect({c.projection('Person', 'v', sub(selections, 'nodes'))}) AS nodes "
        "RETURN {nodes: nodes, edges: [rel IN rels | {source: startNode(rel).id, "
        "target: endNode(rel).id, kind: rel.kind}]} AS row"
    )


def path(c: Compiler, source: str, target: str, max_depth: int, selections: Sequence[Selection]) -> Statement:
    """R16: the shortest path whose every person the caller may see, or nothing."""
    if not 1 <= max_depth <= 6:
        raise GatewayError(Code.BAD_USER_INPUT, f"maxDepth must be between 1 and 6, got {max_depth}")
    hop = policy.link_step(c.caller, "x")
    return c.statement(
        f"MATCH (a:Person {{id: {c.param(source)}}}) WHERE {c.visible('Person', 'a')} "
        f"MATCH (b:Person {{id: {c.param(target)}}}) WHERE {c.visible('Person', 'b')} "
        f"MATCH p = SHORTEST 1 (a) (()-[r:ASSOCIATE_OF]-(x:Person) WHERE {hop}){{1,{max_depth}}} (b) "
        "UNWIND nodes(p) AS v "
        f"WITH p, collect({c.projection('Person', 'v', sub(selections, 'nodes'))}) AS nodes "
        "RETURN {length: length(p), nodes: nodes, edges: [rel IN relationships(p) | "
        "{source: startNode(rel).id, target: endNode(rel).id, kind: rel.kind}]} AS row"
    )
