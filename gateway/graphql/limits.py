"""Limits on a GraphQL request: depth, aliases and cost, checked before anything runs.

Depth and aliases depend on the document alone: a validation rule checks them (and its
verdict is cached with the document). Cost depends on the variables too (``first: $n``), so
an extension checks it after validation, when the variables are known, and before any
resolver runs. Both walk the operation with one ``Walker`` that measures each fragment once
per parent type (and page size), so checking grows with the document, never with its
expansion: a chain of fragments that each spread the next twice costs a few steps per
fragment, not 2^N. Cycles are graphql-core's to report (NoFragmentCycles); the walker
counts a fragment being measured as empty and carries on.

The cost model estimates the rows Neo4j reads for the answer (see ``Walker.field``):
scalar properties are free (they are read with their row), an expression field costs one,
a relation to one record one row, a nested list ``NESTED_ROWS`` times its rows' cost (an
estimate of a typical list; the compiler caps each at ``NESTED_LIMIT``, and the read timeout
bounds the worst case), a connection its ``first`` (literal, variable or default) times its rows'
cost, and ``totalCount``, ``screen``, ``links`` and ``path`` the work their Cypher does.
The token limit is graphql-core's own, through Strawberry.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLID,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_operation_ast,
    type_from_ast,
)
from strawberry.extensions import SchemaExtension

from gateway.cypher.compiler import MAX_FIRST
from gateway.cypher.screening import MATCHED_PERSONS
from gateway.errors import Code
from gateway.graphql.types import GRAPH, Computed, Relation

# The rows a nested list (a person's notices, a diffusion's recipients) is costed at: a
# typical list, not its cap, so that an investigator's card with two nested lists passes
# while a page of lists of lists is refused.
NESTED_ROWS = 10
# The work of the statements that do more than read rows, in rows.
TOTAL_COUNT = 100  # counts every visible match: a scan, whatever the page
SCREEN_WORK = 200  # the name-key look-up's candidates, narrowed to MATCHED_PERSONS
LINK_NODES = 200  # the most nodes `links` returns (DECISIONS 6)
LINK_WORK_PER_HOP = 200  # expanding the neighbourhood by one hop
PATH_WORK_PER_HOP = 100  # one more hop of the shortest-path search
# Lists that are not relations: how many rows each can hold.
ROW_BOUNDS = {
    ("LinkGraph", "nodes"): LINK_NODES,
    ("LinkGraph", "edges"): LINK_NODES,
    ("Path", "nodes"): 7,  # maxDepth 6 at most: 7 persons, 6 links
    ("Path", "edges"): 6,
    ("ScreeningResult", "matches"): MATCHED_PERSONS,  # about one item per listed person
    ("Query", "countries"): 250,  # every member country
    ("Query", "watchedPersons"): 1_000,  # store.watches.MAX_WATCHES per agency
    ("Query", "savedScreenings"): 100,  # store.watches.MAX_SAVED_SCREENINGS per agency
}
_CAP = 10**15  # costs saturate here: a fragment bomb's cost need not be computed exactly


# Every ID the API takes is bounded: ids are short ("P-DEMO-001", "ncb-fr"), and a long one
# would be copied into errors and into the append-only audit log of a refused write.
MAX_ID_LENGTH = 64


def _long_id_error() -> GraphQLError:
    return GraphQLError(
        f"an ID is at most {MAX_ID_LENGTH} characters", extensions={"code": Code.BAD_USER_INPUT.value}
    )


def _holds_long_id(value: Any, type_: Any) -> bool:
    """Whether a variable's value holds an ID longer than the bound, anywhere inside it."""
    if isinstance(type_, GraphQLNonNull):
        return _holds_long_id(value, type_.of_type)
    if isinstance(type_, GraphQLList):
        items = value if isinstance(value, list) else [value]
        return any(_holds_long_id(v, type_.of_type) for v in items)
    if type_ is GraphQLID:
        return isinstance(value, str) and len(value) > MAX_ID_LENGTH
    if isinstance(type_, GraphQLInputObjectType) and isinstance(value, dict):
        return any(k in type_.fields and _holds_long_id(v, type_.fields[k].type) for k, v in value.items())
    return False


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_cost: int
    max_cost_public: int | None = None  # for callers without a token; None: max_cost


