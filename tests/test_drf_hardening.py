"""The hardened guard (issue 13, point 4): checks RFC 8725 asks of a resource server.

Each case is a token an attacker (or a careless issuer) could present: it must be a 401
``invalid_token`` whose description says why, never accepted and never a 500. The tokens are made
with the authorization server's own key where that is the point (a valid signature, a bad claim).
"""

from __future__ import annotations

import json
import time

import pytest
from jwcrypto import jwe, jwk, jwt
from jwcrypto.common import base64url_encode

from rar_provider import access_tokens, keys

from .conftest import ISSUER, MONEY_TRANSFER
from .test_drf import API, bearer, challenge, signed_token, token_from_code_flow
from .test_drf import urlpatterns as urlpatterns  # this module is the URLconf too

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__), pytest.mark.usefixtures("hand_made_tokens")]


def claims(**overrides) -> dict:
    made = access_tokens.build_claims(
        issuer=ISSUER,
        audience=API,
        subject="1",
        client_id="demo-client",
        expires_in=300,
        authorization_details=[MONEY_TRANSFER],
    )
    return made | overrides


def signed_with(alg: str, made: dict | None = None, **header) -> str:
    """Signed with the server's current (RS256) key, under another algorithm or header."""
    key = keys.current_signing_key()
    token = jwt.JWT(header={"alg": alg, "typ": "at+jwt", "kid": key.kid, **header}, claims=made or claims())
    token.make_signed_token(key.key)
    return token.serialize()


def without(name: str) -> str:
    made = claims()
    del made[name]
    return access_tokens.sign(made, keys.current_signing_key())


def with_claims(**overrides) -> str:
    return access_tokens.sign(claims(**overrides), keys.current_signing_key())


def ten_years_token() -> str:
    return signed_token(expires_in=10 * 365 * 24 * 3600)


def attacker_signed(**header) -> str:
    """Signed with an attacker's own RSA key, the header pointing at it in some way."""
    attacker = jwk.JWK.generate(kty="RSA", size=2048)
    token = jwt.JWT(header={"alg": "RS256", "typ": "at+jwt", **header}, claims=claims())
    token.make_signed_token(attacker)
    return token.serialize(), attacker


def embedded_jwk(kid_of_server: bool) -> str:
    attacker = jwk.JWK.generate(kty="RSA", size=2048)
    kid = keys.current_signing_key().kid if kid_of_server else attacker.thumbprint()
    token = jwt.JWT(
        header={"alg": "RS256", "typ": "at+jwt", "kid": kid, "jwk": attacker.export_public(as_dict=True)},
        claims=claims(),
    )
    token.make_signed_token(attacker)
    return token.serialize()


def json_serialized() -> str:
    """A valid token re-sent in the JWS JSON serialization (its unprotected header could add typ)."""
    protected, payload, signature = signed_token().split(".")
    header = base64url_encode(json.dumps({"typ": "at+jwt"}))
    return json.dumps({"payload": payload, "protected": protected, "header": header, "signature": signature})


#: The classes of forged tokens that were refused before this change: they stay refused.
FORGED_BEFORE = {
    "embedded jwk, the attacker's kid": (lambda: embedded_jwk(False), "unknown kid"),
    "embedded jwk, the server's kid": (lambda: embedded_jwk(True), "signature is not valid"),
    "jku to the attacker's keys": (
        lambda: attacker_signed(jku="https://evil.example/jwks.json", kid="evil")[0],
        "unknown kid",
    ),
    "x5u to the attacker's certificate": (
        lambda: attacker_signed(x5u="https://evil.example/cert.pem", kid="evil")[0],
        "unknown kid",
    ),
    "kid path injection": (lambda: attacker_signed(kid="../../../../dev/null")[0], "unknown kid"),
    "kid SQL injection": (lambda: attacker_signed(kid="x' OR '1'='1")[0], "unknown kid"),
    "JSON serialization": (json_serialized, "the Authorization header must be 'Bearer' and one token"),
}


@pytest.mark.parametrize("case", list(FORGED_BEFORE))
def test_forged_token_classes_stay_refused(client, alice, case):
    make, reason = FORGED_BEFORE[case]
    response = client.get("/t/token/", **bearer(make()))
    assert response.status_code in (400, 401), response.content  # 400: not an RFC 6750 b64token
    assert reason in challenge(response)["error_description"]


