"""One ``SIGNING_KEYS`` entry, each format: a JWK dict or JSON text, a PEM text or ``{"pem": ...}``
dict, its options (``use_for_signing``, ``signed_until``), what is refused and how the refusal names
the entry; and generate_signing_key (TOK-02). The setting as a whole is in test_keys.py."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from jwcrypto import jwk
from jwcrypto.common import base64url_decode, base64url_encode

from rar_provider import access_tokens, keys

from .test_keys import private_dict, private_pem, published_only


@pytest.fixture(scope="module")
def rsa_key() -> jwk.JWK:
    return jwk.JWK.generate(kty="RSA", size=2048)


# --- each format --------------------------------------------------------------------


def test_jwk_dict_entry(rsa_key):
    loaded = keys.load_signing_key(private_dict(rsa_key))
    assert loaded.key.thumbprint() == rsa_key.thumbprint() and loaded.key.has_private


def test_jwk_json_text_entry(rsa_key):
    loaded = keys.load_signing_key(rsa_key.export_private())
    assert loaded.key.thumbprint() == rsa_key.thumbprint()


def test_jwk_json_bytes_entry(rsa_key):
    loaded = keys.load_signing_key(rsa_key.export_private().encode())
    assert loaded.key.thumbprint() == rsa_key.thumbprint()


def test_pem_text_entry(rsa_key):
    loaded = keys.load_signing_key(private_pem(rsa_key))
    assert loaded.key.thumbprint() == rsa_key.thumbprint()
    assert (loaded.kid, loaded.alg) == (rsa_key.thumbprint(), "RS256")


def test_pem_dict_entry_with_kid_and_alg(rsa_key):
    loaded = keys.load_signing_key({"kid": "2026-11", "pem": private_pem(rsa_key), "alg": "PS256"})
    assert (loaded.kid, loaded.alg) == ("2026-11", "PS256")
    assert loaded.key.thumbprint() == rsa_key.thumbprint()


def test_kid_defaults_to_rfc7638_thumbprint_and_declared_kid_wins(rsa_key):
    data = private_dict(rsa_key)
    data.pop("kid", None)
    assert keys.load_signing_key(data).kid == rsa_key.thumbprint()
    assert keys.load_signing_key({**data, "kid": "mine"}).kid == "mine"


def test_default_kid_is_the_sha256_thumbprint_of_the_required_members(rsa_key):
    # RFC 7638 §3: SHA-256 of {"e","kty","n"} in lexicographic order, no whitespace, base64url.
    public = rsa_key.export_public(as_dict=True)
    canonical = json.dumps({m: public[m] for m in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    expected = base64url_encode(hashlib.sha256(canonical.encode()).digest())
    assert keys.load_signing_key(private_pem(rsa_key)).kid == expected


@pytest.mark.parametrize(
    "kty, options, alg",
    [
        ("RSA", {"size": 2048}, "RS256"),
        ("EC", {"crv": "P-256"}, "ES256"),
        ("EC", {"crv": "P-384"}, "ES384"),
        ("EC", {"crv": "P-521"}, "ES512"),
        ("OKP", {"crv": "Ed25519"}, "EdDSA"),
    ],
)
def test_alg_defaults(kty, options, alg):
    key = jwk.JWK.generate(kty=kty, **options)
    loaded = keys.load_signing_key(key.export_private(as_dict=True))
    assert loaded.alg == alg
    # and the key really signs with it
    token = access_tokens.sign({"sub": "x"}, loaded)
    assert json.loads(base64url_decode(token.split(".")[0]))["alg"] == alg


def test_declared_alg_is_kept(rsa_key):
    assert keys.load_signing_key(private_dict(rsa_key, alg="PS384")).alg == "PS384"


def test_public_key_refused(rsa_key):
    with pytest.raises(ImproperlyConfigured, match=r"SIGNING_KEYS'\]\[4\] is a public key"):
        keys.load_signing_key(rsa_key.export_public(as_dict=True), 4)


def test_public_pem_refused(rsa_key):
    with pytest.raises(ImproperlyConfigured, match="public key"):
        keys.load_signing_key(rsa_key.export_to_pem().decode())


def test_oct_key_refused_as_symmetric():
    secret = jwk.JWK.generate(kty="oct", size=256)
    with pytest.raises(ImproperlyConfigured, match=r"\[1\] is a symmetric key"):
        keys.load_signing_key(secret.export(as_dict=True), 1)


@pytest.mark.parametrize("alg", ["none", "HS256", "RSA-OAEP-256", "rs256"])
def test_bad_alg_refused(rsa_key, alg):
    with pytest.raises(ImproperlyConfigured, match=rf"\[2\] has alg '{alg}', not one of"):
        keys.load_signing_key(private_dict(rsa_key, alg=alg), 2)


@pytest.mark.parametrize(
    "kty, options, alg",
    [
        ("RSA", {"size": 2048}, "ES256"),
        ("EC", {"crv": "P-256"}, "ES384"),
        ("EC", {"crv": "P-256"}, "RS256"),
        ("OKP", {"crv": "Ed25519"}, "ES256"),
    ],
)
def test_alg_that_does_not_fit_the_key_refused(kty, options, alg):
    # Accepted before, these failed only when the first token was signed (an RSA key "ES256": TypeError).
    key = jwk.JWK.generate(kty=kty, **options)
    with pytest.raises(ImproperlyConfigured, match=rf"\[0\] has alg '{alg}', which does not fit"):
        keys.load_signing_key(private_dict(key, alg=alg))


def test_key_with_no_signing_alg_refused_naming_the_entry():
    exchange_key = jwk.JWK.generate(kty="OKP", crv="X25519")
    with pytest.raises(ImproperlyConfigured, match=r"SIGNING_KEYS'\]\[3\]: no signing algorithm"):
        keys.load_signing_key(exchange_key.export_private(as_dict=True), 3)


@pytest.mark.parametrize("entry", ["not a key", "{not json", "-----BEGIN PRIVATE KEY-----\nAAAA\n", 42, None])
def test_unreadable_entry_refused_naming_it(entry):
    with pytest.raises(ImproperlyConfigured, match=r"RAR_PROVIDER\['SIGNING_KEYS'\]\[5\]"):
        keys.load_signing_key(entry, 5)


def test_published_only_in_each_entry_format(rsa_key):
    as_json = json.dumps(published_only(rsa_key))
    pem = {"pem": private_pem(rsa_key), "kid": "k1", "use_for_signing": False, "signed_until": 7}
    for entry in (published_only(rsa_key), as_json, as_json.encode(), pem):
        loaded = keys.load_signing_key(entry)
        assert loaded.use_for_signing is False and loaded.key.thumbprint() == rsa_key.thumbprint()
    assert keys.load_signing_key(pem).signed_until == 7
    assert keys.load_signing_key(private_dict(rsa_key)).use_for_signing is True


@pytest.mark.parametrize(
    "option, value, says",
    [
        ("use_for_signing", "false", "true or false"),
        ("use_for_signing", 0, "true or false"),
        ("signed_until", "2026-11-30", "Unix seconds"),
        ("signed_until", True, "Unix seconds"),
        ("signed_until", -1, "Unix seconds"),
    ],
)
def test_a_wrong_option_is_refused_naming_the_entry(rsa_key, option, value, says):
    with pytest.raises(ImproperlyConfigured, match=rf"SIGNING_KEYS'\]\[2\] has {option} .*{says}"):
        keys.load_signing_key(private_dict(rsa_key, **{option: value}), 2)


# --- generate_signing_key ----------------------------------------------------------------------


@pytest.mark.parametrize("kty, alg", [("EC", "ES256"), ("OKP", "EdDSA")])
def test_generate_signing_key(kty, alg):
    data = keys.generate_signing_key(kty)
    loaded = keys.load_signing_key(data)
    assert data["alg"] == loaded.alg == alg and data["use"] == "sig"
    assert data["kid"] == loaded.kid == jwk.JWK(**data).thumbprint() and "d" in data


def test_generate_signing_key_unknown_type():
    with pytest.raises(ValueError, match="unsupported key type"):
        keys.generate_signing_key("oct")
