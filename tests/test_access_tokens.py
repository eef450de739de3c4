"""JWT access tokens (RFC 9068, TOK-01) and their encryption (RFC 7516): the pure functions."""

from __future__ import annotations

import json

import pytest
from jwcrypto import jwk, jws
from jwcrypto.common import base64url_decode, base64url_encode

from rar_provider import access_tokens
from rar_provider.access_tokens import InvalidAccessToken
from rar_provider.keys import SigningKey, load_signing_key

from .conftest import MONEY_TRANSFER

ISSUER = "https://as.example.com"
AUDIENCE = "urn:demo:payments"
NOW = 1_800_000_000


@pytest.fixture(scope="module")
def signing_key() -> SigningKey:
    return load_signing_key(jwk.JWK.generate(kty="RSA", size=2048).export_private(as_dict=True))


@pytest.fixture(scope="module")
def key_set(signing_key) -> jwk.JWKSet:
    published = jwk.JWKSet()
    published.add(jwk.JWK(**signing_key.public_jwk()))
    return published


@pytest.fixture(scope="module")
def api_key() -> jwk.JWK:
    """An API's RSA encryption key pair."""
    return jwk.JWK.generate(kty="RSA", size=2048, kid="api-enc-1")


def claims(**overrides) -> dict:
    values = {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "subject": "42",
        "client_id": "demo-client",
        "expires_in": 300,
        "scope": "profile",
        "authorization_details": [MONEY_TRANSFER],
        "now": NOW,
    }
    values.update(overrides)
    return access_tokens.build_claims(**values)


def header_of(token: str) -> dict:
    return json.loads(base64url_decode(token.split(".")[0]))


def b64(data: dict) -> str:
    return base64url_encode(json.dumps(data).encode())


def verify(token: str, key_set: jwk.JWKSet, **overrides) -> dict:
    options = {"issuer": ISSUER, "audience": AUDIENCE, "now": NOW + 10, **overrides}
    return access_tokens.verify(token, key_set, **options)


def refused(token: str, key_set: jwk.JWKSet, **overrides) -> str:
    with pytest.raises(InvalidAccessToken) as raised:
        verify(token, key_set, **overrides)
    return str(raised.value)


# --- claims and header (TOK-01) ----------------------------------------------------------------


def test_tok_01_claims():
    made = claims()
    assert set(made) == {
        "iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "authorization_details"
    }  # fmt: skip
    assert made["iss"] == ISSUER and made["sub"] == "42" and made["aud"] == AUDIENCE
    assert made["iat"] == NOW and made["exp"] == NOW + 300
    assert made["client_id"] == "demo-client" and made["scope"] == "profile"
    assert made["authorization_details"] == [MONEY_TRANSFER]
    assert isinstance(made["jti"], str) and len(made["jti"]) >= 16


def test_tok_01_jti_unique():
    assert len({claims()["jti"] for _ in range(200)}) == 200


def test_tok_01_scope_and_details_only_when_present():
    made = claims(scope="", authorization_details=None)
    assert "scope" not in made and "authorization_details" not in made
    assert "authorization_details" not in claims(authorization_details=[])


def test_tok_01_iat_defaults_to_now():
    import time

    before = int(time.time())
    made = claims(now=None, expires_in=60)
    assert before <= made["iat"] <= int(time.time()) and made["exp"] == made["iat"] + 60


def test_tok_01_signed_header(signing_key):
    token = access_tokens.sign(claims(), signing_key)
    assert header_of(token) == {"alg": "RS256", "typ": "at+jwt", "kid": signing_key.kid}
    payload = json.loads(base64url_decode(token.split(".")[1]))
    assert payload == verify(token, jwk_set_of(signing_key))


def jwk_set_of(*signing_keys: SigningKey) -> jwk.JWKSet:
    published = jwk.JWKSet()
    for key in signing_keys:
        published.add(jwk.JWK(**key.public_jwk()))
    return published


# --- verify ------------------------------------------------------------------------------------


