"""The GraphQL mutations: each is one write transaction with its audit event inside it.

``_mutate`` is the one path every mutation takes: authenticated caller and purpose, the
idempotency key, the workflow (``gateway.workflows``) under write locks, the audit event of
the ids written, and the result read back in the same transaction. A refused attempt rolls
back and is then audited on its own.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

import strawberry
from neo4j import AsyncManagedTransaction
from strawberry.types import Info
from strawberry.types.nodes import SelectedField

from gateway.cypher.compiler import Compiler
from gateway.errors import Code, GatewayError
from gateway.graphql import types as t
from gateway.graphql.context import Context
from gateway.store import audit, watches, workflows
from gateway.store.audit import AccessRecord
from graph_schema.model import (
    ApplicationStatus,
    AssociateKind,
    DiffusionPurpose,
    DocumentStatus,
    DocumentType,
    LegalBasis,
    NoticeType,
    Sex,
)

log = logging.getLogger("gateway")

strawberry.enum(Sex, description="M, F or X.")
strawberry.enum(AssociateKind, description="How two persons are linked.")


@strawberry.enum(description="The GS's decision on a requested notice.")
class NoticeDecision(Enum):
    PUBLISH = "PUBLISH"
    REFUSE = "REFUSE"


@strawberry.enum(description="The GS's decision on a diffusion under review.")
class DiffusionDecision(Enum):
    CONFIRM = "CONFIRM"
    CANCEL = "CANCEL"


@strawberry.enum(description="The manual verification of an identity link.")
class IdentityVerdict(Enum):
    SAME_PERSON_UNLAWFUL = "SAME_PERSON_UNLAWFUL"  # red
    SAME_PERSON_LAWFUL = "SAME_PERSON_LAWFUL"  # white
    DIFFERENT_PERSONS = "DIFFERENT_PERSONS"  # green


@strawberry.input
class RequestNoticeInput:
    person_id: strawberry.ID
    type: NoticeType
    offence_summary: str
    public_extract: bool = False
    allow_countries: list[str] | None = None
    deny_countries: list[str] | None = None


@strawberry.input
class IssueDiffusionInput:
    person_id: strawberry.ID
    purpose: DiffusionPurpose
    recipients: list[str] | None = None
    to_all_members: bool = False
    allow_countries: list[str] | None = None
    deny_countries: list[str] | None = None


@strawberry.input
class PersonInput:
    family_name: str
    given_names: str | None = None
    date_of_birth: datetime.date | None = None
    sex: Sex | None = None
    nationalities: list[str] | None = None
    aliases: list[str] | None = None
    name_original_script: str | None = None


@strawberry.input
class PersonUpdateInput:
    family_name: str | None = None
    given_names: str | None = None
    date_of_birth: datetime.date | None = None
    sex: Sex | None = None
    aliases: list[str] | None = None
    name_original_script: str | None = None


@strawberry.input
class TravelDocumentInput:
    number: str
    type: DocumentType
    status: DocumentStatus = DocumentStatus.VALID


@strawberry.input
class AsylumApplicationInput:
    person_id: strawberry.ID
    feared_persecution_country: str
    lodged_at: datetime.date


@strawberry.input
class AsylumDecisionInput:
    outcome: ApplicationStatus
    decided_at: datetime.date
    legal_basis: LegalBasis | None = None
    denied_on_criminal_grounds: bool = False


def _fingerprint(name: str, arguments: dict[str, Any]) -> str:
    """The same input however it was written: inline or in variables, defaults or not."""

    def canonical(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        if isinstance(value, dict):
            return {k: canonical(v) for k, v in value.items() if v is not None and v is not strawberry.UNSET}
        if isinstance(value, list):
            return [canonical(v) for v in value]
        return value.value if isinstance(value, Enum) else value

    return hashlib.sha256(
        json.dumps([name, canonical(arguments)], sort_keys=True, default=str).encode()
    ).hexdigest()


async def _rows(tx: AsyncManagedTransaction, cypher: str, **params: Any) -> list[dict[str, Any]]:
    result = await tx.run(cypher, params)
    return [r.data() async for r in result]


MAX_IDEMPOTENCY_KEY = 128  # a UUID or a client's request id; it is stored with the result


async def _mutate(
    info: Info, label: str, work: Callable[[workflows.Work], Awaitable[list[str]]], key: str | None,
    **arguments: Any,
) -> Any:  # fmt: skip
    """Run one mutation; ``arguments`` are its inputs as the resolver received them."""
    ctx: Context = info.context
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise GatewayError(
            Code.BAD_USER_INPUT, f"idempotencyKey must be 1 to {MAX_IDEMPOTENCY_KEY} characters"
        )
    caller = ctx.caller
    selection = info.selected_fields[0]
    assert isinstance(selection, SelectedField)
    fingerprint = _fingerprint(info.field_name, arguments)
    scoped_key = f"{caller.agency_id}:{info.field_name}:{key}" if key else None
    operation = f"mutation:{info.field_name}"

    def entry(ids: list[str], outcome: str) -> dict[str, Any]:
        return audit.event(caller.user, caller.agency_id, operation, ctx.purpose, ids, None, outcome)

    async def transaction(tx: AsyncManagedTransaction) -> Any:
        result_id, written, outcome = None, [], "OK"
        if scoped_key:
            known = await _rows(
                tx,
                "MERGE (i:IdempotencyRecord {key: $key}) RETURN i.fingerprint AS fp, i.resultId AS id",
                key=scoped_key,
            )
            if known[0]["id"] is not None:
                if known[0]["fp"] != fingerprint:
                    raise GatewayError(Code.CONFLICT, "this idempotencyKey was used with a different input")
                result_id, outcome = known[0]["id"], "REPLAY"
        if result_id is None:
            written = await work(workflows.Work(tx, caller, ctx.schema))
            result_id = written[0]
            if scoped_key:
                await _rows(
                    tx, "MATCH (i:IdempotencyRecord {key: $key}) SET i.fingerprint = $fp, i.resultId = $id, "
                    "i.createdAt = datetime()", key=scoped_key, fp=fingerprint, id=result_id,
                )  # fmt: skip
        statement = Compiler(ctx.schema, caller).one(label, "id", result_id, list(selection.selections))
        rows = await _rows(tx, statement.cypher, **statement.params)
        row = rows[0]["row"] if rows else None
        # R15: what was written, and every personal record the result reads back.
        read = AccessRecord()
        read.collect(row)
        ids = {*(_labelled(i) for i in (*written, result_id)), *read.ids}
        await audit.append(tx, [entry(sorted(ids), outcome)], ctx.audit_key)
        return row

    # R1: no token, no write; refused before any lock, write or audit event, so that an
    # anonymous request cannot make the audit log (and its head's lock) work for it.
    if caller.is_public:
        raise GatewayError(Code.UNAUTHENTICATED, "writing needs a token")
    try:
        if ctx.purpose is None:
            raise GatewayError(
                Code.PURPOSE_REQUIRED, "state the purpose of this write in the X-Purpose header"
            )
        return await ctx.graph.write(transaction, key)
    except GatewayError as refused:
        if refused.code in _NOT_REFUSALS:
            raise
        await _audit_refusal(ctx, entry(_targets(arguments), f"REFUSED:{refused.code.value}"))
        raise


# Failures of the graph, not refusals of the caller: there is nothing to audit (and no graph
# to audit it in).
_NOT_REFUSALS = {Code.SERVICE_UNAVAILABLE, Code.COMMIT_OUTCOME_UNKNOWN}


_LABELS = {
    "P": "Person",
    "N": "Notice",
    "D": "Diffusion",
    "A": "AsylumApplication",
    "SN": "StatusNotification",
    "SS": "SavedScreening",
    "IL": "IdentityLink",
}


def _labelled(record_id: str) -> str:
    """An id written by a workflow in the audit's ``Label:id`` form, as reads record them."""
    prefix = record_id.split("-", 1)[0]
    if prefix in _LABELS:
        return f"{_LABELS[prefix]}:{record_id}"
    return f"TravelDocument:{record_id}"  # the only other kind written: ``COUNTRY:number``


