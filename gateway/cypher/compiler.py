"""The translation of a GraphQL selection into one parameterised Cypher statement.

A root field becomes one statement: the root match, the caller's row predicates from
``gateway.rules.policy`` inside it, and the nested selection as a map projection in which
every relationship is a ``COLLECT`` subquery carrying the target's own predicate. Every
field, filter and sort order is read through the field view (``gateway.rules.view``), by
its GraphQL field name. Statements are assembled from the typed pieces of
``gateway.cypher.pieces``; user values are parameters only. Nothing is filtered in Python
and there is one round trip per root field. Every personal node in the projection carries
its reference under the key ``~ref`` for the audit (R15).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import Any

import strawberry
from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from gateway.cypher import cursors
from gateway.cypher.cursors import Cursor, Key, Kind, Order
from gateway.cypher.names import lucene_query
from gateway.cypher.pieces import FALSE, NULL, TRUE, Expr, Param, Pred, Projection, Var, all_of, name
from gateway.errors import Code, GatewayError
from gateway.graphql.types import (
    DIFFUSION_ORDER,
    FILTER,
    GRAPH,
    NOTICE_ORDER,
    Computed,
    NameSearch,
    On,
    Prop,
    Relation,
    SortKey,
)
from gateway.rules import policy, view
from gateway.rules.caller import Caller

REF = "~ref"
MAX_FIRST = 100
NESTED_LIMIT = 100  # rows per nested list; the cost limit counts them at this weight
MAX_LINKED = 200  # persons in a links answer, the start included (DECISIONS 6)

# The field that identifies a record of each type: the last sort key of every order.
KEY = {"Country": "code", "TravelDocument": "number"}

Selection = SelectedField | FragmentSpread | InlineFragment


@dataclass
class Statement:
    cypher: str
    params: dict[str, Any]
    order: Order | None = None  # a connection's order: its cursors are made in it


@dataclass(frozen=True)
class Page:
    """How much of a connection to answer: ``first`` rows after the ``after`` cursor."""

    first: int
    after: Cursor | None = None
    after_text: str = ""  # as sent, to quote the start of a refused one


@dataclass(frozen=True)
class FieldMap:
    """Where a GraphQL field's value lives (types.py), whether it is a list, and the kind of
    scalar it holds (for a cursor's values; None for others)."""

    graph: Prop | Computed | Relation | None
    is_list: bool
    nullable: bool
    kind: Kind | None = None


def _kind(annotation: Any) -> Kind | None:
    if annotation is datetime.datetime:
        return "datetime"
    if annotation is datetime.date:
        return "date"
    if annotation in (str, strawberry.ID):
        return "string"
    return {float: "float", int: "int"}.get(annotation)  # type: ignore[return-value]


@cache
def _fields(schema: strawberry.Schema, type_name: str) -> dict[str, FieldMap]:
    """GraphQL field name -> graph mapping of one object type."""
    definition = schema.get_type_by_name(type_name)
    assert definition is not None, type_name
    out = {}
    for f in definition.fields:  # type: ignore[union-attr]
        nullable = isinstance(f.type, StrawberryOptional)
        inner = f.type.of_type if isinstance(f.type, StrawberryOptional) else f.type
        out[schema.config.name_converter.get_graphql_name(f)] = FieldMap(
            f.metadata.get(GRAPH), isinstance(inner, StrawberryList), nullable, _kind(inner)
        )
    return out


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
                for key, (field_name, args, subs) in merge(s.selections, type_name).items():
                    _add(out, key, field_name, args, subs)
            continue
        _add(out, s.alias or s.name, s.name, s.arguments, list(s.selections))
    return out


def _add(out: dict[str, Any], key: str, field_name: str, args: dict[str, Any], subs: list[Selection]) -> None:
    if key in out:
        out[key][2].extend(subs)
    else:
        out[key] = (field_name, args, list(subs))


def _skipped(directives: dict[str, dict[str, Any]] | None) -> bool:
    directives = directives or {}
    if "skip" in directives and directives["skip"].get("if"):
        return True
    return "include" in directives and not directives["include"].get("if")


def sub(selections: Sequence[Selection], *path: str) -> list[Selection]:
    """The merged sub-selections found under a path of field names (any alias)."""
    found: list[Selection] = list(selections)
    for field_name in path:
        found = [s for (n, _a, subs) in merge(found).values() if n == field_name for s in subs]
    return found


def selects(selections: Sequence[Selection], field_name: str) -> bool:
    return any(n == field_name for (n, _a, _s) in merge(selections).values())


def page(first: int, after: str | None) -> Page:
    """The page asked for; the cursor's shape is checked here, its order when compiled."""
    if not 1 <= first <= MAX_FIRST:
        raise GatewayError(Code.BAD_USER_INPUT, f"first must be between 1 and {MAX_FIRST}, got {first}")
    if after is None:
        return Page(first)
    return Page(first, cursors.decode(after), after)


COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


def country_code(value: str, field_name: str) -> str:
    if not COUNTRY_CODE.match(value):
        raise GatewayError(
            Code.BAD_USER_INPUT,
            f"{field_name} must be an ISO 3166-1 alpha-2 code such as 'FR', got {value!r}",
        )
    return value


def _set(value: Any) -> bool:
    return value is not None and value is not strawberry.UNSET


@dataclass
class Compiler:
    """Builds one statement for one caller; keeps the parameters and fresh variable names."""

    schema: strawberry.Schema
    caller: Caller
    params: dict[str, Any] = field(default_factory=dict)
    _names: int = 0

    def __post_init__(self) -> None:
        self.params.update(policy.parameters(self.caller))

    def parameter(self, value: Any) -> Param:
        self._names += 1
        p = Param(f"p{self._names}")
        self.params[p.name] = value
        return p

    def param(self, value: Any) -> str:
        """The ``$name`` placeholder of a new parameter, as text (for the screening statements)."""
        return str(self.parameter(value))

    def var(self, prefix: str = "n") -> Var:
        self._names += 1
        return Var(f"{prefix}{self._names}")

    def visible(self, label: str, v: Var | str) -> Pred:
        return policy.visible(self.caller, label, v)

    def statement(self, cypher: str) -> Statement:
        return Statement(cypher, self.params)

    # --- fields, through the view ---------------------------------------------------

    def field(self, type_name: str, field_name: str, v: Var) -> Expr | None:
        """The caller's expression for a value field of ``v``, or None if it may not read it."""
        mapping = _fields(self.schema, type_name).get(field_name)
        if mapping is None or isinstance(mapping.graph, Relation):
            return None
        stored = v.prop(mapping.graph.name or field_name) if isinstance(mapping.graph, Prop) else NULL
        return view.read(self.caller, type_name, field_name, v, stored)

    def _related_rows(self, type_name: str, field_name: str, v: Var) -> tuple[Relation, Var, Pred] | None:
        """A relationship field's mapping, a target variable and the predicate the caller
        reads targets under, or None if it may not read the field (or sees no target)."""
        mapping = _fields(self.schema, type_name).get(field_name)
        if mapping is None or not isinstance(mapping.graph, Relation):
            return None
        rel = mapping.graph
        t = self.var("t")
        condition = view.related(self.caller, type_name, field_name, t)
        if condition is None:
            return None
        predicate = all_of(self.visible(rel.target, t), rel.pattern.condition(t), condition)
        return None if predicate.is_false else (rel, t, predicate)

    def order(self, type_name: str, v: Var, keys: Sequence[SortKey], asked: bool = False) -> str:
        """``ORDER BY`` text for the keys (see ``ordering``)."""
        return self.ordering(type_name, v, keys, asked).by()

    def ordering(self, type_name: str, v: Var, keys: Sequence[SortKey], asked: bool = False) -> Order:
        """The keys, each read through the view, then the type's key. A key the caller may
        not read is refused when the caller asked for it, and otherwise replaced by its
        fallback or left out (DECISIONS 2, 3)."""
        fields = _fields(self.schema, type_name)
        tie = SortKey(KEY.get(type_name, "id"))
        parts = []
        for key in (*keys, tie):
            k: SortKey | None = key
            expression = None
            while k is not None and expression is None:
                expression = self.field(type_name, k.field, v)
                if expression is None and asked and key is not tie:
                    raise GatewayError(Code.BAD_USER_INPUT, f"you may not sort by {key.field}")
                if expression is None:
                    k = k.fallback
            if k is not None and expression is not None:
                kind = fields[k.field].kind
                assert kind is not None, f"{type_name}.{k.field} is not a scalar to sort by"
                parts.append(Key(k.field, expression, k.descending, kind))
        return Order(type_name, tuple(parts))

    # --- filters, through the view ---------------------------------------------------

    def filters(self, type_name: str, v: Var, flt: Any) -> list[Pred]:
        """One predicate per filter input that is set (name searches are the caller's)."""
        if flt is None:
            return []
        conditions = []
        for f in type(flt).__strawberry_definition__.fields:
            value = getattr(flt, f.python_name)
            on = f.metadata.get(FILTER)
            if not _set(value) or isinstance(on, NameSearch):
                continue
            assert isinstance(on, On), f.python_name
            label = f"filter.{self.schema.config.name_converter.get_graphql_name(f)}"
            conditions.append(self.condition(type_name, v, on, value, label))
        return conditions

    def condition(self, type_name: str, v: Var, on: On, value: Any, label: str) -> Pred:
        """The filter ``on`` with ``value``, comparing the value the caller is shown."""
        if isinstance(value, Enum):
            value = value.value
        elif on.country:
            value = country_code(value, label)
        elif isinstance(value, str):
            value = str(value)  # an ID is a str subclass; dates stay dates, compared as dates
        refused = GatewayError(Code.BAD_USER_INPUT, f"you may not filter by {on.field}")
        relation, _, field_name = on.field.rpartition(".")
        if relation:
            related = self._related_rows(type_name, relation, v)
            expression = self.field(related[0].target, field_name, related[1]) if related else None
            if related is None or expression is None:
                raise refused
            rel, t, predicate = related
            match = all_of(predicate, expression.compare(on.op, self.parameter(value)))
            found = Pred(f"EXISTS {{ MATCH {rel.pattern.render(v, t)} WHERE {match} }}")
        else:
            expression = self.field(type_name, field_name, v)
            if expression is None:
                raise refused
            found = expression.compare(on.op, self.parameter(value))
        if on.also:
            also = self.field(type_name, on.also, v)
            if also is None:
                raise refused
            found = Pred(f"coalesce({also}, false)") | found
        return found

    # --- projections ---------------------------------------------------------------

    def projection(self, type_name: str, v: Var | str, selections: Sequence[Selection]) -> str:
        """A Cypher map with one entry per response key of the selection on ``v``."""
        v = v if isinstance(v, Var) else Var(v)
        fields = _fields(self.schema, type_name)
        entries: list[tuple[str, Expr | str]] = []
        if type_name in policy.PERSONAL:
            entries.append((REF, f"'{name(type_name)}:' + {self._ref(type_name, v)}"))
        for key, (field_name, _args, subs) in merge(selections, type_name).items():
            if field_name == "__typename":
                entries.append((key, f"'{name(type_name)}'"))
                continue
            entries.append((key, self._value(type_name, field_name, fields[field_name], v, subs)))
        return str(Projection.of(entries))

    def _ref(self, type_name: str, v: Var) -> str:
        if type_name == "TravelDocument":
            return f"{v}.issuingCountry + ':' + {v}.number"
        return f"toString({v}.id)"

    def _value(
        self, type_name: str, field_name: str, mapping: FieldMap, v: Var, subs: Sequence[Selection]
    ) -> str:
        # Unlisted reads null; a non-null list reads [] (a nullable one null, like a masked value).
        hidden = "[]" if mapping.is_list and not mapping.nullable else "null"
        if isinstance(mapping.graph, Relation):
            related = self._related_rows(type_name, field_name, v)
            return self.related(v, related, subs) if related else hidden
        expression = self.field(type_name, field_name, v)
        return str(expression) if expression is not None else hidden

    def related(self, v: Var, related: tuple[Relation, Var, Pred], subs: Sequence[Selection]) -> str:
        """A ``COLLECT`` of the targets the caller sees, in the relation's order (through the view)."""
        rel, t, predicate = related
        limit = NESTED_LIMIT if rel.many else 1
        rows = (
            f"COLLECT {{ MATCH {rel.pattern.render(v, t)} WHERE {predicate} "
            f"WITH {t} {self.order(rel.target, t, rel.order)}LIMIT {limit} "
            f"RETURN {self.projection(rel.target, t, subs)} }}"
        )
        return rows if rel.many else f"head({rows})"

    # --- root shapes ---------------------------------------------------------------

    def one(self, label: str, key: str, value: Any, selections: Sequence[Selection]) -> Statement:
        v = Var("v")
        return self.statement(
            f"MATCH ({v}:{name(label)} {{{name(key)}: {self.parameter(value)}}}) WHERE {self.visible(label, v)} "
            f"RETURN {self.projection(label, v, selections)} AS row LIMIT 1"
        )

    def every(self, label: str, selections: Sequence[Selection]) -> Statement:
        """Every visible record of a small, non-personal type (countries)."""
        v = Var("v")
        return self.statement(
            f"MATCH ({v}:{name(label)}) WHERE {self.visible(label, v)} "
            f"WITH {v} {self.order(label, v, ())}RETURN {self.projection(label, v, selections)} AS row"
        )

    def connection(
        self,
        label: str,
        conditions: Sequence[Pred],
        sort: Sequence[SortKey],
        pg: Page,
        selections: Sequence[Selection],
        source: str | None = None,
        asked: bool = False,
    ) -> Statement:
        """A page of visible matches and, only when asked, their count.

        With a count and a page, the matches are found once: their node references are
        collected (references, never projections), counted, and the page is cut from them,
        so every row's predicates are evaluated once rather than once for the count and once
        for the page (half the db hits). A count alone (no edges, no pageInfo: its cursors and
        hasNextPage need the page) counts and collects nothing.

        A page after a cursor holds the rows past the cursor's position in the order
        (keyset, ``gateway.cypher.cursors``), found as the first page is, never by counting
        past the earlier rows. With no row to read (FALSE) a cursor has nothing to be
        checked against, and the page is empty whatever it says. A page without a count is
        read in the order of its first sort key's index where it can be (``_seek``), so its
        row predicates are evaluated only until the page is full."""
        v = Var("v")
        source_given = source is not None
        source = source or f"MATCH ({v}:{name(label)})"
        where = all_of(self.visible(label, v), *conditions)
        order = self.ordering(label, v, sort, asked)
        counted = selects(selections, "totalCount")
        seek = None if counted else self._seek(label, v, where, order, pg, source_given)
        beyond = TRUE
        if seek is None and pg.after is not None and not where.is_false:
            beyond = cursors.after(order, pg.after, pg.after_text, self.parameter)
        nodes = sub(selections, "edges", "node")
        rows = f"RETURN collect({self.projection(label, v, nodes)}) AS rows, collect({order.values()}) AS keys }} "
        parts = []
        if counted and not selects(selections, "edges") and not selects(selections, "pageInfo"):
            parts.append(f"CALL () {{ {source} WITH {v} WHERE {where} RETURN count({v}) AS total }} ")
            parts.append("RETURN total, [] AS rows, [] AS keys")
        elif counted:
            window = f"{order.by()}LIMIT {self.parameter(pg.first + 1)} "
            parts.append(f"CALL () {{ {source} WITH {v} WHERE {where} RETURN collect({v}) AS matched }} ")
            after = "" if beyond.is_true else f"WHERE {beyond} "
            parts.append(f"CALL (matched) {{ UNWIND matched AS {v} WITH {v} {after}{window}{rows}")
            parts.append("RETURN size(matched) AS total, rows, keys")
        elif seek is not None:
            parts.append(f"CALL () {{ {seek}{rows}")
            parts.append("RETURN -1 AS total, rows, keys")
        else:
            window = f"{order.by()}LIMIT {self.parameter(pg.first + 1)} "
            parts.append(
                f"CALL () {{ {source} WITH {v} WHERE {all_of(where, beyond)} WITH {v} {window}{rows}"
            )
            parts.append("RETURN -1 AS total, rows, keys")
        statement = self.statement("".join(parts))
        statement.order = order
        return statement

    def _seek(
        self, label: str, v: Var, where: Pred, order: Order, pg: Page, source_given: bool
    ) -> str | None:
        """A page without a count, found in the order of an index on its first sort key:
        the rows where that key has a value, read in the index's order, so the scan (and the
        row predicates, the costly part) stops once the page is full; then, only if the page
        is not full yet, the rows where it is null (Neo4j orders them last ascending). Text
        that leaves the page's rows as ``v``; None when the first key is descending, is not a
        stored property read as is, or the rows come from a full-text search: the plain sort."""
        first = order.keys[0] if order.keys else None
        if source_given or first is None or first.descending or len(order.keys) < 2 or where.is_false:
            # Descending, the nulls come first: finding them is a scan of every row, each page
            # (and an NCB's predicate led the planner to other indexes, measured): sorted.
            return None
        k = first.expression
        if not re.fullmatch(rf"{v}\.[A-Za-z_][A-Za-z0-9_]*", str(k)):
            return None
        valued, null = cursors.split(order, pg.after, pg.after_text, self.parameter)
        n = self.parameter(pg.first + 1)
        branches = [(Pred(f"{k} IS NOT NULL"), valued), (Pred(f"{k} IS NULL"), null)]
        kept = [all_of(has, part, where) for has, part in branches if not part.is_false]
        text, found = "", list[str]()
        for i, predicate in enumerate(kept):
            b = f"b{i}"
            branch = (
                f"MATCH ({v}:{name(label)}) WHERE {predicate} "
                f"WITH {v} {order.by()}LIMIT {n} RETURN collect({v}) AS {'found' if found else b}"
            )
            if found:
                # Read only when the page is short. The check comes before a subquery of its
                # own: in one with the MATCH, the planner would scan first and filter after.
                earlier = ", ".join(found)
                branch = (
                    f"WITH {earlier} WHERE size({' + '.join(found)}) < {n} CALL () {{ {branch} }} "
                    f"RETURN coalesce(head(collect(found)), []) AS {b}"
                )
            text += f"CALL ({', '.join(found)}) {{ {branch} }} "
            found.append(b)
        together = " + ".join(found) if found else "[]"
        return f"{text}UNWIND ({together})[..{n}] AS {v} "


def shape_connection(
    selections: Sequence[Selection],
    rows: list[dict[str, Any]],
    total: int,
    pg: Page,
    keys: list[list[Any]],
    order: Order | None,
) -> dict[str, Any]:
    """The connection's wrapper fields, by response key, around the rows of one page; each
    row's cursor is made of its ``keys`` in the statement's ``order``."""
    has_next = len(rows) > pg.first
    rows, keys = rows[: pg.first], keys[: pg.first]
    assert order is not None or not rows, "a connection's statement carries its order"
    tag = order.tag if order is not None else ""
    edges = [{"cursor": cursors.encode(tag, k), "node": r} for r, k in zip(rows, keys, strict=True)]
    info = {
        "hasNextPage": has_next,
        "hasPreviousPage": pg.after is not None,
        "startCursor": edges[0]["cursor"] if edges else None,
        "endCursor": edges[-1]["cursor"] if edges else None,
    }
    out: dict[str, Any] = {}
    for key, (field_name, _args, subs) in merge(selections).items():
        if field_name == "totalCount":
            out[key] = total
        elif field_name == "pageInfo":
            out[key] = {k: info[n] for k, (n, _a, _s) in merge(subs).items() if n in info}
        elif field_name == "edges":
            out[key] = [{k: e[n] for k, (n, _a, _s) in merge(subs).items() if n in e} for e in edges]
    return out


# --- Root statements with their filters ---------------------------------------------------
# Filters on related records test only related records the caller may see, so a filter can
# never reveal a hidden record (the bypass through related-type filters that generic
# GraphQL-to-Cypher layers are known for). Each filter and sort reads the field it names
# through the view: the value the caller is shown, and only a field it may read.

V = Var("v")


def _sort(asked: SortKey | None, default: SortKey) -> tuple[tuple[SortKey, ...], bool]:
    return ((asked,), True) if asked is not None else ((default,), False)


def _listing(
    c: Compiler, label: str, flt: Any, sort: SortKey | None, default: SortKey, pg: Page,
    selections: Sequence[Selection], source: str | None = None,
) -> Statement:  # fmt: skip
    if c.visible(label, V).is_false:
        # No row to read, so nothing a filter or sort could tell: the empty page, as for
        # any caller whose rows do not match (R17); refusals are for rows the caller sees.
        return c.connection(label, [FALSE], (), pg, selections)
    keys, asked = _sort(sort, default)
    return c.connection(label, c.filters(label, V, flt), keys, pg, selections, source, asked)


def persons(
    c: Compiler, flt: Any, sort: SortKey | None, pg: Page, selections: Sequence[Selection]
) -> Statement:
    source = None
    if flt is not None and _set(flt.name):
        query = lucene_query(flt.name, fields=view.searchable_names(c.caller))
        source = f"CALL db.index.fulltext.queryNodes('person_names', {c.param(query)}) YIELD node AS {V}"
    return _listing(c, "Person", flt, sort, SortKey("familyName"), pg, selections, source)


def notices(
    c: Compiler, flt: Any, sort: SortKey | None, pg: Page, selections: Sequence[Selection]
) -> Statement:
    return _listing(c, "Notice", flt, sort, NOTICE_ORDER, pg, selections)


def diffusions(
    c: Compiler, flt: Any, sort: SortKey | None, pg: Page, selections: Sequence[Selection]
) -> Statement:
    return _listing(c, "Diffusion", flt, sort, DIFFUSION_ORDER, pg, selections)


def applications(
    c: Compiler, flt: Any, sort: SortKey | None, pg: Page, selections: Sequence[Selection]
) -> Statement:
    return _listing(c, "AsylumApplication", flt, sort, SortKey("lodgedAt", True), pg, selections)


def identity_links(
    c: Compiler, flt: Any, sort: SortKey | None, pg: Page, selections: Sequence[Selection]
) -> Statement:
    """Candidate and verified identity links whose two persons the caller sees (R16, R18):
    the row predicate of ``IdentityLink`` carries the person predicate for both."""
    return _listing(c, "IdentityLink", flt, sort, SortKey("score", True), pg, selections)


def due_for_review(c: Compiler, pg: Page, selections: Sequence[Selection]) -> Statement:
    """R14: the caller's own live notices whose review window has opened."""
    return c.connection(
        "Notice", [policy.due_for_review(c.caller, V)], (SortKey("expiresAt"),), pg, selections
    )


def notifications(c: Compiler, flt: Any, pg: Page, selections: Sequence[Selection]) -> Statement:
    conditions = c.filters("StatusNotification", V, flt)
    return c.connection("StatusNotification", conditions, (SortKey("createdAt", True),), pg, selections)


def access_events(c: Compiler, flt: Any, pg: Page, selections: Sequence[Selection]) -> Statement:
    conditions = c.filters("AccessEvent", V, flt)
    # Newest first across every process's chain (sequence numbers count within a chain).
    newest = (SortKey("at", True), SortKey("seq", True))
    return c.connection("AccessEvent", conditions, newest, pg, selections)


def _edges(rels: str, among: str | None = None) -> str:
    keep = f" WHERE startNode(rel) IN {among} AND endNode(rel) IN {among}" if among else ""
    return f"[rel IN {rels}{keep} | {{source: startNode(rel).id, target: endNode(rel).id, kind: rel.kind}}]"


def links(c: Compiler, person_id: str, depth: int, selections: Sequence[Selection]) -> Statement:
    """R16: the neighbourhood reached through visible persons only; hidden ones cut paths.
    At most ``MAX_LINKED`` persons, nearest first, then by id (DECISIONS 6)."""
    if not 1 <= depth <= 3:
        raise GatewayError(Code.BAD_USER_INPUT, f"depth must be between 1 and 3, got {depth}")
    x = Var("x")
    hop = view.link_step(c.caller, x)
    s = Var("s")
    steps = f"(()-[r:ASSOCIATE_OF]-({x}:Person) WHERE {hop}){{1,{depth}}}"
    # The order of persons reads their ids through the view, like every order.
    by_id = c.field("Person", "id", Var("o"))
    others = c.parameter(MAX_LINKED - 1)  # besides the start
    return c.statement(
        f"MATCH ({s}:Person {{id: {c.parameter(person_id)}}}) WHERE {c.visible('Person', s)} "
        f"CALL ({s}) {{ OPTIONAL MATCH q = ({s}) {steps} (o) "
        f"WITH {s}, o, min(length(q)) AS d WHERE o IS NOT NULL AND o <> {s} "
        f"WITH o, d ORDER BY d, {by_id} LIMIT {others} + 1 "
        "RETURN collect(o) AS others } "
        f"WITH {s}, [{s}] + others[..{others}] AS kept, size(others) > {others} AS truncated "
        f"CALL ({s}) {{ OPTIONAL MATCH q = ({s}) {steps} (o) "
        "UNWIND (CASE WHEN q IS NULL THEN [] ELSE relationships(q) END) AS rel "
        "RETURN collect(DISTINCT rel) AS rels } "
        "UNWIND kept AS v "
        f"WITH kept, truncated, rels, collect({c.projection('Person', 'v', sub(selections, 'nodes'))}) AS nodes "
        f"RETURN {{nodes: nodes, truncated: truncated, edges: {_edges('rels', 'kept')}}} AS row"
    )


def path(c: Compiler, source: str, target: str, max_depth: int, selections: Sequence[Selection]) -> Statement:
    """R16: the shortest path whose every person the caller may see, or nothing."""
    if not 1 <= max_depth <= 6:
        raise GatewayError(Code.BAD_USER_INPUT, f"maxDepth must be between 1 and 6, got {max_depth}")
    x = Var("x")
    hop = view.link_step(c.caller, x)
    return c.statement(
        f"MATCH (a:Person {{id: {c.parameter(source)}}}) WHERE {c.visible('Person', 'a')} "
        f"MATCH (b:Person {{id: {c.parameter(target)}}}) WHERE {c.visible('Person', 'b')} "
        f"MATCH p = SHORTEST 1 (a) (()-[r:ASSOCIATE_OF]-({x}:Person) WHERE {hop}){{1,{max_depth}}} (b) "
        "UNWIND nodes(p) AS v "
        f"WITH p, collect({c.projection('Person', 'v', sub(selections, 'nodes'))}) AS nodes "
        f"RETURN {{length: length(p), nodes: nodes, edges: {_edges('relationships(p)')}}} AS row"
    )
