"""Completing compiled rows without a resolver call per field.

Every root field compiles its whole selection into one statement whose rows already have the
response's shape: one map per object, keyed by response key (aliases included), holding
scalars, lists and the maps of related objects. graphql-core would still resolve each field
of each row through Strawberry (an ``Info``, argument conversion, middleware, the resolver
``types._from_row``) before completing it: on a page of twenty notices, most of the
in-process time.

``RowExecutor`` keeps graphql-core for everything but that walk: variables, root fields and
their resolvers (the audit's record, the purpose check, R17's floor), errors raised there,
mutations, subscriptions and introspection. When a query's field returns a value of a *row
type*, it completes the value itself, as graphql-core would: each response key read from the
row as ``_from_row`` reads it, non-null checks, lists, leaves coerced by their type's own
``coerce_output_value``, nested rows; errors located at the same paths by graphql-core's own
``handle_field_error``, in the same order, nulling the same parents.

A row type is an object type without ``is_type_of`` whose every field is read from the row
(``_from_row``, no arguments, no field extensions) and leads only to leaves and other row
types. Anything else takes graphql-core's path, as does every request with a resolver
middleware other than tracing's (which spans root fields only and passes nested ones through).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    OperationType,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path, is_iterable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gateway.graphql.types import _from_row, row_value
from gateway.observability.tracing import TracingExtension

# How a value of one output type completes: (kind, the type without its non-null wrapper,
# whether it is non-null, for LIST the items' completion and for LEAF whether a str passes as
# it is, the type itself).
LIST, LEAF, ROW = range(3)
Completion = tuple[int, Any, bool, Any, GraphQLOutputType]
# One response key of a row: (key, field name, return type, its field nodes, its completion).
Entry = tuple[str, str, GraphQLOutputType, FieldDetailsList, Completion]

TYPENAME = "__typename"
# Resolver middleware that spans root fields only: nested fields pass through it untouched.
ROOT_ONLY_MIDDLEWARE = (TracingExtension,)


def _reads_row(field: GraphQLField) -> bool:
    """The field's value is its response key's entry in the row (``types._from_row``)."""
    definition = field.extensions.get("strawberry-definition")
    resolver = getattr(definition, "base_resolver", None)
    return (
        definition is not None
        and resolver is not None
        and resolver.wrapped_func is _from_row
        and not definition.extensions
        and not getattr(definition, "permission_classes", None)
        and not field.args
    )


def _named(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


@cache
def row_types(schema: GraphQLSchema) -> frozenset[GraphQLObjectType]:
    """The schema's row types: every field read from the row, leading only to leaves and row
    types (the largest such set: candidates are dropped until none points outside it)."""
    roots = {schema.query_type, schema.mutation_type, schema.subscription_type}
    candidates = {
        t
        for name, t in schema.type_map.items()
        if isinstance(t, GraphQLObjectType)
        and not name.startswith("__")
        and t not in roots
        and t.is_type_of is None
        and all(_reads_row(f) for f in t.fields.values())
    }
    changed = True
    while changed:
        changed = False
        for t in list(candidates):
            if any(
                not is_leaf_type(_named(f.type)) and _named(f.type) not in candidates
                for f in t.fields.values()
            ):
                candidates.discard(t)
                changed = True
    return frozenset(candidates)


@cache
def _completion(type_: GraphQLOutputType) -> Completion:
    non_null = isinstance(type_, GraphQLNonNull)
    nullable = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(nullable, GraphQLList):
        return (LIST, nullable, non_null, _completion(nullable.of_type), type_)
    if isinstance(nullable, GraphQLObjectType):
        return (ROW, nullable, non_null, None, type_)
    # graphql-core's String and ID coerce a str to itself: no call needed for one.
    return (LEAF, nullable, non_null, nullable is GraphQLString or nullable is GraphQLID, type_)


class RowExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, completing values of row types from the rows themselves."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middleware = self.middleware_manager.middlewares if self.middleware_manager else ()
        fast = self.operation.operation == OperationType.QUERY and all(
            isinstance(m, ROOT_ONLY_MIDDLEWARE) for m in middleware
        )
        self._rows = row_types(self.schema) if fast else frozenset()
        self._plans: dict[tuple[GraphQLObjectType, int], list[Entry]] = {}

    def collect_and_execute_subfields(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        if return_type in self._rows:
            return self._row(return_type, field_details_list, path, result)
        return super().collect_and_execute_subfields(
            return_type, field_details_list, path, result, position_context
        )

    def _plan(self, type_: GraphQLObjectType, field_details_list: FieldDetailsList) -> list[Entry]:
        """The response keys of a selection on a row type, once per request and selection,
        by graphql-core's own field collection (fragments, @skip/@include, merged keys)."""
        key = (type_, id(field_details_list))  # graphql-core keeps the list alive for its memo
        plan = self._plans.get(key)
        if plan is None:
            plan = []
            for response_key, details in self.collect_subfields(
                type_, field_details_list
            ).grouped_field_set.items():
                name = details[0].node.name.value
                field = self.schema.get_field(type_, name)
                if field is not None:  # as execute_field: an unknown field is left out
                    plan.append((response_key, name, field.type, details, _completion(field.type)))
            self._plans[key] = plan
        return plan

    def _row(
        self, type_: GraphQLObjectType, field_details_list: FieldDetailsList, path: Path, row: Any
    ) -> Any:
        """execute_fields and execute_field over one row, without resolvers."""
        out: dict[str, Any] = {}
        type_name = type_.name
        for key, name, return_type, details, completion in self._plan(type_, field_details_list):
            field_path = Path(path, key, type_name)
            try:
                value = type_name if name == TYPENAME else row_value(row, key)
                out[key] = self._complete(completion, details, type_, name, field_path, value)
            except Exception as raw_error:
                self.handle_field_error(raw_error, return_type, details, field_path)
                out[key] = None
        return out

    def _complete(
        self, completion: Completion, details: FieldDetailsList, parent: GraphQLObjectType,
        name: str, path: Path, value: Any,
    ) -> Any:  # fmt: skip
        """complete_value, for a value read from a row (plain data, never awaitable). A
        non-null type's completion is None only for a null value: the inner completions
        return a value or raise."""
        if isinstance(value, Exception):
            raise value
        kind, type_, non_null, inner, _ = completion
        if value is None or value is Undefined:
            if non_null:
                raise TypeError(f"Cannot return null for non-nullable field {parent}.{name}.")
            return None
        if kind == LEAF:
            return value if inner and type(value) is str else self.complete_leaf_value(type_, value)
        if kind == ROW:
            return self._row(type_, details, path, value)
        if not is_iterable(value):
            raise GraphQLError(f"Expected Iterable, but did not find one for field '{parent}.{name}'.")
        items: list[Any] = []
        for index, item in enumerate(value):
            item_path = path.add_key(index, None)
            try:
                items.append(self._complete(inner, details, parent, name, item_path, item))
            except Exception as raw_error:
                self.handle_field_error(raw_error, inner[4], details, item_path)
                items.append(None)
        return items
