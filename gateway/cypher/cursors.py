"""Keyset cursors: a connection's page ends at a position in its order, not at an index.

A list's order (``Order``) is a tuple of keys read through the field view, always ending
with the type's identifying field, so it is total. A cursor names the row a page ended at
by that row's key values, as the caller read them, and the next page is the rows after it:
``(key, ..., id) > (value, ..., id)`` in each key's direction, nulls placed as Neo4j orders
them (last ascending, first descending). The database then finds a deep page as it finds
the first one, without counting its way past every earlier row.

On the wire a cursor is opaque: the unpadded base64url text of the compact JSON array
``[1, "<type>:<order>", value, ..., id]`` (the format version, the order it was issued for,
e.g. ``Notice:-requestedAt,id``, then the values: dates ISO, instants ISO to the nanosecond
with the offset they are stored with). A cursor holds only values of fields the caller may
read and sort by, which it was shown; one made by hand only bounds a range of those fields,
as a filter on them could, so cursors are checked for shape, order and kinds, not signed.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date as py_date
from datetime import datetime as py_datetime
from datetime import timezone
from typing import Any, Literal

import neo4j.time

from gateway.cypher.pieces import FALSE, TRUE, Expr, Param, Pred, all_of, any_of
from gateway.errors import Code, GatewayError

VERSION = 1
MAX_CHARS = 1024  # longer than any cursor the API issues (names are capped well below)
MAX_KEYS = 4
ECHO = 12  # characters of a refused cursor quoted back, never the whole input

Kind = Literal["string", "date", "datetime", "float", "int"]
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}[+-]\d{2}:\d{2}$")


@dataclass(frozen=True)
class Key:
    """One key of an order: the GraphQL field, the caller's expression for it, its direction
    and the kind of value it holds."""

    field: str
    expression: Expr
    descending: bool
    kind: Kind


@dataclass(frozen=True)
class Order:
    """A list's total order as the caller reads it."""

    type_name: str
    keys: tuple[Key, ...]

    @property
    def tag(self) -> str:
        return f"{self.type_name}:" + ",".join(("-" if k.descending else "") + k.field for k in self.keys)

    def by(self) -> str:
        """``ORDER BY`` text (with a trailing space), or nothing for no keys."""
        parts = [f"{k.expression} {'DESC' if k.descending else 'ASC'}" for k in self.keys]
        return f"ORDER BY {', '.join(parts)} " if parts else ""

    def values(self) -> str:
        """A Cypher list of the keys' values of a row: what its cursor is made of."""
        return "[" + ", ".join(str(k.expression) for k in self.keys) + "]"


@dataclass(frozen=True)
class Cursor:
    """A decoded cursor, not yet checked against the order of the request."""

    tag: str
    values: tuple[Any, ...]


def _refused(problem: str, text: str) -> GatewayError:
    shown = text[:ECHO] + ("…" if len(text) > ECHO else "")
    return GatewayError(Code.BAD_USER_INPUT, f"after {problem} (it begins {shown!r})")


def encode(tag: str, values: Sequence[Any]) -> str:
    """The cursor of a row whose key values (as the driver returns them) are ``values``."""
    payload = [VERSION, tag, *(_wire(v) for v in values)]
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _wire(value: Any) -> Any:
    if isinstance(value, neo4j.time.DateTime | py_datetime):
        if not isinstance(value, neo4j.time.DateTime):
            value = neo4j.time.DateTime.from_native(value)
        return value.iso_format()  # with its own offset: see _instant
    if isinstance(value, neo4j.time.Date | py_date):
        return value.isoformat()
    return value