REFUSED = {
    "nbf in the future": (lambda: with_claims(nbf=int(time.time()) + 600), "not valid yet (nbf)"),
    "nbf not a number": (lambda: with_claims(nbf="soon"), "nbf claim is not a number"),
    "exp ten years ahead": (ten_years_token, "lifetime exceeds this API's maximum of 3600 seconds"),
    "iat missing": (lambda: without("iat"), "no numeric iat claim"),
    "iat in the future": (lambda: with_claims(iat=int(time.time()) + 600), "issued in the future"),
    "PS256 made with the RS256 key": (lambda: signed_with("PS256"), "not the one of its key"),
    "RS512 made with the RS256 key": (lambda: signed_with("RS512"), "not the one of its key"),
    "aud a number": (lambda: with_claims(aud=7), "aud claim is not a string"),
    "scope an array": (lambda: with_claims(scope=["read"]), "scope claim is not a string"),
    "sub a number": (lambda: with_claims(sub=1), "no sub claim"),
    "detail without a type": (
        lambda: with_claims(authorization_details=[{"amount": 1}]),
        "not an array of objects with a type",
    ),
    "subject with a leading space": (lambda: with_claims(sub=" 1"), "not a user of this site"),
    "subject with a leading zero": (lambda: with_claims(sub="01"), "not a user of this site"),
    "longer than any real token": (lambda: "a" * 40000 + ".b.c", "longer than 32768 characters"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_hardened_guard_refuses(client, alice, case):
    make, reason = REFUSED[case]
    response = client.get("/t/token/", **bearer(make()))
    assert response.status_code == 401, response.content
    params = challenge(response)
    assert params["error"] == "invalid_token"
    assert reason in params["error_description"]


def test_the_same_token_with_a_sane_lifetime_is_accepted(client, alice):
    """The refusals above are about the one claim each changes: the baseline passes."""
    assert client.get("/t/token/", **bearer(with_claims(sub=str(alice.pk)))).status_code == 200


def test_max_lifetime_is_per_api(client, alice, settings):
    token = signed_token(subject=str(alice.pk), expires_in=2 * 3600)
    assert client.get("/t/token/", **bearer(token)).status_code == 401
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"MAX_LIFETIME": 3 * 3600}
    assert client.get("/t/token/", **bearer(token)).status_code == 200


def test_the_apis_algorithm_list_is_enforced(client, alice, settings):
    token = signed_token(subject=str(alice.pk))
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"ALGORITHMS": ["ES256"]}
    response = client.get("/t/token/", **bearer(token))
    assert challenge(response)["error_description"] == "the token's algorithm 'RS256' is not accepted"


def test_a_forged_algorithm_is_echoed_cut_short(client):
    response = client.get("/t/token/", **bearer(forged_alg()))
    assert response.status_code == 401
    description = challenge(response)["error_description"]
    assert "is not accepted" in description and len(description) < 120
    assert "A" * 100 not in response.content.decode()


def forged_alg() -> str:
    """A header whose ``alg`` is 3,000 characters long (unsigned: the check comes first)."""
    header = base64url_encode(json.dumps({"alg": "A" * 3000, "typ": "at+jwt", "kid": "x"}))
    payload = base64url_encode(json.dumps(claims()))
    return f"{header}.{payload}.c2ln"


# --- JWE APIs -------------------------------------------------------------------------------------


@pytest.fixture
def jwe_api(settings):
    """The API configured with its decryption key (a JWE API), and that key."""
    private = jwk.JWK.generate(kty="RSA", size=2048, kid="payments-enc-1")
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"DECRYPTION_KEY": private.export_private(as_dict=True)}
    return private


def test_a_jwe_api_refuses_a_bare_signed_token(client, alice, jwe_api):
    response = client.get("/t/token/", **bearer(signed_token(subject=str(alice.pk))))
    assert response.status_code == 401
    assert challenge(response)["error_description"] == "this API accepts only encrypted access tokens (JWE)"


def test_a_jwe_api_accepts_the_same_token_encrypted(client, alice, jwe_api):
    token = access_tokens.encrypt(
        signed_token(subject=str(alice.pk)), jwk.JWK(**jwe_api.export_public(as_dict=True))
    )
    assert client.get("/t/token/", **bearer(token)).status_code == 200


def test_a_compressed_jwe_is_refused_unread(client, alice, jwe_api):
    """``zip: DEF`` lets anyone with the public key make a tiny token that inflates to megabytes."""
    inner = signed_with("RS256", claims(sub=str(alice.pk), padding="A" * 60000))
    header = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "DEF", "cty": "JWT"}
    envelope = jwe.JWE(inner.encode(), protected=json.dumps(header))
    envelope.add_recipient(jwk.JWK(**jwe_api.export_public(as_dict=True)))
    token = envelope.serialize(compact=True)
    assert len(token) < 5000  # 60 KB compressed into a few KB
    response = client.get("/t/token/", **bearer(token))
    assert response.status_code == 401
    assert challenge(response)["error_description"] == "compressed (zip) encrypted tokens are not accepted"


def test_a_jwe_with_an_unlisted_key_algorithm_is_refused(client, alice, jwe_api):
    inner = signed_token(subject=str(alice.pk))
    header = {"alg": "RSA1_5", "enc": "A128CBC-HS256"}  # RFC 8725 §3.2: RSA1_5 is not to be used
    envelope = jwe.JWE(inner.encode(), protected=json.dumps(header), algs=["RSA1_5", "A128CBC-HS256"])
    envelope.add_recipient(jwk.JWK(**jwe_api.export_public(as_dict=True)))
    response = client.get("/t/token/", **bearer(envelope.serialize(compact=True)))
    assert response.status_code == 401
    assert "key encryption algorithm 'RSA1_5' is not accepted" in challenge(response)["error_description"]


# --- bodies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [2000, 50000])
def test_over_deep_json_at_the_demo_api_is_400_not_500(client, alice_client, depth):
    token = token_from_code_flow(alice_client)
    client.logout()
    body = "[" * depth + "]" * depth
    response = client.post("/api/transfers/", body, content_type="application/json", **bearer(token))
    assert response.status_code == 400, response.content
    assert "nested too deeply" in response.json()["detail"]
