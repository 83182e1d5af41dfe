"""Configuration, read from the environment (and a git-ignored ``.env``).

Every setting has a default that works on a developer's machine after ``make run``; the
README's configuration table lists them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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

    # The HTTP service.
    host: str = Field("127.0.0.1", alias="GATEWAY_HOST")
    port: int = Field(8000, alias="GATEWAY_PORT")
    playground: bool = Field(True, alias="GATEWAY_PLAYGROUND")
    introspection: bool = Field(True, alias="GATEWAY_INTROSPECTION")

    # Tokens (R1). HS256 with a secret in development; RS256/ES256 against a JWKS in production.
    jwt_secret: str = Field("", alias="GATEWAY_JWT_SECRET")
    jwks_url: str = Field("", alias="GATEWAY_JWKS_URL")
    jwt_issuer: str = Field("gateway-dev", alias="GATEWAY_JWT_ISSUER")
    jwt_audience: str = Field("gateway", alias="GATEWAY_JWT_AUDIENCE")

    # Limits on a GraphQL request.
    max_body_bytes: int = Field(100_000, alias="GATEWAY_MAX_BODY_BYTES")
    max_depth: int = Field(10, alias="GATEWAY_MAX_DEPTH")
    max_aliases: int = Field(30, alias="GATEWAY_MAX_ALIASES")
    max_tokens: int = Field(2_000, alias="GATEWAY_MAX_TOKENS")
    max_cost: int = Field(5_000, alias="GATEWAY_MAX_COST")
    # R1: a deactivated agency is cut off within 5 s, so the cache may not keep it longer.
    caller_cache_seconds: float = Field(2.0, ge=0, le=5, alias="GATEWAY_CALLER_CACHE_SECONDS")
    query_timeout_seconds: float = Field(10.0, gt=0, alias="GATEWAY_QUERY_TIMEOUT_SECONDS")
    # R17: a personal look-up that finds nothing (hidden or missing) answers no sooner than this.
    absent_floor_ms: float = Field(25.0, ge=0, alias="GATEWAY_ABSENT_FLOOR_MS")
    # Development only: the playground's examples carry freshly minted demo tokens. Never on
    # a server that others can reach: anyone who loads the page gets those agencies' rights.
    demo_tokens: bool = Field(False, alias="GATEWAY_DEMO_TOKENS")
    # The key of the audit chain's HMAC (R15), kept outside the graph; generated for development.
    audit_key: str = Field("", alias="GATEWAY_AUDIT_KEY")

    @model_validator(mode="after")
    def _uri_follows_bolt_port(self) -> Settings:
        """An unset NEO4J_URI means the local server, on NEO4J_BOLT_PORT (owner: faults)."""
        if "neo4j_uri" not in self.model_fields_set:
            self.neo4j_uri = f"bolt://127.0.0.1:{self.neo4j_bolt_port}"
        return self

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