def test_verify_accepts_a_good_token(signing_key, key_set):
    made = claims()
    assert verify(access_tokens.sign(made, signing_key), key_set) == made


def test_verify_accepts_an_audience_list(signing_key, key_set):
    token = access_tokens.sign({**claims(), "aud": ["urn:other", AUDIENCE]}, signing_key)
    assert verify(token, key_set)["aud"] == ["urn:other", AUDIENCE]


def test_verify_accepts_media_type_typ(signing_key, key_set):
    # RFC 9068 §4: "application/at+jwt" is the same type.
    token = jws.JWS(json.dumps(claims()))
    header = {"alg": "RS256", "typ": "application/at+jwt", "kid": signing_key.kid}
    token.add_signature(signing_key.key, alg="RS256", protected=header)
    assert verify(token.serialize(compact=True), key_set)["sub"] == "42"


def test_verify_refuses_a_bad_signature_from_another_key_with_the_same_kid(signing_key, key_set):
    impostor = load_signing_key(jwk.JWK.generate(kty="RSA", size=2048).export_private(as_dict=True))
    forged = access_tokens.sign(claims(), SigningKey(kid=signing_key.kid, alg="RS256", key=impostor.key))
    assert header_of(forged)["kid"] == signing_key.kid
    assert "signature is not valid" in refused(forged, key_set)


def test_verify_refuses_a_tampered_payload(signing_key, key_set):
    header, _, signature = access_tokens.sign(claims(), signing_key).split(".")
    tampered = f"{header}.{b64({**claims(), 'sub': 'mallory'})}.{signature}"
    assert "signature is not valid" in refused(tampered, key_set)


def test_verify_refuses_an_unknown_kid(signing_key, key_set):
    token = access_tokens.sign(claims(), SigningKey(kid="other", alg="RS256", key=signing_key.key))
    assert "unknown kid" in refused(token, key_set)


def test_verify_refuses_a_token_without_kid(signing_key, key_set):
    token = jws.JWS(json.dumps(claims()))
    token.add_signature(signing_key.key, alg="RS256", protected={"alg": "RS256", "typ": "at+jwt"})
    assert "unknown kid" in refused(token.serialize(compact=True), key_set)


def test_verify_refuses_wrong_issuer(signing_key, key_set):
    token = access_tokens.sign(claims(issuer="https://evil.example.com"), signing_key)
    assert "issued by 'https://evil.example.com'" in refused(token, key_set)


def test_verify_refuses_wrong_audience(signing_key, key_set):
    token = access_tokens.sign(claims(audience="urn:other:api"), signing_key)
    assert "not meant for this API" in refused(token, key_set)


def test_verify_refuses_missing_audience(signing_key, key_set):
    made = claims()
    del made["aud"]
    assert "aud claim is not a string or an array of strings" in refused(
        access_tokens.sign(made, signing_key), key_set
    )


def test_verify_expiry_with_leeway(signing_key, key_set):
    token = access_tokens.sign(claims(expires_in=60), signing_key)  # exp = NOW + 60
    assert verify(token, key_set, now=NOW + 60)["exp"] == NOW + 60
    assert verify(token, key_set, now=NOW + 90, leeway=30)  # within the leeway
    assert "expired" in refused(token, key_set, now=NOW + 91, leeway=30)
    assert "expired" in refused(token, key_set, now=NOW + 61, leeway=0)


def test_verify_refuses_missing_or_non_numeric_exp(signing_key, key_set):
    made = claims()
    del made["exp"]
    assert "no numeric exp claim" in refused(access_tokens.sign(made, signing_key), key_set)
    for bad in ("9999999999", True, None):
        token = access_tokens.sign({**claims(), "exp": bad}, signing_key)
        assert "no numeric exp claim" in refused(token, key_set)


def test_verify_refuses_iat_in_the_future(signing_key, key_set):
    token = access_tokens.sign(claims(now=NOW + 100), signing_key)
    assert "issued in the future" in refused(token, key_set, now=NOW, leeway=30)
    assert verify(token, key_set, now=NOW + 70, leeway=30)["iat"] == NOW + 100  # within the leeway


