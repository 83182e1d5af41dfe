"""The GraphQL schema's root fields: each compiles its selection into one statement, runs it
once, and hands the rows to the types. Access decisions come from ``gateway.rules``: rows
from ``policy``, fields from ``view``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from gateway.cypher import compiler, screening
from gateway.cypher.compiler import Compiler, Page, Statement
from gateway.cypher.pieces import Var
from gateway.errors import Code, GatewayError
from gateway.graphql import types as t
from gateway.graphql.context import Context
from gateway.graphql.limits import CostLimit, Limits, rule
from gateway.graphql.rows import RowExecutor
from gateway.graphql.types import SortKey
from gateway.rules import policy


def _context(info: Info) -> Context:
    return info.context  # type: ignore[no-any-return]


def _compiler(info: Info) -> Compiler:
    ctx = _context(info)
    return Compiler(ctx.schema, ctx.caller)


def _selections(info: Info) -> list[Any]:
    """The root field's sub-selections: every selection of its response key, merged, as
    GraphQL's field collection says (``{ a: f { x } a: f { y } }`` is one field asking x, y)."""
    return [s for selected in info.selected_fields for s in selected.selections]


def _keyed(info: Info, values: dict[str, Any]) -> dict[str, Any]:
    """An answer built from field names, keyed by response key as compiled rows are (so that an
    alias of one of its fields reads its value, not null)."""
    return {
        key: values[field_name]
        for key, (field_name, _args, _subs) in compiler.merge(_selections(info)).items()
        if field_name in values
    }


async def _fetch(info: Info, statement: Statement, personal: bool = True) -> list[dict[str, Any]]:
    """The one round trip of a root field; personal reads need a purpose and are recorded."""
    ctx = _context(info)
    if personal:
        if policy.purpose_required(ctx.caller) and ctx.purpose is None:
            raise GatewayError(
                Code.PURPOSE_REQUIRED,
                "this request reads personal data: state its purpose in the X-Purpose header",
            )
        ctx.record.fields.append(info.field_name)
    return await ctx.graph.read(statement.cypher, statement.params)


def _returned(info: Info, value: Any) -> Any:
    """Record the personal records in what a root field returns (R15), and return it."""
    ctx = _context(info)
    if ctx.record.touched:
        ctx.record.collect(value)
    return value


async def _one(info: Info, label: str, key: str, value: Any, personal: bool = True) -> Any:
    rows = await _fetch(info, _compiler(info).one(label, key, value, _selections(info)), personal)
    if not rows and personal:
        await _context(info).answer_absent()
    return _returned(info, rows[0]["row"]) if rows else None


async def _page(info: Info, statement: Statement, pg: Page) -> Any:
    rows = await _fetch(info, statement)
    found = rows[0]
    return _returned(
        info,
        compiler.shape_connection(
            _selections(info), found["rows"], found["total"], pg, found["keys"], statement.order
        ),
    )


async def _list(
    info: Info, build: Callable[..., Statement], flt: Any, sort: Any, first: int, after: str | None
) -> Any:
    """A filtered, sorted page of one kind of record."""
    pg = compiler.page(first, after)
    key = sort.value if sort is not None else None  # omitted: the compiler's default order
    return await _page(info, build(_compiler(info), flt, key, pg, _selections(info)), pg)


