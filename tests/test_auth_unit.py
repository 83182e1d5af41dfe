"""Token verification (R1), without a server."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gateway.http import auth
from gateway.http.auth import Claims, InvalidToken, KeysUnavailable, TokenVerifier, mint
from gateway.settings import Settings

SECRET = "unit-secret-" + "z" * 40


def settings(**values: str) -> Settings:
    return Settings(**{"GATEWAY_JWT_SECRET": SECRET, "GATEWAY_ENV": "development", **values})  # type: ignore[arg-type]


def verify(verifier: TokenVerifier, token: str) -> Claims:
    return asyncio.run(verifier.verify(token))


def claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {"sub": "alice", "agency": "ncb-fr", "iss": "gateway-dev", "aud": "gateway",
                               "iat": now, "nbf": now, "exp": now + 60}  # fmt: skip
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_a_minted_token_verifies_to_its_user_and_agency() -> None:
    verified = verify(TokenVerifier(settings()), mint(settings(), "ncb-fr", "alice", 60))
    assert (verified.user, verified.agency) == ("alice", "ncb-fr")


# Built when the test runs: claims made at collection time would all have expired by then, and
# be refused for that instead of the reason each case is about.
@pytest.mark.parametrize(
    "bad",
    [
        lambda: claims(exp=int(time.time()) - 30),
        lambda: claims(nbf=int(time.time()) + 300, exp=int(time.time()) + 600),
        lambda: claims(iss="someone-else"),
        lambda: claims(aud="another-api"),
        lambda: claims(agency=None),
        lambda: claims(sub=None),
        lambda: claims(agency=""),
        lambda: claims(agency=["ncb-fr"]),
        lambda: claims(sub="u" * 201),
        lambda: claims(exp=str(int(time.time()) + 60)),
    ],
    ids=["expired", "not-yet-valid", "issuer", "audience", "no-agency", "no-sub", "empty-agency", "agency-list",
         "long-sub", "exp-string"],
)
def test_tokens_with_bad_claims_are_refused(bad: Callable[[], dict[str, object]]) -> None:
    with pytest.raises(InvalidToken):
        verify(TokenVerifier(settings()), jwt.encode(bad(), SECRET, algorithm="HS256"))


def test_a_wrong_signature_is_refused() -> None:
    with pytest.raises(InvalidToken):
        verify(TokenVerifier(settings()), jwt.encode(claims(), "another-secret-" + "q" * 40, algorithm="HS256"))


def test_a_remembered_token_is_still_refused_once_it_expires() -> None:
    verifier = TokenVerifier(settings())
    now = int(time.time())
    token = jwt.encode(claims(iat=now, nbf=now, exp=now + 1), SECRET, algorithm="HS256")
    assert verify(verifier, token).agency == "ncb-fr"
    assert verify(verifier, token).agency == "ncb-fr"  # from memory
    time.sleep(1 + auth.LEEWAY + 0.5)
    with pytest.raises(InvalidToken):
        verify(verifier, token)


def test_remembering_a_token_never_lets_another_with_the_same_claims_through() -> None:
    verifier = TokenVerifier(settings())
    body = claims()
    assert verify(verifier, jwt.encode(body, SECRET, algorithm="HS256")).user == "alice"
    with pytest.raises(InvalidToken):
        verify(verifier, jwt.encode(body, "another-secret-" + "q" * 40, algorithm="HS256"))


def test_alg_none_is_refused() -> None:
    unsigned = jwt.encode(claims(), None, algorithm="none")  # type: ignore[arg-type]
    with pytest.raises(InvalidToken):
        verify(TokenVerifier(settings()), unsigned)


def _jwks(tmp_path: Path) -> tuple[Path, rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    keys = []
    for kid, key in (("r1", rsa_key), ("e1", ec_key)):
        algorithm = jwt.algorithms.RSAAlgorithm if kid == "r1" else jwt.algorithms.ECAlgorithm
        jwk = json.loads(algorithm.to_jwk(key.public_key()))
        keys.append({**jwk, "kid": kid, "use": "sig"})
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": keys}))
    return path, rsa_key, ec_key


def test_rs256_and_es256_verify_against_a_jwks_file(tmp_path: Path) -> None:
    path, rsa_key, ec_key = _jwks(tmp_path)
    verifier = TokenVerifier(settings(GATEWAY_JWKS_URL=str(path)))
    assert verify(verifier, jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "r1"})).agency == "ncb-fr"
    assert verify(verifier, jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": "e1"})).user == "alice"


def test_hs256_signed_with_the_public_key_is_refused_in_production(tmp_path: Path) -> None:
    """Algorithm confusion: an attacker signs HS256 with the (public) RSA key as the secret."""
    path, rsa_key, _ = _jwks(tmp_path)
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # PyJWT itself refuses to HMAC-sign with a PEM key, so the forgery is built by hand.
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "r1"}).encode())
    payload = b64(json.dumps(claims()).encode())
    signature = b64(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    forged = f"{header}.{payload}.{signature}"
    with pytest.raises(InvalidToken):
        verify(TokenVerifier(settings(GATEWAY_JWKS_URL=str(path))), forged)


def test_a_token_without_kid_is_refused_when_the_jwks_has_several_keys(tmp_path: Path) -> None:
    path, rsa_key, _ = _jwks(tmp_path)
    with pytest.raises(InvalidToken):
        verify(TokenVerifier(settings(GATEWAY_JWKS_URL=str(path))), jwt.encode(claims(), rsa_key, algorithm="RS256"))


def test_an_es256_token_naming_an_rsa_keys_kid_is_refused(tmp_path: Path) -> None:
    path, _, ec_key = _jwks(tmp_path)
    mismatched = jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": "r1"})
    with pytest.raises(InvalidToken):
        verify(TokenVerifier(settings(GATEWAY_JWKS_URL=str(path))), mismatched)


# Offsets from the moment the test runs (iat, exp in seconds; None leaves iat out): claims built
# at collection time would have expired by the time a long suite reaches them.
@pytest.mark.parametrize(
    ("iat", "exp", "ok"),
    [
        (0, 12 * 3600, True),
        (0, 12 * 3600 + 60, False),
        (-100 * 3600, 60, False),  # long-lived, nearly over
        (None, 11 * 3600, True),
        (None, 100 * 365 * 86400, False),  # valid for 100 years
    ],
    ids=["12h", "12h+1m", "100h-old", "no-iat-11h", "no-iat-100y"],
)
def test_tokens_living_longer_than_the_maximum_are_refused(iat: int | None, exp: int, ok: bool) -> None:
    now = int(time.time())
    lifetime = claims(iat=None if iat is None else now + iat, exp=now + exp)
    token = jwt.encode(lifetime, SECRET, algorithm="HS256")
    if ok:
        assert verify(TokenVerifier(settings()), token).agency == "ncb-fr"
    else:
        with pytest.raises(InvalidToken, match="lifetime"):
            verify(TokenVerifier(settings()), token)


def test_production_refuses_to_verify_without_a_jwks() -> None:
    with pytest.raises(ValueError, match="GATEWAY_JWKS_URL"):
        TokenVerifier(Settings(GATEWAY_ENV="production", GATEWAY_JWT_SECRET=SECRET))  # type: ignore[call-arg]


class JwksServer:
    """A local identity provider: serves a key set, counts fetches, and can be made slow."""

    def __init__(self, jwks: dict[str, object]) -> None:
        self.jwks, self.delay, self.fetches = jwks, 0.0, 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.fetches += 1
                time.sleep(outer.delay)
                body = json.dumps(outer.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[tuple[JwksServer, rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]]:
    path, rsa_key, ec_key = _jwks(tmp_path)
    server = JwksServer(json.loads(path.read_text()))
    try:
        yield server, rsa_key, ec_key
    finally:
        server.server.shutdown()


def test_a_jwks_url_is_fetched_once_and_an_unknown_kid_refreshes_at_most_once_per_interval(idp) -> None:  # type: ignore[no-untyped-def]
    server, rsa_key, ec_key = idp
    verifier = TokenVerifier(settings(GATEWAY_JWKS_URL=server.url, GATEWAY_JWKS_REFRESH_SECONDS="1"))
    good = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "r1"})
    rotated = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "r2"})
    unknown = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "nope"})
    mismatched = jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": "r1"})

    async def run() -> None:
        assert (await verifier.verify(good)).agency == "ncb-fr"
        assert (await verifier.verify(good)).agency == "ncb-fr"
        assert server.fetches == 1
        # The provider rotates in a new key: within the interval no fetch, after it one.
        keys = server.jwks["keys"]
        server.jwks = {"keys": [*keys, {**keys[0], "kid": "r2"}]}
        with pytest.raises(InvalidToken):
            await verifier.verify(rotated)
        assert server.fetches == 1
        await asyncio.sleep(1.1)
        assert (await verifier.verify(rotated)).agency == "ncb-fr"
        assert server.fetches == 2
        for _ in range(5):
            with pytest.raises(InvalidToken):
                await verifier.verify(unknown)
        assert server.fetches == 2  # unknown kids cannot make the gateway hammer the provider
        with pytest.raises(InvalidToken):
            await verifier.verify(mismatched)

    asyncio.run(run())


def test_a_slow_identity_provider_does_not_stall_tokens_with_known_keys(idp) -> None:  # type: ignore[no-untyped-def]
    server, rsa_key, _ = idp
    verifier = TokenVerifier(settings(GATEWAY_JWKS_URL=server.url, GATEWAY_JWKS_REFRESH_SECONDS="0",
                                      GATEWAY_JWKS_TIMEOUT_SECONDS="10"))  # fmt: skip
    good = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "r1"})
    unknown = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "rotated"})

    async def run() -> None:
        await verifier.start()
        server.delay = 3.0
        waiting = asyncio.create_task(verifier.verify(unknown))
        await asyncio.sleep(0.2)  # the refresh for the unknown kid is now in flight
        for _ in range(20):
            assert (await verifier.verify(good)).user == "alice"
        assert not waiting.done()  # the known key answered while the slow fetch went on
        with pytest.raises(InvalidToken):
            await waiting

    asyncio.run(run())


def test_an_unreachable_identity_provider_is_unavailable_not_a_bad_token(tmp_path: Path) -> None:
    verifier = TokenVerifier(settings(GATEWAY_JWKS_URL="http://127.0.0.1:9/jwks.json", GATEWAY_JWKS_TIMEOUT_SECONDS="1"))
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(KeysUnavailable):
        verify(verifier, jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "r1"}))
