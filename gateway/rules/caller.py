"""The caller: who is asking, in the terms of the rules (R1).

The token names only the user and the agency; everything else here (kind, country, scopes)
is read from the graph by ``gateway.store.callers``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graph_schema.model import AgencyKind, Scope


@dataclass(frozen=True)
class Caller:
    user: str | None
    agency_id: str | None
    kind: AgencyKind | None  # None: the public
    subtype: str | None = None
    country: str | None = None
    scopes: frozenset[Scope] = field(default_factory=frozenset)

    @property
    def is_public(self) -> bool:
        return self.kind is None


PUBLIC = Caller(user=None, agency_id=None, kind=None)