@pytest.mark.parametrize("typ", [None, "JWT", "at+JWS", "jwt"])
def test_verify_refuses_typ_not_at_jwt(signing_key, key_set, typ):
    header = {"alg": "RS256", "kid": signing_key.kid}
    if typ is not None:
        header["typ"] = typ
    token = jws.JWS(json.dumps(claims()))
    token.add_signature(signing_key.key, alg="RS256", protected=header)
    assert "typ is not at+jwt" in refused(token.serialize(compact=True), key_set)


def test_verify_refuses_alg_none(signing_key, key_set):
    header = {"alg": "none", "typ": "at+jwt", "kid": signing_key.kid}
    for unsigned in (f"{b64(header)}.{b64(claims())}.", f"{b64(header)}.{b64(claims())}.c2ln"):
        with pytest.raises(InvalidAccessToken):
            verify(unsigned, key_set)


def test_verify_refuses_hmac_with_the_public_key(signing_key, key_set):
    # The classic confusion: HS256 keyed with the published RSA key's bytes.
    public_pem = jwk.JWK(**signing_key.public_jwk()).export_to_pem()
    secret = jwk.JWK(kty="oct", k=base64url_encode(public_pem))
    token = jws.JWS(json.dumps(claims()))
    token.add_signature(
        secret, alg="HS256", protected={"alg": "HS256", "typ": "at+jwt", "kid": signing_key.kid}
    )
    assert "algorithm 'HS256' is not accepted" in refused(token.serialize(compact=True), key_set)


def test_verify_refuses_typ_only_in_an_unprotected_header(signing_key, key_set):
    # A JWT of another type signed by the same key, re-wrapped in the JWS JSON serialization with
    # an unprotected {"typ": "at+jwt"}: before the fix, verify() accepted it (RFC 8725 §3.11).
    other = jws.JWS(json.dumps(claims()))
    other.add_signature(signing_key.key, alg="RS256", protected={"alg": "RS256", "kid": signing_key.kid})
    protected, payload, signature = other.serialize(compact=True).split(".")
    wrapped = json.dumps(
        {"protected": protected, "payload": payload, "signature": signature, "header": {"typ": "at+jwt"}}
    )
    assert "not a signed JWT" in refused(wrapped, key_set)
    flattened = json.dumps(
        {"protected": b64({"alg": "RS256", "typ": "at+jwt", "kid": signing_key.kid}), "payload": payload}
    )
    assert "not a signed JWT" in refused(flattened, key_set)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "garbage",
        "a.b",
        "a.b.c",
        "....",
        "eyJhbGciOiJSUzI1NiJ9..",
        "x" * 20 + ".y.z.w.v",
        "{}",
        None,
        b"a.b.c",
    ],
)
def test_verify_refuses_garbage(key_set, garbage):
    with pytest.raises(InvalidAccessToken):
        verify(garbage, key_set)


def test_verify_refuses_a_payload_that_is_not_an_object(signing_key, key_set):
    token = jws.JWS(json.dumps(["not", "claims"]))
    token.add_signature(
        signing_key.key, alg="RS256", protected={"alg": "RS256", "typ": "at+jwt", "kid": signing_key.kid}
    )
    assert "not a JSON object" in refused(token.serialize(compact=True), key_set)


def test_verify_refuses_an_encrypted_token_without_decrypting(signing_key, key_set, api_key):
    encrypted = access_tokens.encrypt(access_tokens.sign(claims(), signing_key), api_key)
    assert "not a signed JWT" in refused(encrypted, key_set)


@pytest.mark.parametrize(
    "kty, options", [("EC", {"crv": "P-256"}), ("EC", {"crv": "P-521"}), ("OKP", {"crv": "Ed25519"})]
)
def test_verify_other_key_types(kty, options):
    key = load_signing_key(jwk.JWK.generate(kty=kty, **options).export_private(as_dict=True))
    made = claims()
    assert verify(access_tokens.sign(made, key), jwk_set_of(key)) == made


# --- encryption --------------------------------------------------------------------------------


