"""Token verification (R1), without a server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gateway.http.auth import InvalidToken, TokenVerifier, mint
from gateway.settings import Settings

SECRET = "unit-secret-" + "z" * 40


def settings(**values: str) -> Settings:
    return Settings(GATEWAY_JWT_SECRET=SECRET, **values)  # type: ignore[call-arg]


def claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {"sub": "alice", "agency": "ncb-fr", "iss": "gateway-dev", "aud": "gateway",
                               "iat": now, "nbf": now, "exp": now + 60}  # fmt: skip
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_a_minted_token_verifies_to_its_user_and_agency() -> None:
    verified = TokenVerifier(settings()).verify(mint(settings(), "ncb-fr", "alice", 60))
    assert (verified.user, verified.agency) == ("alice", "ncb-fr")


@pytest.mark.parametrize(
    "bad",
    [
        claims(exp=int(time.time()) - 30),
        claims(nbf=int(time.time()) + 300),
        claims(iss="someone-else"),
        claims(aud="another-api"),
        claims(agency=None),
        claims(sub=None),
        claims(agency=""),
        claims(agency=["ncb-fr"]),
    ],
    ids=["expired", "not-yet-valid", "issuer", "audience", "no-agency", "no-sub", "empty-agency", "agency-list"],
)
def test_tokens_with_bad_claims_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidToken):
        TokenVerifier(settings()).verify(jwt.encode(bad, SECRET, algorithm="HS256"))


def test_a_wrong_signature_is_refused() -> None:
    with pytest.raises(InvalidToken):
        TokenVerifier(settings()).verify(jwt.encode(claims(), "another-secret-" + "q" * 40, algorithm="HS256"))


def test_alg_none_is_refused() -> None:
    unsigned = jwt.encode(claims(), None, algorithm="none")  # type: ignore[arg-type]
    with pytest.raises(InvalidToken):
        TokenVerifier(settings()).verify(unsigned)


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
    assert verifier.verify(jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "r1"})).agency == "ncb-fr"
    assert verifier.verify(jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": "e1"})).user == "alice"


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
        TokenVerifier(settings(GATEWAY_JWKS_URL=str(path))).verify(forged)


def test_a_token_without_kid_is_refused_when_the_jwks_has_several_keys(tmp_path: Path) -> None:
    path, rsa_key, _ = _jwks(tmp_path)
    with pytest.raises(InvalidToken):
        TokenVerifier(settings(GATEWAY_JWKS_URL=str(path))).verify(jwt.encode(claims(), rsa_key, algorithm="RS256"))
