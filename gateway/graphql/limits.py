"""Limits on a GraphQL request: depth, aliases and cost, checked before anything runs.

One validation rule walks each operation (following fragments) and reports
``QUERY_TOO_COMPLEX`` when the selection nests too deep, uses too many aliases, or costs
too much. Cost counts one per field, multiplied along lists by how many rows they can
return: a connection's ``first`` (its maximum when given through a variable), and an
estimate for nested lists. The token limit is graphql-core's own, through Strawberry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

from gateway.cypher.compiler import MAX_FIRST
from gateway.errors import Code

NESTED_LIST_WEIGHT = 10  # average rows of a nested list (a person's notices, a notice's recipients)


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_cost: int


def _unwrap(t: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(t, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(t, GraphQLList)
        t = t.of_type
    return t, is_list


def _first(node: FieldNode) -> int | None:
    for arg in node.arguments or ():
        if arg.name.value == "first":
            return int(arg.value.value) if isinstance(arg.value, IntValueNode) else MAX_FIRST
    return None


def _too_complex(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": Code.QUERY_TOO_COMPLEX.value})


def rule(limits: Limits) -> type[ValidationRule]:
    class RequestLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments = {
                d.name.value: d for d in context.document.definitions if isinstance(d, FragmentDefinitionNode)
            }

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            root = self.context.schema.get_root_type(node.operation)
            aliases, depth, cost = self.measure(node.selection_set, root, set())
            if depth > limits.max_depth:
                self.report_error(
                    _too_complex(f"the query nests {depth} levels; the limit is {limits.max_depth}")
                )
            if aliases > limits.max_aliases:
                self.report_error(
                    _too_complex(f"the query uses {aliases} aliases; the limit is {limits.max_aliases}")
                )
            if cost > limits.max_cost:
                self.report_error(_too_complex(f"the query costs {cost}; the limit is {limits.max_cost}"))

        def measure(
            self, selection_set: SelectionSetNode | None, parent: Any, seen: set[str]
        ) -> tuple[int, int, int]:
            """(aliases, depth, cost) of a selection set; ``seen`` holds the fragments spread on
            the path here, so a cycle stops while every other spread counts in full."""
            aliases, depth, cost = 0, 0, 0
            for selection in selection_set.selections if selection_set else ():
                if isinstance(selection, FieldNode):
                    aliases += selection.alias is not None
                    if selection.name.value.startswith("__"):
                        # Introspection has its own switch and its standard query nests deep:
                        # it counts for aliases and one unit of cost, not for depth.
                        cost += 1
                        continue
                    field = (
                        parent.fields.get(selection.name.value)
                        if isinstance(parent, GraphQLObjectType)
                        else None
                    )
                    child, is_list = _unwrap(field.type) if field else (None, False)
                    a, d, c = self.measure(selection.selection_set, child, seen)
                    rows = min(_first(selection) or (NESTED_LIST_WEIGHT if is_list else 1), MAX_FIRST)
                    aliases, depth, cost = aliases + a, max(depth, 1 + d), cost + 1 + rows * c
                    continue
                if isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is None or name in seen:
                        continue
                    inner: SelectionSetNode | None = fragment.selection_set
                    condition: NamedTypeNode | None = fragment.type_condition
                    path = seen | {name}  # per path: siblings may spread it again, at full cost
                else:
                    assert isinstance(selection, InlineFragmentNode)
                    inner, condition, path = selection.selection_set, selection.type_condition, seen
                target = self.context.schema.get_type(condition.name.value) if condition else parent
                a, d, c = self.measure(inner, target, path)
                aliases, depth, cost = aliases + a, max(depth, d), cost + c
            return aliases, depth, cost

    return RequestLimits
