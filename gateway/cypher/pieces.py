"""The typed pieces statements are built from: variables, parameters, expressions,
predicates, relationship patterns and map projections.

Each piece renders to trusted Cypher text. User values enter only as ``Param``
placeholders (the value travels in the parameter map); names that become text (variables,
properties, labels, relationship types, projection keys) are checked against the
identifier grammar, and constant literals against a closed alphabet, so nothing a caller
sends can become Cypher syntax. Predicates know the constants ``TRUE`` and ``FALSE`` and
fold them when combined, so no caller compares rendered text with ``"false"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CONSTANT = re.compile(r"^[A-Za-z0-9_ .,:'-]*$")  # code constants only, never user values


def name(text: str) -> str:
    """An identifier that may appear in Cypher text as is."""
    if not IDENTIFIER.match(text):
        raise ValueError(f"not a Cypher identifier: {text!r}")
    return text


def literal(value: str | bool | int | None) -> Expr:
    """A constant written in the code (a status, a kind, the generic reason): never a user value."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, int):
        return Expr(str(value))
    if not CONSTANT.match(value):
        raise ValueError(f"not a constant literal: {value!r}")
    return Expr("'" + value.replace("'", "\\'") + "'")


@dataclass(frozen=True)
class Expr:
    """A Cypher expression."""

    text: str

    def __str__(self) -> str:
        return self.text

    def compare(self, op: Comparison, other: Expr | Param) -> Pred:
        # Parenthesised: ``NOT a = b`` would read as ``NOT (a = b)``.
        return Pred(f"({self}) {op} {other}")


Comparison = Literal["=", "<>", "<", "<=", ">", ">=", "IN"]


NULL = Expr("null")


@dataclass(frozen=True)
class Pred(Expr):
    """A Cypher predicate; ``&``, ``|`` and ``~`` fold the constants."""

    @property
    def is_false(self) -> bool:
        return self is FALSE or self.text == "false"

    @property
    def is_true(self) -> bool:
        return self is TRUE or self.text == "true"

    def __and__(self, other: Pred) -> Pred:
        return all_of(self, other)

    def __or__(self, other: Pred) -> Pred:
        return any_of(self, other)

    def __invert__(self) -> Pred:
        if self.is_true:
            return FALSE
        if self.is_false:
            return TRUE
        return Pred(f"NOT ({self})")


TRUE = Pred("true")
FALSE = Pred("false")


def all_of(*preds: Pred) -> Pred:
    parts = [p for p in preds if not p.is_true]
    if any(p.is_false for p in parts):
        return FALSE
    if not parts:
        return TRUE
    return parts[0] if len(parts) == 1 else Pred("(" + " AND ".join(f"({p})" for p in parts) + ")")


def any_of(*preds: Pred) -> Pred:
    parts = [p for p in preds if not p.is_false]
    if any(p.is_true for p in parts):
        return TRUE
    if not parts:
        return FALSE
    return parts[0] if len(parts) == 1 else Pred("(" + " OR ".join(f"({p})" for p in parts) + ")")


@dataclass(frozen=True)
class Var:
    """A node variable of a statement."""

    name: str

    def __post_init__(self) -> None:
        name(self.name)

    def __str__(self) -> str:
        return self.name

    def prop(self, prop: str) -> Expr:
        return Expr(f"{self.name}.{name(prop)}")


@dataclass(frozen=True)
class Param:
    """A ``$name`` placeholder; its value travels in the statement's parameter map."""

    name: str

    def __post_init__(self) -> None:
        name(self.name)

    def __str__(self) -> str:
        return f"${self.name}"


@dataclass(frozen=True)
class Hop:
    """One relationship step of a pattern: its type, its direction and the label reached."""

    rel: str
    out: bool
    label: str | None = None

    def render(self, end: str) -> str:
        arrow = f"-[:{name(self.rel)}]->" if self.out else f"<-[:{name(self.rel)}]-"
        node = f"{end}:{name(self.label)}" if self.label else end
        return f"{arrow}({node})"


@dataclass(frozen=True)
class Pattern:
    """A path from one node to a target: hops, the target's label and constant properties
    the target must have (e.g. the NCB among a country's agencies)."""

    hops: tuple[Hop, ...]
    where: tuple[tuple[str, str], ...] = ()

    def render(self, v: Var | str, t: Var | str) -> str:
        text = f"({v})"
        for i, hop in enumerate(self.hops):
            text += hop.render(str(t) if i == len(self.hops) - 1 else "")
        return text

    def condition(self, t: Var | str) -> Pred:
        return all_of(*(Pred(f"{t}.{name(k)} = {literal(val)}") for k, val in self.where))

    @property
    def target(self) -> str:
        label = self.hops[-1].label
        assert label is not None, "a pattern ends at a labelled node"
        return label


def out(rel: str, label: str | None = None) -> Hop:
    return Hop(rel, True, label)


def into(rel: str, label: str | None = None) -> Hop:
    return Hop(rel, False, label)


def pattern(*hops: Hop, where: Iterable[tuple[str, str]] = ()) -> Pattern:
    return Pattern(tuple(hops), tuple(where))


KEY = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$|^~ref$")  # GraphQL names, and the audit key


@dataclass(frozen=True)
class Projection(Expr):
    """A Cypher map: response key -> expression."""

    @classmethod
    def of(cls, entries: Iterable[tuple[str, Expr | str]]) -> Projection:
        parts = []
        for key, value in entries:
            if not KEY.match(key):
                raise ValueError(f"not a response key: {key!r}")
            parts.append(f"`{key}`: {value}")
        return cls("{" + ", ".join(parts) + "}")