def decode(text: str) -> Cursor:
    """A cursor's order and values; BAD_USER_INPUT for anything this API did not issue."""
    if len(text) > MAX_CHARS:
        raise _refused(f"is longer than any cursor this API issues ({len(text)} characters)", text)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        payload = json.loads(raw.decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _refused("is not a cursor this API issued", text) from None
    if not (isinstance(payload, list) and len(payload) >= 3 and isinstance(payload[1], str)):
        raise _refused("is not a cursor this API issued", text)
    if payload[0] != VERSION or isinstance(payload[0], bool):
        raise _refused("is a cursor of another version of this API: start again from the first page", text)
    values = tuple(payload[2:])
    if len(values) > MAX_KEYS or not all(_scalar(v) for v in values):
        raise _refused("is not a cursor this API issued", text)
    return Cursor(payload[1], values)


def _scalar(value: Any) -> bool:
    return value is None or (isinstance(value, str | int | float) and not isinstance(value, bool))


def after(order: Order, cursor: Cursor, text: str, parameter: Callable[[Any], Param]) -> Pred:
    """The rows after the cursor's position in ``order``: parameters only, never its values
    as text. The cursor must have been issued for this order."""
    return _beyond(order.keys, _checked(order, cursor, text), parameter)


def _checked(order: Order, cursor: Cursor, text: str) -> list[Any]:
    """The cursor's values as parameters of their keys' kinds, if it was issued for ``order``."""
    if cursor.tag != order.tag or len(cursor.values) != len(order.keys):
        raise _refused("was issued for another sort order: page with the sort it came from", text)
    if cursor.values[-1] is None:
        raise _refused("is not a cursor this API issued", text)
    return [_value(k, v, text) for k, v in zip(order.keys, cursor.values, strict=True)]


def split(
    order: Order, cursor: Cursor | None, text: str, parameter: Callable[[Any], Param]
) -> tuple[Pred, Pred]:
    """The rows after the cursor (all rows without one) as two predicates: for the rows whose
    first key has a value, and for those where it is null. Each half can then be read in the
    order of an index on that key, which stops at the page instead of sorting every row."""
    if cursor is None:
        return TRUE, TRUE
    values = _checked(order, cursor, text)
    key, k = order.keys[0], order.keys[0].expression
    rest = _beyond(order.keys[1:], values[1:], parameter) if len(order.keys) > 1 else FALSE
    if values[0] is None:
        return (TRUE if key.descending else FALSE), rest
    p = parameter(values[0])
    if key.descending:
        return all_of(k.compare("<=", p), any_of(k.compare("<", p), rest)), FALSE
    return all_of(k.compare(">=", p), any_of(k.compare(">", p), rest)), TRUE


def _value(key: Key, value: Any, text: str) -> Any:
    """A cursor value as a parameter of the key's kind, or a refusal naming the key."""
    if value is None:
        return None
    wrong = _refused(f"holds a value of the wrong kind for {key.field}", text)
    if key.kind == "string":
        if not isinstance(value, str):
            raise wrong
        return value
    if key.kind == "int":
        if not isinstance(value, int):
            raise wrong
        return value
    if key.kind == "float":
        if not isinstance(value, int | float) or (isinstance(value, int) and abs(value) > 2**53):
            raise wrong  # a hand-made integer of hundreds of digits overflows a float
        if not math.isfinite(value):
            raise wrong
        return float(value)
    if not isinstance(value, str):
        raise wrong
    try:
        if key.kind == "date" and DATE.match(value):
            return neo4j.time.Date.from_iso_format(value)
        if key.kind == "datetime" and INSTANT.match(value):
            return _instant(value)
    except ValueError:
        pass
    raise wrong


def _instant(text: str) -> neo4j.time.DateTime:
    """An instant with a fixed offset, as the gateway stores instants. Neo4j orders equal
    instants by their zones, and the driver would send ``+00:00`` as the zone ``UTC``, which
    sorts after the stored ``Z``: the row at the cursor would come again."""
    value = neo4j.time.DateTime.from_iso_format(text)
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(text)
    return value.replace(tzinfo=timezone(offset))


def _beyond(keys: Sequence[Key], values: Sequence[Any], parameter: Callable[[Any], Param]) -> Pred:
    """``(keys) > (values)`` in the order's directions. A null sorts after every value (last
    ascending, first descending), as Neo4j orders it. ``k >= $v AND (k > $v OR rest)`` rather
    than ``k > $v OR (k = $v AND rest)``: the same rows, and a range an index can seek."""
    key, value = keys[0], values[0]
    k = key.expression
    if len(keys) == 1:
        return k.compare("<" if key.descending else ">", parameter(value))
    rest = _beyond(keys[1:], values[1:], parameter)
    null = Pred(f"{k} IS NULL")
    if value is None:
        # Ascending: only the remaining nulls. Descending: the remaining nulls, then every value.
        return any_of(Pred(f"{k} IS NOT NULL"), rest) if key.descending else all_of(null, rest)
    p = parameter(value)
    if key.descending:  # the nulls came first: none is after a value
        return all_of(k.compare("<=", p), any_of(k.compare("<", p), rest))
    return any_of(all_of(k.compare(">=", p), any_of(k.compare(">", p), rest)), null)
