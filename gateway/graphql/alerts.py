"""Live alerts: the ``noticeAlerts`` subscription.

A subscription receives, from its process's change feed (``gateway.store.changes``), the
notices and diffusions whose ``changedAt`` moved, keeps those it has an interest in — its
country's own items (their source sees every status change), items about a person its agency
watches, items about a person matching one of its agency's saved screenings — and asks the
graph how its caller sees them now, with the statement the ``notices``/``diffusions`` queries
compile: the caller's row predicate (``policy``) and field view (``view``), so an alert shows
exactly what a query would (a block reads as a cancellation to its source, R8; a hidden item
is absent, R17).

It delivers an item when the caller's shown state of it (status, status reason, subject to
review) differs from the last one it delivered or baselined. Items about a watched person or
a screening's match that the caller already saw when the watch or screening began are
baselined without delivery, so a change the caller cannot see (a restriction that concerns
another country) never reaches it as an alert; an item that stops being visible is
forgotten, so it is delivered again when it comes back (restored, re-allowed).

Every delivery is audited like a read (R15) before it leaves; if it cannot be, the
subscription ends with an error and nothing more. The caller is checked again at least every
``RECHECK_SECONDS`` (token expiry, agency active and authorised, unchanged rights), and a
subscription whose caller no longer passes ends with an ``UNAUTHENTICATED`` error.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.cypher.compiler import Compiler, Selection, merge, sub
from gateway.cypher.pieces import Var
from gateway.cypher.screening import Identity, screening_candidates
from gateway.errors import Code, GatewayError
from gateway.graphql import types as t
from gateway.graphql.context import Context
from gateway.rules import policy
from gateway.store import audit, watches
from gateway.store.audit import AccessLog, AccessRecord
from gateway.store.callers import CallerDirectory, CallerUnknown
from gateway.store.changes import Change, ChangeFeed, Subscriber

RECHECK_SECONDS = 2.0  # with the caller cache (at most 2 s by default), revocation ends it within 5 s
BASELINE_PERSONS = 1_000  # persons a saved screening's baseline looks at, best ranked first

# The fields whose shown value makes an alert: what a status change is, as the caller sees it.
SHOWN = {"Notice": ("status", "statusReason"), "Diffusion": ("status", "subjectToReview", "statusReason")}


@dataclass
class AlertContext(Context):
    """A subscription's context: the request's, and what a long-lived operation needs."""

    feed: ChangeFeed | None = None
    callers: CallerDirectory | None = None
    audit_log: AccessLog | None = None
    expires: float | None = None  # the token's expiry (epoch seconds)
    operation: str = "anonymous"


def _later(a: Any, b: Any) -> Any:
    """The later of two graph times (neo4j DateTimes, or None for none), as a Python datetime."""
    times = [x.to_native() if hasattr(x, "to_native") else x for x in (a, b) if x is not None]
    return max(times) if times else None


@dataclass
class _Seen:
    """An item's shown state as last delivered (or baselined), per item id."""

    states: dict[str, tuple[Any, ...]] = field(default_factory=dict)


