"""Bearer tokens (R1): verification of signature, expiry, not-before, issuer and audience.

Development uses HS256 with a shared secret; production verifies RS256/ES256 signatures
against a JWKS (file path or URL). The accepted algorithms are fixed by the key type, never
read from the token, which rules out ``alg: none`` and HS/RS confusion.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import jwt

from gateway.settings import Settings

ASYMMETRIC = ["RS256", "ES256"]
REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub", "agency"]


class InvalidToken(Exception):
    """The token is malformed, badly signed, expired, not yet valid or for someone else."""


@dataclass(frozen=True)
class Claims:
    user: str
    agency: str


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._jwks: jwt.PyJWKClient | jwt.PyJWKSet | None = None
        self._secret: str | None = None
        if settings.jwks_url.startswith(("http://", "https://")):
            self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300)
        elif settings.jwks_url:
            self._jwks = jwt.PyJWKSet.from_dict(json.loads(Path(settings.jwks_url).read_text()))
        else:
            self._secret = settings.dev_jwt_secret()

    def verify(self, token: str) -> Claims:
        try:
            if self._secret is not None:
                key: object = self._secret
                algorithms = ["HS256"]
            else:
                key = self._signing_key(token)
                algorithms = ASYMMETRIC
            payload = jwt.decode(
                token,
                key,  # type: ignore[arg-type]
                algorithms=algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": REQUIRED_CLAIMS},
                leeway=5,
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from None
        user, agency = payload.get("sub"), payload.get("agency")
        if not isinstance(user, str) or not isinstance(agency, str) or not user or not agency:
            raise InvalidToken("the token's sub and agency claims must be non-empty strings")
        return Claims(user=user, agency=agency)

    def _signing_key(self, token: str) -> object:
        if isinstance(self._jwks, jwt.PyJWKClient):
            return self._jwks.get_signing_key_from_jwt(token).key
        assert self._jwks is not None
        kid = jwt.get_unverified_header(token).get("kid")
        if kid is None:
            # Without a kid only a JWKS of one key says which key was meant.
            if len(self._jwks.keys) == 1:
                return self._jwks.keys[0].key
            raise jwt.InvalidKeyError("the token names no kid and the JWKS holds several keys")
        for key in self._jwks.keys:
            if key.key_id == kid:
                return key.key
        raise jwt.InvalidKeyError(f"no key {kid!r} in the JWKS")


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
