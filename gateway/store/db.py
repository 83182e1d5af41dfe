"""Connections to the graph: the async driver for the service, a sync one for the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from neo4j import (
    READ_ACCESS,
    AsyncDriver,
    AsyncGraphDatabase,
    AsyncManagedTransaction,
    Driver,
    GraphDatabase,
    NotificationMinimumSeverity,
    Query,
    unit_of_work,
)
from neo4j.exceptions import (
    AuthError,
    DriverError,
    IncompleteCommit,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from gateway.errors import Code, GatewayError
from gateway.observability import hooks
from gateway.settings import Settings

log = logging.getLogger("gateway")
T = TypeVar("T")
# The audit writer's batches: a write holds the audit head's lock that every audited
# request needs, so none may hold it longer.
WRITE_TIMEOUT = 10.0
# Beyond the server-side timeout, the client gives a statement this long to come back (a
# server that stopped answering, a pool that has no connection to give) before it gives up.
CLIENT_MARGIN = 3.0


class GraphUnavailable(Exception):
    """Neo4j cannot be reached or refuses our credentials; the message is one clear line."""


def _options(settings: Settings) -> dict[str, object]:
    return {
        "auth": (settings.neo4j_user, settings.password()),
        # Schema warnings on an empty graph ("label does not exist") are noise for us.
        "notifications_min_severity": NotificationMinimumSeverity.OFF,
        "max_connection_pool_size": 50,
        "connection_acquisition_timeout": 10.0,
        # Fail fast while Neo4j is down (SERVICE_UNAVAILABLE, /readyz 503) instead of holding
        # requests for the driver's default 30 s of retries; deadlock retries still fit.
        "connection_timeout": 3.0,
        "max_transaction_retry_time": 1.0,
    }


def connect(settings: Settings) -> Driver:
    """A verified sync driver, or GraphUnavailable naming the URI tried."""
    driver = GraphDatabase.driver(settings.neo4j_uri, **_options(settings))  # type: ignore[arg-type]
    try:
        driver.verify_connectivity()
    except (ServiceUnavailable, AuthError, OSError, ValueError) as error:
        driver.close()
        raise GraphUnavailable(describe(settings, error)) from None
    return driver


def connect_async(settings: Settings) -> AsyncDriver:
    """An async driver; it connects lazily, so the service starts even while Neo4j is down."""
    return AsyncGraphDatabase.driver(settings.neo4j_uri, **_options(settings))  # type: ignore[arg-type]


def describe(settings: Settings, error: BaseException) -> str:
    if isinstance(error, AuthError):
        return f"Neo4j at {settings.neo4j_uri} refused the credentials of user {settings.neo4j_user!r}"
    return f"cannot reach Neo4j at {settings.neo4j_uri}: {str(error).splitlines()[0] if str(error) else type(error).__name__}"


def _timed_out(error: Neo4jError) -> bool:
    return "TransactionTimedOut" in (error.code or "")


class Planner:
    """Plans, in the background and without a time limit, statements that ran out of time.

    Neo4j caches a statement's plan only once planning completes, and a transaction stopped
    by its timeout while planning leaves nothing behind. On a cold server (just restarted)
    that is loaded, planning one of our larger statements can take longer than the limit, so
    every attempt would stop at the limit and the gateway would never serve again. ``EXPLAIN``
    plans and caches without running anything (for a statement already planned it costs a
    cache look-up); one at a time, so a burst of time-outs costs one planning.
    """

    def __init__(self, driver: AsyncDriver, database: str | None) -> None:
        self._driver = driver
        self._database = database
        self._task: asyncio.Task[None] | None = None

    def plan_later(self, cypher: str, params: dict[str, Any]) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._plan(cypher, params))

    async def _plan(self, cypher: str, params: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):  # it times out again, and is planned again then
            await self._driver.execute_query("EXPLAIN " + cypher, params, database_=self._database)  # type: ignore[arg-type]


class _Recording:
    """A transaction that remembers the statement it ran last (for the planner)."""

    def __init__(self, tx: AsyncManagedTransaction) -> None:
        self._tx = tx
        self.last: tuple[str, dict[str, Any]] | None = None

    async def run(self, query: str, parameters: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        self.last = (query, {**(parameters or {}), **kwargs})
        return await self._tx.run(query, parameters, **kwargs)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


class Graph:
    """The service's statements, each with a time limit, errors in client terms."""

    def __init__(self, driver: AsyncDriver, database: str | None, timeout: float = 10.0) -> None:
        self.driver = driver
        self.database = database
        self.timeout = timeout  # GATEWAY_QUERY_TIMEOUT_SECONDS, for reads and writes alike
        self.planner = Planner(driver, database)
        self._readiness: asyncio.Task[int | None] | None = None

    @hooks.statement("read")
    async def read(
        self, cypher: str, params: dict[str, Any], timeout: float | None = None
    ) -> list[dict[str, Any]]:
        limit = timeout or self.timeout
        try:
            # A server-side timeout: no single read may hold the graph for long; the client's
            # own bound covers a server that stopped answering.
            # An auto-commit read: RUN and PULL in one round trip, where a managed transaction
            # adds BEGIN and COMMIT. The driver's query bookmarks keep it causally after the
            # service's earlier statements, as execute_query would.
            async with (
                asyncio.timeout(limit + CLIENT_MARGIN),
                self.driver.session(
                    database=self.database, default_access_mode=READ_ACCESS,
                    bookmark_manager=self.driver.execute_query_bookmark_manager,
                ) as session,
            ):  # fmt: skip
                result = await session.run(Query(cypher, timeout=limit), params)  # type: ignore[arg-type]
                return await result.data()
        except (ServiceUnavailable, SessionExpired, TransientError, DriverError, OSError) as error:
            if isinstance(error, TimeoutError):  # the server did not stop it: planning, likely
                self.planner.plan_later(cypher, params)
            raise GatewayError(
                Code.SERVICE_UNAVAILABLE, "the graph is unavailable; try again shortly"
            ) from error
        except Neo4jError as error:
            if _timed_out(error):
                self.planner.plan_later(cypher, params)
                raise GatewayError(
                    Code.QUERY_TOO_COMPLEX, f"the query ran longer than {limit:g} s; narrow it"
                ) from error
            raise

    @hooks.statement("write")
    async def write(
        self, work: Callable[[AsyncManagedTransaction], Awaitable[T]], idempotency_key: str | None = None
    ) -> T:
        """``work`` in one write transaction, retried by the driver only while nothing was
        committed; an error says whether the write may have happened."""

        recording: _Recording | None = None

        @unit_of_work(timeout=self.timeout)
        async def transaction(tx: AsyncManagedTransaction) -> T:
            nonlocal recording
            recording = _Recording(tx)
            return await work(recording)  # type: ignore[arg-type]

        try:
            async with (
                asyncio.timeout(self.timeout + CLIENT_MARGIN),
                self.driver.session(database=self.database) as session,
            ):
                return await session.execute_write(transaction)
        except (IncompleteCommit, TimeoutError) as error:
            # The connection failed during the commit, or the client stopped waiting: the
            # write may or may not be in the graph (the driver does not retry these).
            if isinstance(error, TimeoutError) and recording is not None and recording.last is not None:
                self.planner.plan_later(*recording.last)  # the server did not stop it: planning, likely
            raise outcome_unknown(idempotency_key) from error
        except (ServiceUnavailable, SessionExpired, TransientError, DriverError, OSError) as error:
            raise GatewayError(
                Code.SERVICE_UNAVAILABLE, "the graph is unavailable; nothing was written"
            ) from error
        except Neo4jError as error:
            if _timed_out(error):
                if recording is not None and recording.last is not None:
                    self.planner.plan_later(*recording.last)
                raise GatewayError(
                    Code.SERVICE_UNAVAILABLE,
                    f"the write did not finish within {self.timeout:g} s; nothing was written",
                ) from error
            if error.code and "ConstraintValidationFailed" in error.code:
                raise GatewayError(
                    Code.CONFLICT, "a concurrent write got there first; nothing was written"
                ) from error
            raise

    async def ready(self, version: int, timeout: float = 2.0) -> bool:
        """Neo4j answers within ``timeout`` and the schema is at the version this code expects.

        The check itself runs on, up to the read limit, when the answer is late: on a cold
        server it gets planned (and cached) instead of being stopped at 2 s every time, and
        at most one runs at a time however often /readyz is asked."""
        if self._readiness is None or self._readiness.done():
            self._readiness = asyncio.create_task(self._schema_version())
        try:
            current = await asyncio.wait_for(asyncio.shield(self._readiness), timeout)
        except TimeoutError:
            return False
        return current == version

    async def _schema_version(self) -> int | None:
        try:
            rows = await self.read("MATCH (m:SchemaMigration) RETURN coalesce(max(m.version), 0) AS v", {})
        except GatewayError:
            return None
        return int(rows[0]["v"])


def outcome_unknown(idempotency_key: str | None) -> GatewayError:
    if idempotency_key:
        advice = "retry with the same idempotencyKey: if it was written, the retry returns it"
    else:
        advice = "look it up before retrying, and send an idempotencyKey to make retries safe"
    return GatewayError(
        Code.COMMIT_OUTCOME_UNKNOWN,
        f"the graph failed while committing this write: it may or may not have been written; {advice}",
    )
