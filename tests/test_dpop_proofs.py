"""rar_provider.dpop: one proof checked as RFC 9449 §4.3 says, each refusal naming its check.

The verifier is called directly here (every endpoint uses the same function): the endpoint tests
are tests/test_dpop_endpoints.py and tests/test_drf_dpop.py.
"""

from __future__ import annotations

import json
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from jwcrypto.common import base64url_encode

from rar_provider.dpop import (
    DPoPProblem,
    UseDPoPNonce,
    access_token_hash,
    configured_algorithms,
    is_valid_nonce,
    new_nonce,
    verify_proof,
)
from rar_provider.dpop.proofs import normalized_uri

from .dpop_helpers import TOKEN_HTU, DPoPKey


def verify(proof: str, **kwargs):
    kwargs.setdefault("method", "POST")
    kwargs.setdefault("uri", TOKEN_HTU)
    return verify_proof(proof, **kwargs)


def refused(proof: str, mentions: str, **kwargs) -> DPoPProblem:
    with pytest.raises(DPoPProblem) as raised:
        verify(proof, **kwargs)
    assert raised.value.error == "invalid_dpop_proof"
    assert mentions in raised.value.description, raised.value.description
    return raised.value


@pytest.mark.parametrize("alg", ["ES256", "PS256", "EdDSA"])
def test_a_good_proof_names_its_key(alg):
    key = DPoPKey(alg)
    proof = verify(key.proof())
    assert proof.jkt == key.jkt and len(proof.jkt) == 43
    assert proof.htm == "POST" and proof.htu == TOKEN_HTU


def test_the_thumbprint_is_rfc_7638():
    """RFC 7638 §3.1's example key and thumbprint."""
    from jwcrypto import jwk

    key = jwk.JWK(
        kty="RSA",
        e="AQAB",
        n="0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRX"
        "jBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqz"
        "s8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-"
        "G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    )
    assert key.thumbprint() == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_the_access_token_hash_is_rfc_9449s_example():
    """RFC 9449 §7.1, Figure 13: the token and its ``ath``."""
    assert access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU") == (
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    )


@pytest.mark.parametrize(
    ("make", "mentions"),
    [
        (lambda key: "", "empty"),
        (lambda key: "a.b", "not one compact signed JWT"),
        (lambda key: key.proof() + "," + key.proof(), "not one compact signed JWT"),  # two headers joined
        (lambda key: "x" * 9000, "longer than 8192"),
        (lambda key: f"{base64url_encode('[1]')}.e30.c2ln", "not a JSON object"),
        (lambda key: "!!!.e30.c2ln", "not one compact signed JWT"),
        (lambda key: key.proof(header={"typ": "JWT"}), "typ is 'JWT', not dpop+jwt"),
        (lambda key: key.proof(header={"typ": None}), "typ is None"),
        (lambda key: key.proof(header={"typ": "at+jwt"}), "not dpop+jwt"),
        (lambda key: key.proof(header={"jwk": None}), "has no jwk"),
        (lambda key: key.proof(header={"jwk": "abc"}), "has no jwk"),
        (lambda key: key.forged(jwk=key.key.export_private(as_dict=True)), "private"),
        (lambda key: key.forged(jwk={**key.public, "k": "c2VjcmV0"}), "private or symmetric"),
        (lambda key: key.forged(jwk=DPoPKey("ES384").public), "not a key for ES256"),
        (lambda key: key.forged(jwk=DPoPKey("EdDSA").public), "not a key for ES256"),
        (lambda key: key.forged(jwk={**key.public, "alg": "ES384"}), "names another alg"),
        (lambda key: key.forged(jwk={**key.public, "x": 5}), "not a valid public key"),
        (lambda key: key.forged(signature=""), "not one compact signed JWT"),
        (lambda key: key.proof(header={"jwk": DPoPKey("ES256").public}), "signature does not verify"),
        (lambda key: key.proof(drop=("jti",)), "no jti claim"),
        (lambda key: key.proof(drop=("htm",)), "no htm claim"),
        (lambda key: key.proof(drop=("htu",)), "no htu claim"),
        (lambda key: key.proof(drop=("iat",)), "no numeric iat"),
        (lambda key: key.proof(claims={"iat": "now"}), "no numeric iat"),
        (lambda key: key.proof(claims={"iat": True}), "no numeric iat"),
        (lambda key: key.proof(claims={"jti": 7}), "no jti claim"),
        (lambda key: key.proof(jti="j" * 257), "jti is longer than 256"),
        (lambda key: key.proof(htm="GET"), "for 'GET' requests, not POST (htm)"),
        (lambda key: key.proof(htm="post"), "(htm)"),
        (lambda key: key.proof(htu="http://127.0.0.1:8000/oauth/par"), "(htu)"),
        (lambda key: key.proof(htu="https://127.0.0.1:8000/oauth/token"), "(htu)"),
        (lambda key: key.proof(htu="http://127.0.0.1:8001/oauth/token"), "(htu)"),
        (lambda key: key.proof(htu="http://evil@127.0.0.1:8000/oauth/token"), "(htu)"),
        (lambda key: key.proof(htu="/oauth/token"), "(htu)"),
        (lambda key: key.proof(iat=time.time() + 120), "made in the future"),
        (lambda key: key.proof(iat=time.time() - 600), "older than 60 seconds"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_broken_proof_is_refused_naming_the_check(make, mentions):
    refused(make(DPoPKey()), mentions)


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "ES384", "A" * 80])
def test_an_algorithm_outside_the_allow_list_is_refused(alg):
    key = DPoPKey("RS256" if alg == "RS256" else "ES256")
    proof = key.proof() if alg == "RS256" else key.forged(alg=alg)
    problem = refused(proof, "is not accepted; use one of ES256, PS256, EdDSA")
    assert len(problem.description) < 150  # a forged alg is echoed cut short


def test_rs256_is_accepted_when_the_setting_lists_it(settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "DPOP_SIGNING_ALGS": ["RS256"]}
    key = DPoPKey("RS256")
    assert verify(key.proof()).jkt == key.jkt
    refused(DPoPKey("ES256").proof(), "use one of RS256")


def test_a_short_rsa_key_is_refused():
    from jwcrypto import jwk

    key = DPoPKey("PS256")
    key.key = jwk.JWK.generate(kty="RSA", size=1024)
    key.public = key.key.export_public(as_dict=True)
    refused(key.proof(), "shorter than 2048 bits")


@pytest.mark.parametrize("algs", [["none"], ["HS256"], ["ES256", "HS512"], [], "ES256"])
def test_the_setting_takes_asymmetric_algorithms_only(settings, algs):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "DPOP_SIGNING_ALGS": algs}
    with pytest.raises(ImproperlyConfigured, match="DPOP_SIGNING_ALGS"):
        configured_algorithms()


