"""Configuration, read from the environment (and a git-ignored ``.env``).

``GATEWAY_ENV`` is ``production`` unless set: introspection, the playground and field
suggestions are off and a JWKS is required. ``make run`` sets ``development``, whose defaults
work on a developer's machine. The README's configuration table lists every setting.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_DIR = REPO_ROOT / ".local"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # The graph. Any Neo4j 5 URI works: bolt://, neo4j:// (routing), neo4j+s:// (hosted).
    neo4j_uri: str = Field("bolt://127.0.0.1:7687", alias="NEO4J_URI")
    neo4j_user: str = Field("neo4j", alias="NEO4J_USER")
    # Empty means: read the password that `gateway neo4j start` generated in NEO4J_HOME.
    neo4j_password: str = Field("", alias="NEO4J_PASSWORD")
    neo4j_database: str | None = Field(None, alias="NEO4J_DATABASE")

    # The local server that `gateway neo4j start` manages.
    neo4j_home: Path = Field(LOCAL_DIR / "neo4j", alias="NEO4J_HOME")
    neo4j_lib: Path = Field(LOCAL_DIR / "neo4j-lib", alias="NEO4J_LIB")
    neo4j_bolt_port: int = Field(7687, alias="NEO4J_BOLT_PORT")
    neo4j_http_port: int = Field(7474, alias="NEO4J_HTTP_PORT")
    neo4j_heap: str = Field("4g", alias="NEO4J_HEAP")
    neo4j_pagecache: str = Field("4g", alias="NEO4J_PAGECACHE")

    # production unless told otherwise: a forgotten variable must not open the service up.
    env: Literal["production", "development"] = Field("production", alias="GATEWAY_ENV")

    # The HTTP service. Unset switches follow GATEWAY_ENV (on in development, off in production).
    host: str = Field("127.0.0.1", alias="GATEWAY_HOST")
    port: int = Field(8000, alias="GATEWAY_PORT")
    playground_switch: bool | None = Field(None, alias="GATEWAY_PLAYGROUND")
    introspection_switch: bool | None = Field(None, alias="GATEWAY_INTROSPECTION")
    # "Did you mean ...?" in validation errors names fields and types: with introspection off
    # they would still let a client recover the schema.
    suggestions_switch: bool | None = Field(None, alias="GATEWAY_FIELD_SUGGESTIONS")

    # Tokens (R1). HS256 with a secret in development; RS256/ES256 against a JWKS in production.
    jwt_secret: str = Field("", alias="GATEWAY_JWT_SECRET")
    jwks_url: str = Field("", alias="GATEWAY_JWKS_URL")
    jwt_issuer: str = Field("gateway-dev", alias="GATEWAY_JWT_ISSUER")
    jwt_audience: str = Field("gateway", alias="GATEWAY_JWT_AUDIENCE")
    # A token whose exp - iat (or exp - now without iat) exceeds this is refused.
    max_token_ttl: int = Field(12 * 3600, gt=0, alias="GATEWAY_MAX_TOKEN_TTL")
    # Seconds an HTTP JWKS is trusted before it is fetched again; and at most one fetch per
    # jwks_refresh_seconds for tokens naming a kid it does not hold (key rotation).
    jwks_cache_seconds: float = Field(300.0, gt=0, alias="GATEWAY_JWKS_CACHE_SECONDS")
    jwks_refresh_seconds: float = Field(30.0, ge=0, alias="GATEWAY_JWKS_REFRESH_SECONDS")
    jwks_timeout_seconds: float = Field(3.0, gt=0, alias="GATEWAY_JWKS_TIMEOUT_SECONDS")

    # Rate limits (token buckets): requests per second and burst, per client address (checked
    # before any token work) and per agency (once the token is verified). 0 switches one off.
    rate_per_address: float = Field(20.0, ge=0, alias="GATEWAY_RATE_PER_ADDRESS")
    burst_per_address: int = Field(40, ge=1, alias="GATEWAY_BURST_PER_ADDRESS")
    rate_per_agency: float = Field(50.0, ge=0, alias="GATEWAY_RATE_PER_AGENCY")
    burst_per_agency: int = Field(100, ge=1, alias="GATEWAY_BURST_PER_AGENCY")
    # Buckets kept in memory at most; idle (refilled) ones are dropped first.
    rate_buckets: int = Field(10_000, ge=1, alias="GATEWAY_RATE_BUCKETS")
    # The proxies whose X-Forwarded-For names the client (for the per-address limit and the
    # log); empty: none, the TCP peer is the client, and no client can choose its address.
    forwarded_allow_ips: str = Field("", alias="GATEWAY_FORWARDED_ALLOW_IPS")

    # Limits on a GraphQL request.
    max_body_bytes: int = Field(100_000, alias="GATEWAY_MAX_BODY_BYTES")
    max_depth: int = Field(10, alias="GATEWAY_MAX_DEPTH")
    max_aliases: int = Field(30, alias="GATEWAY_MAX_ALIASES")
    max_tokens: int = Field(2_000, alias="GATEWAY_MAX_TOKENS")
    max_cost: int = Field(5_000, alias="GATEWAY_MAX_COST")
    # Callers without a token: a lower cost limit, and documents this process has not seen yet
    # (each a statement Neo4j must plan, hundreds of milliseconds) drawn from a small bucket.
    max_cost_public: int = Field(1_000, ge=1, alias="GATEWAY_MAX_COST_PUBLIC")
    new_documents_per_address: float = Field(0.2, ge=0, alias="GATEWAY_NEW_DOCUMENTS_PER_ADDRESS")
    new_documents_burst: int = Field(10, ge=1, alias="GATEWAY_NEW_DOCUMENTS_BURST")
    # R1: a deactivated agency is cut off within 5 s, so the cache may not keep it longer.
    caller_cache_seconds: float = Field(2.0, ge=0, le=5, alias="GATEWAY_CALLER_CACHE_SECONDS")
    query_timeout_seconds: float = Field(10.0, gt=0, alias="GATEWAY_QUERY_TIMEOUT_SECONDS")
    # R17: a personal look-up that finds nothing (hidden or missing) answers no sooner than this.
    absent_floor_ms: float = Field(25.0, ge=0, alias="GATEWAY_ABSENT_FLOOR_MS")
    # Queries' compiled rows complete without a resolver per field (gateway.graphql.rows);
    # false: graphql-core resolves every field, as before (the same responses, more CPU).
    row_executor: bool = Field(True, alias="GATEWAY_ROW_EXECUTOR")
    # Development only: the playground's examples carry freshly minted demo tokens. Never on
    # a server that others can reach: anyone who loads the page gets those agencies' rights.
    demo_tokens: bool = Field(False, alias="GATEWAY_DEMO_TOKENS")
    # The key of the audit chain's HMAC (R15), kept outside the graph; generated for development.
    audit_key: str = Field("", alias="GATEWAY_AUDIT_KEY")
    # Read events go first to a local journal in this directory (fsync'd before each response,
    # shipped to the graph within a fraction of a second); unset, each is committed to the graph
    # before its response. The directory must outlive the process: a persistent volume.
    audit_journal: str = Field("", alias="GATEWAY_AUDIT_JOURNAL")

    # Observability. /metrics answers only these addresses or networks (others get 404; empty:
    # nobody). Traces go over OTLP/HTTP to this collector; unset, tracing is off.
    metrics_allow_ips: str = Field("127.0.0.1,::1", alias="GATEWAY_METRICS_ALLOW_IPS")
    otel_endpoint: str = Field("", alias="OTEL_EXPORTER_OTLP_ENDPOINT")

    @model_validator(mode="after")
    def _uri_follows_bolt_port(self) -> Settings:
        """An unset NEO4J_URI means the local server, on NEO4J_BOLT_PORT (owner: faults)."""
        if "neo4j_uri" not in self.model_fields_set:
            self.neo4j_uri = f"bolt://127.0.0.1:{self.neo4j_bolt_port}"
        return self

    @property
    def development(self) -> bool:
        return self.env == "development"

    @property
    def playground(self) -> bool:
        return self.development if self.playground_switch is None else self.playground_switch

    @property
    def introspection(self) -> bool:
        return self.development if self.introspection_switch is None else self.introspection_switch

    @property
    def suggestions(self) -> bool:
        return self.development if self.suggestions_switch is None else self.suggestions_switch

    def production_problems(self) -> list[str]:
        """Why this configuration may not serve in production (empty when it may)."""
        if self.development or self.jwks_url:
            return []
        return [
            "GATEWAY_ENV is production (the default) and GATEWAY_JWKS_URL is not set: "
            "set it to your identity provider's JWKS (URL or file), or set "
            "GATEWAY_ENV=development on a developer's machine"
        ]

    def password(self) -> str:
        if self.neo4j_password:
            return self.neo4j_password
        file = self.neo4j_home / "password"
        return file.read_text().strip() if file.exists() else ""

    def dev_jwt_secret(self) -> str:
        """The HS256 secret: configured, or generated once into .local/ for development."""
        return self.jwt_secret or _generated("jwt-secret")

    def audit_hmac_key(self) -> bytes:
        return (self.audit_key or _generated("audit-key")).encode()


def _generated(name: str) -> str:
    """A secret generated once into .local/ (git-ignored) for development."""
    file = LOCAL_DIR / name
    if not file.exists():
        import secrets

        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(secrets.token_urlsafe(48))
        file.chmod(0o600)
    return file.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