def public_text(key: jwk.JWK) -> str:
    return key.export_public()


def test_encrypt_decrypt_rsa_oaep_256_a256gcm(signing_key, key_set, api_key):
    signed = access_tokens.sign(claims(), signing_key)
    public = access_tokens.load_public_key(public_text(api_key))
    encrypted = access_tokens.encrypt(signed, public)
    assert encrypted.count(".") == 4 and signed.split(".")[1] not in encrypted
    header = header_of(encrypted)
    assert header == {"alg": "RSA-OAEP-256", "enc": "A256GCM", "cty": "JWT", "typ": "JWT", "kid": "api-enc-1"}
    inner = access_tokens.decrypt(encrypted, api_key)
    assert inner == signed
    assert verify(inner, key_set)["authorization_details"] == [MONEY_TRANSFER]


def test_encrypt_decrypt_ec_ecdh_es_a256kw(signing_key, key_set):
    api_ec = jwk.JWK.generate(kty="EC", crv="P-256")
    public = access_tokens.load_public_key(api_ec.export_to_pem().decode())  # PEM this time
    signed = access_tokens.sign(claims(), signing_key)
    encrypted = access_tokens.encrypt(signed, public, alg="ECDH-ES+A256KW", enc="A128CBC-HS256")
    header = header_of(encrypted)
    assert header["alg"] == "ECDH-ES+A256KW" and header["enc"] == "A128CBC-HS256"
    assert "epk" in header and "d" not in header["epk"]
    assert verify(access_tokens.decrypt(encrypted, api_ec), key_set)["sub"] == "42"


def test_decrypt_with_the_wrong_key_fails(signing_key, api_key):
    encrypted = access_tokens.encrypt(access_tokens.sign(claims(), signing_key), api_key)
    other = jwk.JWK.generate(kty="RSA", size=2048)
    with pytest.raises(InvalidAccessToken, match="cannot be decrypted"):
        access_tokens.decrypt(encrypted, other)
    with pytest.raises(InvalidAccessToken, match="cannot be decrypted"):
        access_tokens.decrypt(encrypted, jwk.JWK.generate(kty="EC", crv="P-256"))


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "a.b.c.d.e"])
def test_decrypt_garbage_fails(api_key, token):
    with pytest.raises(InvalidAccessToken):
        access_tokens.decrypt(token, api_key)


def test_decrypt_a_tampered_token_fails(signing_key, api_key):
    parts = access_tokens.encrypt(access_tokens.sign(claims(), signing_key), api_key).split(".")
    ciphertext = bytearray(base64url_decode(parts[3]))
    ciphertext[0] ^= 1
    parts[3] = base64url_encode(bytes(ciphertext))
    with pytest.raises(InvalidAccessToken, match="cannot be decrypted"):
        access_tokens.decrypt(".".join(parts), api_key)


def test_load_public_key_accepts_jwk_json_pem_and_certificate_like_input(api_key):
    assert access_tokens.load_public_key(public_text(api_key)).thumbprint() == api_key.thumbprint()
    pem = api_key.export_to_pem().decode()
    assert access_tokens.load_public_key(f"\n  {pem}\n").thumbprint() == api_key.thumbprint()


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "no key was given"),
        ("   \n", "no key was given"),
        (None, "no key was given"),
        ("garbage", "not a readable public key"),
        ("{not json", "not a readable public key"),
        ('{"kty": "RSA"}', "not a readable public key"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "not a readable public key"),
    ],
)
def test_load_public_key_errors(text, message):
    with pytest.raises(ValueError, match=message):
        access_tokens.load_public_key(text)


def test_load_public_key_refuses_symmetric_and_okp_keys():
    with pytest.raises(ValueError, match="a oct key cannot receive encrypted tokens"):
        access_tokens.load_public_key(jwk.JWK.generate(kty="oct", size=256).export())
    with pytest.raises(ValueError, match="a OKP key cannot receive"):
        access_tokens.load_public_key(jwk.JWK.generate(kty="OKP", crv="X25519").export_public())