@pytest.mark.parametrize(
    "htu",
    [
        "HTTP://127.0.0.1:8000/oauth/token",
        "http://127.0.0.1:8000/oauth/token?x=1",
        "http://127.0.0.1:8000/oauth/token#frag",
        "http://127.0.0.1:8000/oauth/%74oken",
    ],
)
def test_htu_is_compared_after_normalization_without_query_and_fragment(htu):
    """RFC 9449 §4.3: query and fragment are ignored; RFC 3986 §6.2.2–§6.2.3 normalization."""
    assert verify(DPoPKey().proof(htu=htu)).jkt


def test_default_ports_and_host_case_normalize():
    assert normalized_uri("https://Example.COM:443/a") == normalized_uri("https://example.com/a")
    assert normalized_uri("http://example.com:80") == ("http", "example.com", 80, "/")
    assert normalized_uri("ftp://example.com/a") is None
    assert normalized_uri("http://example.com:99999/a") is None


def test_the_proof_of_an_iat_at_the_edge_of_the_window_is_accepted():
    now = time.time()
    key = DPoPKey()
    assert verify(key.proof(iat=now - 60 - 30 + 1), now=now)
    assert verify(key.proof(iat=now + 29), now=now)


def test_a_proof_is_used_once():
    key = DPoPKey()
    proof = key.proof()
    assert verify(proof).jti
    refused(proof, "already used (its jti)")


def test_a_refused_proof_does_not_spend_its_jti():
    """Every check runs before the jti is remembered: a proof sent to the wrong URL first still works."""
    key = DPoPKey()
    proof = key.proof()
    refused(proof, "(htu)", uri="http://127.0.0.1:8000/oauth/par")
    assert verify(proof).jkt == key.jkt


def test_two_keys_may_use_the_same_jti():
    assert verify(DPoPKey().proof(jti="same")) and verify(DPoPKey().proof(jti="same"))


def test_ath_binds_the_proof_to_one_access_token():
    key = DPoPKey()
    assert verify(key.proof(access_token="token-1"), access_token="token-1")
    refused(key.proof(), "no ath claim", access_token="token-1")
    refused(key.proof(access_token="token-2"), "not the hash of this access token", access_token="token-1")
    refused(key.proof(claims={"ath": 5}), "no ath claim", access_token="token-1")


def test_a_required_nonce_is_asked_for_and_then_accepted():
    key = DPoPKey()
    with pytest.raises(UseDPoPNonce) as raised:
        verify(key.proof(), nonce_server="as")
    assert (
        raised.value.error == "use_dpop_nonce" and "must carry the server's nonce" in raised.value.description
    )
    nonce = raised.value.nonce
    assert is_valid_nonce(nonce, "as")
    assert verify(key.proof(nonce=nonce), nonce_server="as").claims["nonce"] == nonce
    with pytest.raises(UseDPoPNonce, match="not the current one"):
        verify(key.proof(nonce="x" * 32), nonce_server="as")


def test_nonces_are_stateless_slots_of_their_own_server(settings):
    """Valid in their slot and the next (every node recomputes them), for the server that made them."""
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "DPOP_NONCE_LIFETIME": 300}
    now = 1_000_000 * 300.0
    nonce = new_nonce("as", now=now)
    assert is_valid_nonce(nonce, "as", now=now + 299)
    assert is_valid_nonce(nonce, "as", now=now + 599)
    assert not is_valid_nonce(nonce, "as", now=now + 600)
    assert not is_valid_nonce(nonce, "urn:demo:payments", now=now)
    assert new_nonce("as", now=now) == nonce and new_nonce("as", now=now + 300) != nonce
    settings.SECRET_KEY = "another-secret-key-" * 3
    assert not is_valid_nonce(nonce, "as", now=now)


@pytest.mark.parametrize("nonce", [None, 5, "", "a" * 31, "a" * 33, json.dumps({"n": 1})])
def test_malformed_nonces_are_not_valid(nonce):
    assert not is_valid_nonce(nonce, "as")
