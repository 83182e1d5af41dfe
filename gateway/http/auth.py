"""Bearer tokens (R1): verification of signature, expiry, lifetime, issuer and audience.

Development uses HS256 with a shared secret; production verifies RS256/ES256 signatures
against a JWKS (file path or URL). The algorithm is fixed by the key the token's kid names,
never read from the token alone, which rules out ``alg: none``, HS/RS confusion and an ES256
token naming an RSA key.

A token that verified is remembered (by its digest) for at most ``VERIFIED_SECONDS`` and never
past its expiry: clients send the same token with every request, and a signature check is a
good share of a millisecond look-up's CPU. A key withdrawn from the JWKS is thus refused
within the JWKS cache time plus that minute; revoking an agency or user takes effect through
the graph (R1), not the token.

A JWKS URL is fetched with httpx's async client and a short timeout, so a slow identity
provider delays only the requests that need a key it has not given yet; a kid the cached set
does not hold triggers at most one fetch per ``GATEWAY_JWKS_REFRESH_SECONDS``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt

from gateway.settings import Settings

log = logging.getLogger("gateway.auth")

ASYMMETRIC = ("RS256", "ES256")
REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub", "agency"]
MAX_JWKS_BYTES = 1_000_000
MAX_CLAIM = 200  # characters of sub and agency
VERIFIED_SECONDS = 60.0
VERIFIED_TOKENS = 10_000  # remembered at most (least recently used go first)
LEEWAY = 5


class InvalidToken(Exception):
    """The token is malformed, badly signed, expired, too long-lived or for someone else."""


class KeysUnavailable(Exception):
    """No key set could be fetched yet: the fault is ours (or the provider's), not the token's."""


@dataclass(frozen=True)
class Claims:
    user: str
    agency: str


class RemoteKeySet:
    """A JWKS fetched over HTTP(S), cached, refreshed in the background when stale and on
    demand (rate-limited) when a token names an unknown kid."""

    def __init__(self, url: str, timeout: float, cache_seconds: float, refresh_seconds: float) -> None:
        self._url = url
        self._timeout = timeout
        self._cache_seconds = cache_seconds
        self._refresh_seconds = refresh_seconds
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")  # last successful fetch
        self._tried_at = float("-inf")  # last attempt, successful or not
        self._lock = asyncio.Lock()
        self._background: asyncio.Task[None] | None = None

    async def key(self, kid: str | None) -> jwt.PyJWK:
        now = time.monotonic()
        if not self._keys:
            if now - self._tried_at >= self._refresh_seconds:
                await self._refresh()
            if not self._keys:
                raise KeysUnavailable("the identity provider's key set could not be fetched")
        elif now - self._fetched_at > self._cache_seconds and self._background is None:
            # Stale but usable: keep serving with it while a fresh copy is fetched.
            self._background = asyncio.create_task(self._refresh_in_background())
        found = _pick(self._keys, kid)
        if found is None and kid is not None and now - self._tried_at >= self._refresh_seconds:
            await self._refresh()  # perhaps the provider rotated its keys
            found = _pick(self._keys, kid)
        if found is None:
            raise InvalidToken(f"no key {kid!r} in the identity provider's key set")
        return found

    async def _refresh_in_background(self) -> None:
        try:
            await self._refresh()
        finally:
            self._background = None

    async def prefetch(self) -> None:
        """Fetch once at start-up, so the first requests need not wait (failure is logged)."""
        await self._refresh()

    async def _refresh(self) -> None:
        started = time.monotonic()
        async with self._lock:
            # Another request fetched while this one waited for the lock: use its result.
            if self._tried_at >= started:
                return
            self._tried_at = time.monotonic()
            try:
                keys = await self._fetch()
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as error:
                log.warning("JWKS fetch failed: %s", type(error).__name__)
                return
            self._keys, self._fetched_at = keys, time.monotonic()

    async def _fetch(self) -> dict[str | None, jwt.PyJWK]:
        async with (
            httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client,
            client.stream("GET", self._url, headers={"Accept": "application/json"}) as response,
        ):
            response.raise_for_status()
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise ValueError("the JWKS is larger than 1 MB")
        return _index(jwt.PyJWKSet.from_dict(json.loads(body)))


def _index(key_set: jwt.PyJWKSet) -> dict[str | None, jwt.PyJWK]:
    return {k.key_id: k for k in key_set.keys if k.algorithm_name in ASYMMETRIC}


def _pick(keys: dict[str | None, jwt.PyJWK], kid: str | None) -> jwt.PyJWK | None:
    if kid is not None:
        return keys.get(kid)
    # Without a kid only a key set of one key says which key was meant.
    return next(iter(keys.values())) if len(keys) == 1 else None


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._max_ttl = settings.max_token_ttl
        self._remote: RemoteKeySet | None = None
        self._local: dict[str | None, jwt.PyJWK] | None = None
        self._secret: str | None = None
        if settings.jwks_url.startswith(("http://", "https://")):
            self._remote = RemoteKeySet(
                settings.jwks_url,
                settings.jwks_timeout_seconds,
                settings.jwks_cache_seconds,
                settings.jwks_refresh_seconds,
            )
        elif settings.jwks_url:
            self._local = _index(jwt.PyJWKSet.from_dict(json.loads(Path(settings.jwks_url).read_text())))
        elif settings.development:
            self._secret = settings.dev_jwt_secret()
        else:
            raise ValueError("production requires GATEWAY_JWKS_URL")
        self._verified: OrderedDict[bytes, tuple[Claims, float]] = OrderedDict()

    async def start(self) -> None:
        if self._remote is not None:
            await self._remote.prefetch()

    async def verify(self, token: str) -> Claims:
        digest = hashlib.blake2b(token.encode(), digest_size=20).digest()
        now = time.time()
        remembered = self._verified.get(digest)
        if remembered is not None:
            if now < remembered[1]:
                self._verified.move_to_end(digest)
                return remembered[0]
            del self._verified[digest]
        claims, exp = await self._verify(token)
        self._verified[digest] = (claims, min(exp + LEEWAY, now + VERIFIED_SECONDS))
        if len(self._verified) > VERIFIED_TOKENS:
            self._verified.popitem(last=False)
        return claims

    async def _verify(self, token: str) -> tuple[Claims, float]:
        """The claims and expiry of a token checked in full."""
        try:
            key, algorithm = await self._key(token)
            payload = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": REQUIRED_CLAIMS},
                leeway=LEEWAY,
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from None
        except (TypeError, ValueError):
            # A key the signature cannot be checked with; never the client's 500.
            raise InvalidToken("the token's signature does not match its key") from None
        self._check_lifetime(payload)
        user, agency = payload.get("sub"), payload.get("agency")
        if not isinstance(user, str) or not isinstance(agency, str) or not user or not agency:
            raise InvalidToken("the token's sub and agency claims must be non-empty strings")
        if len(user) > MAX_CLAIM or len(agency) > MAX_CLAIM:
            # Both go into every audit event and log line of the token's requests.
            raise InvalidToken(f"the token's sub and agency claims may have at most {MAX_CLAIM} characters")
        return Claims(user=user, agency=agency), float(payload["exp"])

    def _check_lifetime(self, payload: dict[str, Any]) -> None:
        exp, iat = payload["exp"], payload.get("iat")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise InvalidToken("the token's exp must be a number")
        start = iat if isinstance(iat, int | float) else time.time()
        if exp - start > self._max_ttl:
            raise InvalidToken(f"the token's lifetime exceeds the maximum of {self._max_ttl} s")

    async def _key(self, token: str) -> tuple[Any, str]:
        if self._secret is not None:
            return self._secret, "HS256"
        kid = jwt.get_unverified_header(token).get("kid")
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken("the token's kid must be a string")
        if self._remote is not None:
            remote = await self._remote.key(kid)
            return remote.key, remote.algorithm_name
        assert self._local is not None
        found = _pick(self._local, kid)
        if found is None:
            raise InvalidToken(
                f"no key {kid!r} in the JWKS"
                if kid
                else "the token names no kid and the JWKS holds several keys"
            )
        return found.key, found.algorithm_name


def mint(settings: Settings, agency: str, user: str, ttl_seconds: int) -> str:
    """A development token signed with the HS256 secret."""
    now = int(time.time())
    claims = {
        "sub": user,
        "agency": agency,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, settings.dev_jwt_secret(), algorithm="HS256")
