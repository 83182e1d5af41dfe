"""The caller directory: who is asking, read from the graph rather than trusted from the
token (R1).

The agency's kind, country, active flag and its NCB authorisation with scopes come from the
graph, cached for a few seconds so that a deactivation or a withdrawn authorisation takes
effect within that time.
"""

from __future__ import annotations

import time

from gateway.errors import Code, GatewayError
from gateway.rules.caller import Caller
from gateway.store.db import Graph
from graph_schema.model import AgencyKind, Scope

# An NCB holds every scope for its own country; a national entity what its NCB granted.
_AGENCY = """
MATCH (a:Agency {id: $agency})
OPTIONAL MATCH (a)-[:OF_COUNTRY]->(c:Country)
OPTIONAL MATCH (a)-[auth:AUTHORIZED_BY]->(ncb:Agency {kind: 'NCB', active: true})-[:OF_COUNTRY]->(c)
RETURN a.kind AS kind, a.subtype AS subtype, a.active AS active, c.code AS country,
       auth.scopes AS scopes
"""


# Every request waits for this look-up (when the cache has no answer): a graph that cannot
# answer one indexed look-up in this time is not serving, whatever it says.
LOOKUP_TIMEOUT = 5.0


class CallerUnknown(Exception):
    """The agency does not exist, is inactive, or lacks an authorisation from its NCB."""


class CallerDirectory:
    def __init__(self, graph: Graph, ttl: float) -> None:
        self._graph = graph  # its reads map an unreachable graph to SERVICE_UNAVAILABLE
        self._ttl = ttl
        self._cache: dict[tuple[str, str], tuple[float, Caller | None]] = {}

    async def resolve(self, user: str, agency: str) -> Caller:
        key = (user, agency)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is None or hit[0] < now:
            hit = (now + self._ttl, await self._load(user, agency))
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = hit
        if hit[1] is None:
            raise CallerUnknown(agency)
        return hit[1]

    async def _load(self, user: str, agency: str) -> Caller | None:
        try:
            records = await self._graph.read(_AGENCY, {"agency": agency}, timeout=LOOKUP_TIMEOUT)
        except GatewayError as error:
            raise GatewayError(
                Code.SERVICE_UNAVAILABLE, "the graph is unavailable; try again shortly"
            ) from error
        if not records or not records[0]["active"]:
            return None
        row = records[0]
        kind = AgencyKind(row["kind"])
        if kind == AgencyKind.NCB:
            scopes = frozenset(Scope)
        elif kind == AgencyKind.NATIONAL_ENTITY:
            if row["scopes"] is None:  # no authorisation traceable to its own NCB
                return None
            scopes = frozenset(Scope(s) for s in row["scopes"])
        else:
            scopes = frozenset()
        return Caller(user, agency, kind, row["subtype"], row["country"], scopes)