class AlertStream:
    def __init__(self, ctx: AlertContext, selections: Sequence[Selection]) -> None:
        assert ctx.feed is not None and ctx.callers is not None and ctx.audit_log is not None
        self.ctx, self.feed, self.callers, self.audit_log = ctx, ctx.feed, ctx.callers, ctx.audit_log
        self.caller = ctx.caller
        self.selections = list(selections)
        self.item_selections = {"Notice": sub(selections, "notice"), "Diffusion": sub(selections, "diffusion")}
        self.seen = _Seen()
        self.watched: dict[str, Any] = {}  # person id -> baseline cut-off (graph time)
        self.screenings: dict[str, Identity] = {}
        self.checked = time.monotonic()

    async def run(self) -> AsyncGenerator[dict[str, Any], None]:
        # The caller is checked again before anything is delivered: the connection's check at
        # connection_init may be old, and a client could otherwise subscribe again and again
        # after its token expired or its agency lost its rights.
        await self._recheck()
        subscriber = await self.feed.subscribe()
        try:
            await self._refresh(subscriber)
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(subscriber.wake.wait(), RECHECK_SECONDS)
                if time.monotonic() - self.checked >= RECHECK_SECONDS:
                    await self._recheck()
                if subscriber.overflowed:
                    raise GatewayError(Code.SERVICE_UNAVAILABLE, "too many changes at once: subscribe again")
                changes = subscriber.take()
                if not changes:
                    continue
                # Watches and screenings stored since the last batch (by any replica): what
                # they showed when they were stored is known, what changed since is news.
                await self._refresh(subscriber)
                for alert in await self._alerts(changes):
                    await self._audit(alert)
                    yield alert
        finally:
            self.feed.unsubscribe(subscriber)

    # --- the caller, again ----------------------------------------------------------

    async def _recheck(self) -> None:
        self.checked = time.monotonic()
        if self.ctx.expires is not None and time.time() >= self.ctx.expires:
            raise GatewayError(Code.UNAUTHENTICATED, "the token expired: subscribe again with a new one")
        user, agency = self.caller.user, self.caller.agency_id
        assert user is not None and agency is not None
        try:
            now = await self.callers.resolve(user, agency)
        except CallerUnknown:
            raise GatewayError(
                Code.UNAUTHENTICATED,
                "the token's agency is unknown, inactive, or not authorised by its country's NCB",
            ) from None
        if now != self.caller:
            raise GatewayError(Code.UNAUTHENTICATED, "the agency's rights changed: subscribe again")

    # --- what the agency asks about, and what it saw when it began asking -----------

    async def _refresh(self, subscriber: Subscriber) -> None:
        assert self.caller.agency_id is not None
        stored = await watches.interest(self.ctx.graph, self.caller.agency_id)
        start = subscriber.since
        new_persons = {p: _later(at, start) for p, at in stored.watched.items() if p not in self.watched}
        new_screenings = {k: v for k, v in stored.screenings.items() if k not in self.screenings}
        self.watched = {p: self.watched.get(p, new_persons.get(p)) for p in stored.watched}
        self.screenings = {k: who for k, (who, _at) in stored.screenings.items()}
        if new_persons:
            rows = [{"id": p, "cutoff": cutoff} for p, cutoff in new_persons.items()]
            for label in SHOWN:
                await self._baseline(label, "UNWIND $watched AS w MATCH (:Person {id: w.id})<-[:CONCERNS]-(v:"
                                     + label + ") WHERE (v.changedAt IS NULL OR v.changedAt <= w.cutoff) ",
                                     {"watched": rows})  # fmt: skip
        for who, at in new_screenings.values():
            ids = await self._screened(who, cutoff=_later(at, start))
            for label in SHOWN:
                mine = [i for i, lbl in ids if lbl == label]
                if mine:
                    await self._baseline(label, f"UNWIND $ids AS i MATCH (v:{label} {{id: i}}) ", {"ids": mine})

    async def _baseline(self, label: str, source: str, params: dict[str, Any]) -> None:
        for row in await self._rows(label, source, params, projection=False):
            self.seen.states[row["id"]] = tuple(row["shown"])

    async def _screened(
        self, who: Identity, among: list[str] | None = None, cutoff: Any = None
    ) -> list[tuple[str, str]]:
        """(item id, label) of the live items the caller's country may screen against about
        persons matching a saved screening: among the given persons, or all (up to
        ``BASELINE_PERSONS``) changed no later than ``cutoff``."""
        view = policy.screening_view(self.caller)
        c = Compiler(self.ctx.schema, view)
        tail = "UNWIND items AS n "
        if cutoff is not None:
            tail += f"WITH n WHERE n.changedAt IS NULL OR n.changedAt <= {c.param(cutoff)} "
        tail += "RETURN DISTINCT n.id AS id, CASE WHEN n:Notice THEN 'Notice' ELSE 'Diffusion' END AS label"
        cut = BASELINE_PERSONS if among is None else max(len(among), 1)
        cypher = screening_candidates(c, view, who, among=among, cut=cut) + tail
        rows = await self.ctx.graph.read(cypher, c.params)
        return [(r["id"], r["label"]) for r in rows]

    # --- the alerts ------------------------------------------------------------------

    async def _rows(
        self, label: str, source: str, params: dict[str, Any], projection: bool = True
    ) -> list[dict[str, Any]]:
        """The caller's visible rows of ``label`` from ``source`` (which binds ``v``), with
        their shown state and, when asked, the subscription's selection projected: the
        predicates and expressions of the notices and diffusions queries."""
        c = Compiler(self.ctx.schema, self.caller)
        v = Var("v")
        shown = ", ".join(str(c.field(label, f, v) or "null") for f in SHOWN[label])
        row = c.projection(label, v, self.item_selections[label]) if projection else "null"
        cypher = (
            f"{source}WITH v WHERE {c.visible(label, v)} "
            f"RETURN v.id AS id, [{shown}] AS shown, {row} AS row"
        )
        return await self.ctx.graph.read(cypher, {**c.params, **params})

    async def _alerts(self, changes: list[Change]) -> list[dict[str, Any]]:
        own_country = self.caller.country if not policy.own_item(self.caller, "v").is_false else None
        reasons: dict[str, list[str]] = {}
        for change in changes:
            why = []
            if own_country is not None and change.source == own_country:
                why.append("OWN_ITEM")
            if change.subject is not None and change.subject in self.watched:
                why.append("WATCHED_PERSON")
            reasons[change.id] = why
        matched: dict[str, list[str]] = {}
        subjects = sorted({c.subject for c in changes if c.subject is not None})
        if subjects:
            for screening_id, who in self.screenings.items():
                for item_id, _label in await self._screened(who, among=subjects):
                    matched.setdefault(item_id, []).append(screening_id)
        for item_id in matched:
            if item_id in reasons:
                reasons[item_id].append("SAVED_SCREENING")
        labels = {c.id: c.label for c in changes}
        alerts = []
        for label in SHOWN:
            ids = sorted(i for i, why in reasons.items() if why and labels[i] == label)
            if not ids:
                continue
            rows = {r["id"]: r for r in await self._rows(label, f"UNWIND $ids AS i MATCH (v:{label} {{id: i}}) ", {"ids": ids})}
            for item_id in ids:
                row = rows.get(item_id)
                if row is None:  # hidden now (or gone): forget it, so that its return is news
                    self.seen.states.pop(item_id, None)
                    continue
                shown = tuple(row["shown"])
                if self.seen.states.get(item_id) == shown:
                    continue
                self.seen.states[item_id] = shown
                alerts.append(self._alert(label, reasons[item_id], matched.get(item_id, []), row["row"]))
        return alerts

    def _alert(self, label: str, reasons: list[str], screenings: list[str], row: Any) -> dict[str, Any]:
        """The NoticeAlert by response key (aliases included), as the types read it."""
        out: dict[str, Any] = {}
        for key, (field_name, _args, _subs) in merge(self.selections, "NoticeAlert").items():
            if field_name == "reasons":
                out[key] = reasons
            elif field_name == "savedScreeningIds":
                out[key] = sorted(screenings)
            elif field_name == "notice":
                out[key] = row if label == "Notice" else None
            elif field_name == "diffusion":
                out[key] = row if label == "Diffusion" else None
        return out

    async def _audit(self, alert: dict[str, Any]) -> None:
        """R15: recorded before it leaves; no record, no delivery (and no more alerts)."""
        record = AccessRecord()
        record.collect(alert)
        entry = audit.event(
            self.caller.user, self.caller.agency_id, f"{self.ctx.operation}:noticeAlerts", self.ctx.purpose,
            record.ids, None,
        )  # fmt: skip
        try:
            await self.audit_log.record(entry)
        except audit.AuditUnavailable:
            raise GatewayError(
                Code.SERVICE_UNAVAILABLE, "the audit log is unavailable; no further alerts were delivered"
            ) from None


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "Live alerts over WebSocket (graphql-transport-ws): items that become visible about persons "
            "the agency watches or that match its saved screenings, and every status change of the "
            "caller's own country's items, each as the notices and diffusions queries show it."
        )
    )
    async def notice_alerts(self, info: Info) -> AsyncGenerator[t.NoticeAlert, None]:
        ctx = info.context
        if not isinstance(ctx, AlertContext) or ctx.feed is None:
            raise GatewayError(Code.BAD_USER_INPUT, "subscribe over a WebSocket to /graphql (graphql-transport-ws)")
        if ctx.caller.is_public:
            raise GatewayError(Code.UNAUTHENTICATED, "subscriptions need a token")
        if ctx.purpose is None:
            raise GatewayError(Code.PURPOSE_REQUIRED, "state the purpose in the connection_init payload's X-Purpose")
        selections = [s for selected in info.selected_fields for s in selected.selections]
        async for alert in AlertStream(ctx, selections).run():
            yield alert  # type: ignore[misc]
