"""Connections to the graph: the async driver for the service, a sync one for the CLI."""

from __future__ import annotations

from typing import Any

from neo4j import (
    AsyncDriver,
    AsyncGraphDatabase,
    Driver,
    GraphDatabase,
    NotificationMinimumSeverity,
    Query,
    RoutingControl,
)
from neo4j.exceptions import (
    AuthError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from gateway.errors import Code, GatewayError
from gateway.settings import Settings


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


class Graph:
    """The service's reads: one round trip per compiled statement, errors in client terms."""

    def __init__(self, driver: AsyncDriver, database: str | None, timeout: float = 10.0) -> None:
        self.driver = driver
        self.database = database
        self.timeout = timeout

    async def read(self, cypher: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            # A server-side timeout: no single read may hold the graph for long.
            records, _, _ = await self.driver.execute_query(
                Query(cypher, timeout=self.timeout),  # type: ignore[arg-type]
                params,
                database_=self.database,
                routing_=RoutingControl.READ,
            )
        except (ServiceUnavailable, SessionExpired, TransientError, DriverError, OSError) as error:
            raise GatewayError(
                Code.SERVICE_UNAVAILABLE, "the graph is unavailable; try again shortly"
            ) from error
        except Neo4jError as error:
            if "TransactionTimedOut" in (error.code or ""):
                raise GatewayError(
                    Code.QUERY_TOO_COMPLEX, f"the query ran longer than {self.timeout:g} s; narrow it"
                ) from error
            raise
        return [r.data() for r in records]

    async def ready(self, version: int) -> bool:
        """Neo4j answers and the schema is at the version this code expects."""
        try:
            rows = await self.read("MATCH (m:SchemaMigration) RETURN coalesce(max(m.version), 0) AS v", {})
        except Exception:
            return False
        return rows[0]["v"] == version