def _targets(arguments: dict[str, Any]) -> list[str]:
    """The ids a refused mutation aimed at, as far as its arguments name them."""
    named = [arguments.get(k) for k in ("id", "person_id", "a", "b")]
    named.append(getattr(arguments.get("input"), "person_id", None))
    return [_labelled(str(x)) for x in named if isinstance(x, str)]


async def _audit_refusal(ctx: Context, event: dict[str, Any]) -> None:
    """Record the refused attempt (R15). If it cannot be recorded, the operator is told (in
    the log, without personal data) and the client gets SERVICE_UNAVAILABLE instead of the
    refusal: a refusal the audit log does not hold must not look like one it does."""
    try:
        await ctx.graph.write(lambda tx: audit.append(tx, [event], ctx.audit_key))
    except GatewayError as error:
        log.error(
            "audit: a refused %s by agency %s could not be recorded (%s)",
            event["operation"], event["agencyId"], error.code.value,
        )  # fmt: skip
        raise GatewayError(
            Code.SERVICE_UNAVAILABLE, "the audit log is unavailable; the request was not carried out"
        ) from error


@strawberry.type
class Mutation:
    @strawberry.mutation(description="An NCB requests a notice (status REQUESTED).")
    async def request_notice(
        self, info: Info, input: RequestNoticeInput, idempotency_key: str | None = None
    ) -> t.Notice | None:
        return await _mutate(
            info, "Notice", lambda w: workflows.request_notice(w, input), idempotency_key, input=input
        )

    @strawberry.mutation(description="The GS publishes or refuses a requested notice.")
    async def review_notice(
        self, info: Info, id: strawberry.ID, decision: NoticeDecision, reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> t.Notice | None:  # fmt: skip
        return await _mutate(
            info,
            "Notice",
            lambda w: workflows.review_notice(w, str(id), decision.value, reason),
            idempotency_key,
            id=id,
            decision=decision,
            reason=reason,
        )

    @strawberry.mutation(description="The source extends a notice in its review window (R14).")
    async def extend_notice(
        self, info: Info, id: strawberry.ID, reason: str, idempotency_key: str | None = None
    ) -> t.Notice | None:
        return await _mutate(
            info,
            "Notice",
            lambda w: workflows.extend_notice(w, str(id), reason),
            idempotency_key,
            id=id,
            reason=reason,
        )

    @strawberry.mutation(description="The source or the GS cancels a notice.")
    async def cancel_notice(
        self, info: Info, id: strawberry.ID, reason: str, idempotency_key: str | None = None
    ) -> t.Notice | None:
        return await _mutate(
            info,
            "Notice",
            lambda w: workflows.cancel_notice(w, str(id), reason),
            idempotency_key,
            id=id,
            reason=reason,
        )

    @strawberry.mutation(description="The source sets a notice's allow or deny list (R4).")
    async def set_restrictions(
        self, info: Info, id: strawberry.ID, allow_countries: list[str] | None = None,
        deny_countries: list[str] | None = None, idempotency_key: str | None = None,
    ) -> t.Notice | None:  # fmt: skip
        return await _mutate(
            info, "Notice", lambda w: workflows.set_restrictions(w, "Notice", str(id), allow_countries, deny_countries),
            idempotency_key, id=id, allow=allow_countries, deny=deny_countries,
        )  # fmt: skip

    @strawberry.mutation(description="The GS restores a blocked notice once protection has ended (R8).")
    async def restore_notice(
        self, info: Info, id: strawberry.ID, reason: str, idempotency_key: str | None = None
    ) -> t.Notice | None:
        return await _mutate(
            info,
            "Notice",
            lambda w: workflows.restore(w, "Notice", str(id), reason),
            idempotency_key,
            id=id,
            reason=reason,
        )

    @strawberry.mutation(description="An NCB sends a diffusion to chosen countries or to all (R6).")
    async def issue_diffusion(
        self, info: Info, input: IssueDiffusionInput, idempotency_key: str | None = None
    ) -> t.Diffusion | None:
        return await _mutate(
            info, "Diffusion", lambda w: workflows.issue_diffusion(w, input), idempotency_key, input=input
        )

    @strawberry.mutation(description="The GS reviews a diffusion: confirm, or cancel with a reason.")
    async def review_diffusion(
        self, info: Info, id: strawberry.ID, decision: DiffusionDecision, reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> t.Diffusion | None:  # fmt: skip
        return await _mutate(
            info,
            "Diffusion",
            lambda w: workflows.review_diffusion(w, str(id), decision.value, reason),
            idempotency_key,
            id=id,
            decision=decision,
            reason=reason,
        )

    @strawberry.mutation(description="The GS restores a blocked diffusion once protection has ended (R8).")
    async def restore_diffusion(
        self, info: Info, id: strawberry.ID, reason: str, idempotency_key: str | None = None
    ) -> t.Diffusion | None:
        return await _mutate(
            info,
            "Diffusion",
            lambda w: workflows.restore(w, "Diffusion", str(id), reason),
            idempotency_key,
            id=id,
            reason=reason,
        )

    @strawberry.mutation(description="Record a person; the caller's agency becomes the record's source.")
    async def create_person(
        self, info: Info, input: PersonInput, idempotency_key: str | None = None
    ) -> t.Person | None:
        return await _mutate(
            info, "Person", lambda w: workflows.create_person(w, input), idempotency_key, input=input
        )

    @strawberry.mutation(description="The agency that recorded a person changes the record (R3).")
    async def update_person(
        self, info: Info, id: strawberry.ID, input: PersonUpdateInput, idempotency_key: str | None = None
    ) -> t.Person | None:
        return await _mutate(
            info,
            "Person",
            lambda w: workflows.update_person(w, str(id), input),
            idempotency_key,
            id=id,
            input=input,
        )

    @strawberry.mutation(description="The issuing country records a travel document of a person (R3).")
    async def add_travel_document(
        self,
        info: Info,
        person_id: strawberry.ID,
        input: TravelDocumentInput,
        idempotency_key: str | None = None,
    ) -> t.Person | None:
        async def work(w: workflows.Work) -> list[str]:
            ids = await workflows.add_travel_document(w, str(person_id), input)
            return [ids[1], ids[0], *ids[2:]]  # the result is the holder; then identity links

        return await _mutate(info, "Person", work, idempotency_key, person_id=person_id, input=input)

    @strawberry.mutation(description="Link two persons the caller can see.")
    async def link_persons(
        self,
        info: Info,
        a: strawberry.ID,
        b: strawberry.ID,
        kind: AssociateKind,
        idempotency_key: str | None = None,
    ) -> t.Person | None:
        return await _mutate(
            info,
            "Person",
            lambda w: workflows.link_persons(w, str(a), str(b), kind.value),
            idempotency_key,
            a=a,
            b=b,
            kind=kind,
        )

    @strawberry.mutation(
        description="The NCB of a country that recorded one of the two persons, or the GS, verifies an identity link."
    )
    async def verify_identity_link(
        self, info: Info, id: strawberry.ID, verdict: IdentityVerdict, reason: str,
        idempotency_key: str | None = None,
    ) -> t.IdentityLink | None:  # fmt: skip
        return await _mutate(
            info, "IdentityLink", lambda w: workflows.verify_identity_link(w, str(id), verdict.value, reason),
            idempotency_key, id=id, verdict=verdict, reason=reason,
        )  # fmt: skip

    @strawberry.mutation(description="The asylum authority files an application; the screening runs (R10).")
    async def file_asylum_application(
        self, info: Info, input: AsylumApplicationInput, idempotency_key: str | None = None
    ) -> t.AsylumApplication | None:
        return await _mutate(
            info,
            "AsylumApplication",
            lambda w: workflows.file_application(w, input),
            idempotency_key,
            input=input,
        )

    @strawberry.mutation(description="The asylum authority decides; the GS and CCF are notified (R8, R9).")
    async def decide_asylum_application(
        self, info: Info, id: strawberry.ID, input: AsylumDecisionInput, idempotency_key: str | None = None
    ) -> t.AsylumApplication | None:
        return await _mutate(
            info,
            "AsylumApplication",
            lambda w: workflows.decide_application(w, str(id), input),
            idempotency_key,
            id=id,
            input=input,
        )

    @strawberry.mutation(
        description="Watch a person the caller sees: its notices and diffusions reach noticeAlerts (agency-wide)."
    )
    async def watch_person(
        self, info: Info, person_id: strawberry.ID, idempotency_key: str | None = None
    ) -> t.Person | None:
        return await _mutate(
            info, "Person", lambda w: watches.watch_person(w, str(person_id)), idempotency_key, person_id=person_id
        )

    @strawberry.mutation(description="Stop watching a person (the agency's watch); null if the person is not visible.")
    async def unwatch_person(
        self, info: Info, person_id: strawberry.ID, idempotency_key: str | None = None
    ) -> t.Person | None:
        return await _mutate(
            info, "Person", lambda w: watches.unwatch_person(w, str(person_id)), idempotency_key, person_id=person_id
        )

    @strawberry.mutation(
        description="Save a screening (the input and caps of screen): its new hits reach noticeAlerts (agency-wide)."
    )
    async def save_screening(
        self, info: Info, input: t.ScreeningInput, idempotency_key: str | None = None
    ) -> t.SavedScreening | None:
        return await _mutate(
            info, "SavedScreening", lambda w: watches.save_screening(w, input), idempotency_key, input=input
        )

    @strawberry.mutation(description="Remove one of the agency's saved screenings.")
    async def remove_saved_screening(
        self, info: Info, id: strawberry.ID, idempotency_key: str | None = None
    ) -> bool:
        await _mutate(
            info, "SavedScreening", lambda w: watches.remove_saved_screening(w, str(id)), idempotency_key, id=id
        )
        return True


__all__ = ["Mutation"]