@strawberry.type
class Query:
    @strawberry.field(description="The caller, as the graph knows it.")
    async def me(self, info: Info) -> t.Me:
        caller = _context(info).caller
        agency_selections = compiler.sub(_selections(info), "agency")
        agency = None
        if caller.agency_id:
            statement = _compiler(info).one("Agency", "id", caller.agency_id, agency_selections)
            rows = await _fetch(info, statement, personal=False)
            agency = rows[0]["row"] if rows else None
        return _keyed(info, {  # type: ignore[return-value]
            "user": caller.user, "agency": agency, "countryCode": caller.country,
            "scopes": sorted(caller.scopes), "public": caller.is_public,
        })  # fmt: skip

    @strawberry.field(description="Every member country.")
    async def countries(self, info: Info) -> list[t.Country]:
        rows = await _fetch(info, _compiler(info).every("Country", _selections(info)), personal=False)
        return [r["row"] for r in rows]

    @strawberry.field
    async def country(self, info: Info, code: str) -> t.Country | None:
        return await _one(info, "Country", "code", code, personal=False)  # type: ignore[no-any-return]

    @strawberry.field
    async def agency(self, info: Info, id: strawberry.ID) -> t.Agency | None:
        return await _one(info, "Agency", "id", str(id), personal=False)  # type: ignore[no-any-return]

    @strawberry.field(description="A person, or null if absent or not visible (R17, R18).")
    async def person(self, info: Info, id: strawberry.ID) -> t.Person | None:
        return await _one(info, "Person", "id", str(id))  # type: ignore[no-any-return]

    @strawberry.field
    async def persons(
        self, info: Info, filter: t.PersonFilter | None = None,
        sort: t.PersonSort | None = None, first: int = 20, after: str | None = None,
    ) -> t.PersonConnection:  # type: ignore[valid-type]  # fmt: skip
        return await _list(info, compiler.persons, filter, sort, first, after)  # type: ignore[no-any-return]

    @strawberry.field
    async def notice(self, info: Info, id: strawberry.ID) -> t.Notice | None:
        return await _one(info, "Notice", "id", str(id))  # type: ignore[no-any-return]

    @strawberry.field
    async def notices(
        self, info: Info, filter: t.NoticeFilter | None = None,
        sort: t.NoticeSort | None = None, first: int = 20, after: str | None = None,
    ) -> t.NoticeConnection:  # type: ignore[valid-type]  # fmt: skip
        return await _list(info, compiler.notices, filter, sort, first, after)  # type: ignore[no-any-return]

    @strawberry.field
    async def diffusion(self, info: Info, id: strawberry.ID) -> t.Diffusion | None:
        return await _one(info, "Diffusion", "id", str(id))  # type: ignore[no-any-return]

    @strawberry.field
    async def diffusions(
        self, info: Info, filter: t.DiffusionFilter | None = None,
        sort: t.DiffusionSort | None = None, first: int = 20, after: str | None = None,
    ) -> t.DiffusionConnection:  # type: ignore[valid-type]  # fmt: skip
        return await _list(info, compiler.diffusions, filter, sort, first, after)  # type: ignore[no-any-return]

    @strawberry.field
    async def asylum_application(self, info: Info, id: strawberry.ID) -> t.AsylumApplication | None:
        return await _one(info, "AsylumApplication", "id", str(id))  # type: ignore[no-any-return]

    @strawberry.field
    async def asylum_applications(
        self, info: Info, filter: t.AsylumApplicationFilter | None = None,
        sort: t.AsylumApplicationSort | None = None, first: int = 20,
        after: str | None = None,
    ) -> t.AsylumApplicationConnection:  # type: ignore[valid-type]  # fmt: skip
        return await _list(info, compiler.applications, filter, sort, first, after)  # type: ignore[no-any-return]

    @strawberry.field(description="Hit or no-hit against what the caller's country may see (R11).")
    async def screen(self, info: Info, input: t.ScreeningInput) -> t.ScreeningResult:
        caller = _context(info).caller
        if not policy.may_screen(caller):
            raise GatewayError(Code.FORBIDDEN, "this agency may not run screenings")
        statement = screening.screen(
            _compiler(info), policy.screening_view(caller), policy.full_screening_answer(caller),
            screening.Identity.of(input), _selections(info),
        )  # fmt: skip
        matches = (await _fetch(info, statement))[0]["matches"]
        hit = bool(matches)
        _context(info).record.hit = hit
        answer = {"outcome": "HIT" if hit else "NO_HIT", "hit": hit, "matches": matches}
        return _returned(info, _keyed(info, answer))  # type: ignore[no-any-return]

    @strawberry.field(description="Records that may be the same person, whose two persons the caller sees (R16, R18).")
    async def identity_links(
        self, info: Info, filter: t.IdentityLinkFilter | None = None,
        sort: t.IdentityLinkSort | None = None, first: int = 20, after: str | None = None,
    ) -> t.IdentityLinkConnection:  # type: ignore[valid-type]  # fmt: skip
        return await _list(info, compiler.identity_links, filter, sort, first, after)  # type: ignore[no-any-return]

    @strawberry.field(description="The visible neighbourhood of a person (R16), depth 1 to 3.")
    async def links(self, info: Info, person_id: strawberry.ID, depth: int = 1) -> t.LinkGraph | None:
        rows = await _fetch(info, compiler.links(_compiler(info), str(person_id), depth, _selections(info)))
        if not rows:
            await _context(info).answer_absent()  # R17: as slow as a hidden person's
        return _returned(info, rows[0]["row"]) if rows else None

    @strawberry.field(description="The shortest path through visible persons only (R16), or null.")
    async def path(
        self, info: Info, from_person_id: strawberry.ID, to_person_id: strawberry.ID, max_depth: int = 6
    ) -> t.Path | None:
        statement = compiler.path(
            _compiler(info), str(from_person_id), str(to_person_id), max_depth, _selections(info)
        )
        rows = await _fetch(info, statement)
        if not rows:
            await _context(info).answer_absent()  # R17: no path, hidden or absent, answers alike
        return _returned(info, rows[0]["row"]) if rows else None

    @strawberry.field(description="The caller's own published notices in their review window (R14).")
    async def notices_due_for_review(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> t.NoticeConnection:  # type: ignore[valid-type]
        pg = compiler.page(first, after)
        statement = compiler.due_for_review(_compiler(info), pg, _selections(info))
        return await _page(info, statement, pg)  # type: ignore[no-any-return]

    @strawberry.field(description="Reports of asylum decisions (R9): GS and CCF only.")
    async def status_notifications(
        self,
        info: Info,
        filter: t.StatusNotificationFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> t.StatusNotificationConnection:  # type: ignore[valid-type]
        if not policy.reads_notifications(_context(info).caller):
            raise GatewayError(
                Code.FORBIDDEN, "only the General Secretariat and the CCF read status notifications"
            )
        pg = compiler.page(first, after)
        statement = compiler.notifications(_compiler(info), filter, pg, _selections(info))
        return await _page(info, statement, pg)  # type: ignore[no-any-return]

    @strawberry.field(description="The audit log (R15): GS and CCF only.")
    async def audit_events(
        self, info: Info, filter: t.AccessEventFilter | None = None, first: int = 20, after: str | None = None
    ) -> t.AccessEventConnection:  # type: ignore[valid-type]
        if not policy.reads_audit(_context(info).caller):
            raise GatewayError(Code.FORBIDDEN, "only the General Secretariat and the CCF read the audit log")
        pg = compiler.page(first, after)
        return await _page(info, compiler.access_events(_compiler(info), filter, pg, _selections(info)), pg)  # type: ignore[no-any-return]

    @strawberry.field(description="The persons the caller's agency watches (live alerts) that it sees.")
    async def watched_persons(self, info: Info) -> list[t.Person]:
        c = _compiler(info)
        v = Var("v")
        statement = c.statement(
            f"MATCH (w:Watch {{agency: $agency}}) MATCH ({v}:Person {{id: w.personId}}) "
            f"WHERE {c.visible('Person', v)} WITH {v} {c.order('Person', v, (SortKey('familyName'),))}"
            f"RETURN {c.projection('Person', v, _selections(info))} AS row"
        )
        return _returned(info, [r["row"] for r in await _fetch(info, statement)])  # type: ignore[no-any-return]

    @strawberry.field(description="The caller's agency's saved screenings (live alerts).")
    async def saved_screenings(self, info: Info) -> list[t.SavedScreening]:
        statement = _compiler(info).every("SavedScreening", _selections(info))
        return _returned(info, [r["row"] for r in await _fetch(info, statement)])  # type: ignore[no-any-return]


def build(
    limits: Limits, max_tokens: int, introspection: bool, row_executor: bool = True
) -> strawberry.Schema:
    limit_rule = rule(limits)
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: AddValidationRules([limit_rule]),
        lambda: CostLimit(limits),  # after validation: the cost depends on the variables
        # Clients repeat the same documents: parse and validate each once.
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    from gateway.graphql.alerts import Subscription
    from gateway.graphql.mutations import Mutation

    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
        # Compiled rows complete without a resolver per field (gateway.graphql.rows).
        execution_context_class=RowExecutor if row_executor else None,
    )