@dataclass(frozen=True)
class Measure:
    aliases: int = 0
    depth: int = 0
    cost: int = 0


def _named(t: Any) -> tuple[Any, bool]:
    """The named type under any wrappers, and whether a list is among them."""
    is_list = False
    while isinstance(t, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(t, GraphQLList)
        t = t.of_type
    return t, is_list


def _too_complex(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": Code.QUERY_TOO_COMPLEX.value})


class Walker:
    """Measures selection sets; ``variables`` None means the document alone (no cost)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any] | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.defaults = defaults or {}
        self.memo: dict[tuple[str, str, int], Measure | None] = {}  # None: being measured

    def operation(self, node: OperationDefinitionNode) -> Measure:
        return self.selections(node.selection_set, self.schema.get_root_type(node.operation), 1)

    def selections(self, selection_set: SelectionSetNode | None, parent: Any, rows: int) -> Measure:
        """``rows``: the page size of the connection whose wrapper this is (its edges' rows)."""
        aliases, depth, cost = 0, 0, 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                m = self.field(selection, parent, rows)
                aliases, depth = aliases + m.aliases, max(depth, m.depth)
            elif isinstance(selection, FragmentSpreadNode):
                m = self.fragment(selection.name.value, parent, rows)
                aliases, depth = aliases + m.aliases, max(depth, m.depth)
            else:
                assert isinstance(selection, InlineFragmentNode)
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                m = self.selections(selection.selection_set, target, rows)
                aliases, depth = aliases + m.aliases, max(depth, m.depth)
            cost = min(cost + m.cost, _CAP)
        return Measure(aliases, depth, cost)

    def fragment(self, name: str, parent: Any, rows: int) -> Measure:
        fragment = self.fragments.get(name)
        if fragment is None:
            return Measure()  # graphql-core reports the unknown fragment
        key = (name, getattr(parent, "name", ""), rows)
        if key in self.memo:
            return self.memo[key] or Measure()  # None: a cycle, NoFragmentCycles reports it
        self.memo[key] = None
        target = self.schema.get_type(fragment.type_condition.name.value) or parent
        measured = self.memo[key] = self.selections(fragment.selection_set, target, rows)
        return measured

    def field(self, node: FieldNode, parent: Any, rows: int) -> Measure:
        alias = int(node.alias is not None)
        name = node.name.value
        if name.startswith("__"):
            # Introspection has its own switch and its standard query nests deep: it counts
            # for aliases and one unit of cost, not for depth.
            return Measure(alias, 0, 1)
        field = parent.fields.get(name) if isinstance(parent, GraphQLObjectType) else None
        if field is None:
            return Measure(alias)  # graphql-core reports the unknown field
        child, is_list = _named(field.type)
        graph = getattr(field.extensions.get("strawberry-definition"), "metadata", {}).get(GRAPH)
        page = self.first(node, field)
        inner = self.selections(node.selection_set, child, page if page is not None else 1)
        aliases, depth = alias + inner.aliases, 1 + inner.depth
        if self.variables is None:
            return Measure(aliases, depth)
        parent_name: str = parent.name
        if node.selection_set is None:  # a scalar, enum or list of them
            cost = {"totalCount": TOTAL_COUNT}.get(name, 1 if isinstance(graph, Computed) else 0)
        elif page is not None:  # a connection: one statement, `first` rows
            cost = 1 + inner.cost
        elif is_list:
            if isinstance(graph, Relation):
                bound = NESTED_ROWS
            elif name == "edges":
                bound = rows  # the enclosing connection's page
            else:
                bound = ROW_BOUNDS.get((parent_name, name), NESTED_ROWS)
            cost = bound * (1 + inner.cost)
        else:
            cost = 1 + inner.cost
        if parent is self.schema.query_type:
            cost += self.work(node, name)
        return Measure(aliases, depth, min(cost, _CAP))

    def work(self, node: FieldNode, name: str) -> int:
        """What a root field's statement does beyond reading the rows it returns."""
        if name == "screen":
            return SCREEN_WORK + MATCHED_PERSONS
        if name == "links":
            return LINK_WORK_PER_HOP * self.argument(node, "depth", 1, 3)
        if name == "path":
            return PATH_WORK_PER_HOP * self.argument(node, "maxDepth", 6, 6)
        return 0

    def first(self, node: FieldNode, field: Any) -> int | None:
        """A connection's page size as the compiler will use it; None for other fields."""
        if "first" not in field.args:
            return None
        default = field.args["first"].default_value
        return self.argument(node, "first", default if isinstance(default, int) else MAX_FIRST, MAX_FIRST)

    def argument(self, node: FieldNode, name: str, default: int, ceiling: int) -> int:
        """An integer argument, literal or through a variable, clamped to ``1..ceiling``
        (the compiler refuses values outside its range; an unknown value counts at the ceiling)."""
        value: Any = default
        for arg in node.arguments or ():
            if arg.name.value != name:
                continue
            if isinstance(arg.value, IntValueNode):
                value = int(arg.value.value)
            elif isinstance(arg.value, VariableNode):
                var = arg.value.name.value
                value = (self.variables or {}).get(var, self.defaults.get(var, default))
            else:
                value = ceiling
        if not isinstance(value, int) or isinstance(value, bool):
            return ceiling
        return max(1, min(value, ceiling))


def _fragments(definitions: Any) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}


def rule(limits: Limits) -> type[ValidationRule]:
    """Depth and aliases, from the document alone."""

    class RequestLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.walker = Walker(context.schema, _fragments(context.document.definitions))

        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            expected = self.context.get_input_type()
            if (
                expected is not None
                and get_named_type(expected) is GraphQLID
                and len(node.value) > MAX_ID_LENGTH
            ):
                self.report_error(_long_id_error())

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            measured = self.walker.operation(node)
            if measured.depth > limits.max_depth:
                self.report_error(
                    _too_complex(f"the query nests {measured.depth} levels; the limit is {limits.max_depth}")
                )
            if measured.aliases > limits.max_aliases:
                self.report_error(
                    _too_complex(
                        f"the query uses {measured.aliases} aliases; the limit is {limits.max_aliases}"
                    )
                )

    return RequestLimits


def cost(
    schema: GraphQLSchema, document: Any, operation_name: str | None, variables: Mapping[str, Any]
) -> int:
    """The cost of the operation a request runs, with its variables."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0  # graphql-core refuses the request
    defaults = {
        d.variable.name.value: int(d.default_value.value)
        for d in operation.variable_definitions or ()
        if isinstance(d.default_value, IntValueNode)
    }
    return Walker(schema, _fragments(document.definitions), variables, defaults).operation(operation).cost


def _variables_hold_long_ids(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any]
) -> bool:
    operation = get_operation_ast(document, operation_name)
    for definition in (operation.variable_definitions or ()) if operation else ():
        type_ = type_from_ast(schema, definition.type)  # type: ignore[arg-type]
        if _holds_long_id(variables.get(definition.variable.name.value), type_):
            return True
    return False


def refusal(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any],
    max_cost: int,
) -> GraphQLError | None:
    """Why an operation may not run with these variables (an over-long id, or a cost beyond
    ``max_cost``), or None. Shared by HTTP (``CostLimit``) and the WebSocket subscriptions."""
    if _variables_hold_long_ids(schema, document, operation_name, variables):
        return _long_id_error()
    total = cost(schema, document, operation_name, variables)
    if total > max_cost:
        shown = f"more than {_CAP:,}" if total >= _CAP else f"{total:,}"
        return _too_complex(f"the query costs {shown}; the limit is {max_cost:,}")
    return None


class CostLimit(SchemaExtension):
    """Refuses an operation whose cost, with its variables, exceeds the limit; nothing runs."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            caller = getattr(context.context, "caller", None)
            public = caller is not None and caller.is_public
            limit = self.limits.max_cost
            if public and self.limits.max_cost_public is not None:
                limit = min(limit, self.limits.max_cost_public)  # never more than an agency's
            error = refusal(
                context.schema._schema, document, context.operation_name, context.variables or {}, limit
            )
            if error is not None:
                context.result = ExecutionResult(None, [error])
        yield
