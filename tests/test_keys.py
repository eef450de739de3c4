"""Signing keys (RAR_PROVIDER["SIGNING_KEYS"]), published or signing, seen through /oauth/jwks and issued
tokens (TOK-02). The key commands are in test_key_commands.py, a rotation across nodes in
test_key_rotation.py and test_two_nodes.py."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from jwcrypto import jwk
from jwcrypto.common import base64url_decode, base64url_encode

from rar_provider import access_tokens, keys


@pytest.fixture(scope="module")
def rsa_key() -> jwk.JWK:
    return jwk.JWK.generate(kty="RSA", size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> jwk.JWK:
    return jwk.JWK.generate(kty="RSA", size=2048)


def private_dict(key: jwk.JWK, **extra) -> dict:
    return {**key.export_private(as_dict=True), **extra}


def private_pem(key: jwk.JWK) -> str:
    return key.export_to_pem(private_key=True, password=None).decode()


def configured(value):
    """override_settings for SIGNING_KEYS, keeping the rest of the test settings."""
    from django.conf import settings

    return override_settings(RAR_PROVIDER={**settings.RAR_PROVIDER, "SIGNING_KEYS": value})


# --- one entry, each format --------------------------------------------------------------------


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


def config_error(value) -> str:
    """The ImproperlyConfigured message SIGNING_KEYS = value gives."""
    with configured(value), pytest.raises(ImproperlyConfigured) as raised:
        keys.signing_keys()
    return str(raised.value)


# --- the setting -------------------------------------------------------------------------------


def test_duplicate_kids_refused(rsa_key, other_rsa_key):
    assert re.search(
        "repeats kid same",
        config_error([private_dict(rsa_key, kid="same"), private_dict(other_rsa_key, kid="same")]),
    )


def test_same_key_twice_refused(rsa_key):
    assert re.search(
        f"repeats kid {rsa_key.thumbprint()}", config_error([private_dict(rsa_key), private_pem(rsa_key)])
    )


def test_bad_entry_named_by_position(rsa_key):
    assert re.search(r"\[1\] is a public key", config_error([private_dict(rsa_key), rsa_key.export_public()]))


def test_no_keys_configured():
    with configured(None):
        assert keys.signing_keys() == () and keys.public_jwks() == {"keys": []}
        with pytest.raises(ImproperlyConfigured, match="rar_generate_key"):
            keys.current_signing_key()
    with configured([]):
        assert keys.signing_keys() == ()


@pytest.mark.parametrize("value", [{"keys": []}, 42, '{"kty": "RSA"}'])
def test_setting_of_the_wrong_shape_refused(value):
    assert re.search("must be a list of keys or a JWK Set file path", config_error(value))


def test_rotation_last_signs_all_published(rsa_key, other_rsa_key):
    with configured([private_dict(rsa_key), private_pem(other_rsa_key)]):
        assert keys.current_signing_key().kid == other_rsa_key.thumbprint()
        published = keys.public_jwks()["keys"]
        assert [k["kid"] for k in published] == [rsa_key.thumbprint(), other_rsa_key.thumbprint()]
        assert all(k["use"] == "sig" and k["alg"] == "RS256" for k in published)
        assert not any(k.keys() & {"d", "p", "q", "dp", "dq", "qi"} for k in published)
        # a token the old key signed still verifies against the published set
        old = keys.load_signing_key(private_dict(rsa_key))
        claims = access_tokens.build_claims(
            issuer="https://as", audience="api", subject="1", client_id="c", expires_in=60
        )
        assert (
            access_tokens.verify(
                access_tokens.sign(claims, old), keys.public_key_set(), issuer="https://as", audience="api"
            )
            == claims
        )


def test_override_settings_takes_effect_each_time(rsa_key, other_rsa_key):
    default_kid = keys.current_signing_key().kid
    with configured([private_dict(rsa_key)]):
        assert keys.current_signing_key().kid == rsa_key.thumbprint()
        with configured([private_dict(other_rsa_key)]):
            assert keys.current_signing_key().kid == other_rsa_key.thumbprint()
        assert keys.current_signing_key().kid == rsa_key.thumbprint()
    assert keys.current_signing_key().kid == default_kid != rsa_key.thumbprint()


def test_published_key_drops_private_key_ops(rsa_key):
    # A private JWK may say key_ops ["sign"]; published as is, verifiers refuse the key for "verify".
    with configured([private_dict(rsa_key, key_ops=["sign"])]):
        published = keys.public_jwks()["keys"][0]
        assert "key_ops" not in published
        claims = access_tokens.build_claims(
            issuer="i", audience="a", subject="s", client_id="c", expires_in=60
        )
        token = access_tokens.sign(claims, keys.current_signing_key())
        assert access_tokens.verify(token, keys.public_key_set(), issuer="i", audience="a")["sub"] == "s"


# --- a JWK Set file ----------------------------------------------------------------------------


def test_jwk_set_file(tmp_path, rsa_key, other_rsa_key):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [private_dict(rsa_key)]}))
    with configured(str(path)):
        assert [k.kid for k in keys.signing_keys()] == [rsa_key.thumbprint()]
        # A rotation written to the file is picked up without a restart.
        path.write_text(json.dumps({"keys": [private_dict(rsa_key), private_dict(other_rsa_key)]}))
        assert keys.current_signing_key().kid == other_rsa_key.thumbprint()
    with configured(path):  # a pathlib.Path works too
        assert len(keys.signing_keys()) == 2


def test_jwk_set_file_invalid_json(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text("{oops")
    assert re.search("is not a JWK Set \\(invalid JSON", config_error(str(path)))


def test_jwk_set_file_without_keys_array(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text('{"kty": "RSA"}')
    with configured(str(path)), pytest.raises(ImproperlyConfigured, match="is not a JWK Set"):
        keys.signing_keys()


def test_jwk_set_file_missing_gives_the_command_hint(tmp_path):
    path = tmp_path / "nowhere" / "keys.json"
    with configured(str(path)), pytest.raises(ImproperlyConfigured) as raised:
        keys.signing_keys()
    message = str(raised.value)
    assert str(path) in message and f"rar_generate_key --jwks-file {path}" in message


def test_jwk_set_file_with_a_public_key_refused(tmp_path, rsa_key):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [rsa_key.export_public(as_dict=True)]}))
    with configured(str(path)), pytest.raises(ImproperlyConfigured, match=r"\[0\] is a public key"):
        keys.signing_keys()


# --- generate_signing_key and rar_generate_key -------------------------------------------------


@pytest.mark.parametrize("kty, alg", [("EC", "ES256"), ("OKP", "EdDSA")])
def test_generate_signing_key(kty, alg):
    data = keys.generate_signing_key(kty)
    loaded = keys.load_signing_key(data)
    assert data["alg"] == loaded.alg == alg and data["use"] == "sig"
    assert data["kid"] == loaded.kid == jwk.JWK(**data).thumbprint() and "d" in data


def test_generate_signing_key_unknown_type():
    with pytest.raises(ValueError, match="unsupported key type"):
        keys.generate_signing_key("oct")


# --- published only: a key in /oauth/jwks that signs nothing (the first step of a rotation) ------------

READ_TRANSACTIONS = {"type": "account_information", "actions": ["read_transactions"]}


def issued_token(client) -> str:
    """A JWT access token for the Payments API, issued now at the token endpoint (client credentials)."""
    from .conftest import TOKEN_URL, basic, post_form

    response = post_form(
        client,
        TOKEN_URL,
        {"grant_type": "client_credentials", "authorization_details": json.dumps([READ_TRANSACTIONS])},
        **basic("demo-service", "demo-service-secret"),
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def kid_of(token: str) -> str:
    return json.loads(base64url_decode(token.split(".")[0]))["kid"]


def published(client) -> list[dict]:
    response = client.get("/oauth/jwks")
    assert response.status_code == 200, response.content
    return response.json()["keys"]


def api_accepts(client, token: str) -> bool:
    """The demo's Payments API (its guard verifies with this project's published keys)."""
    response = client.get("/api/transfers/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code in (200, 401), response.content
    return response.status_code == 200


def published_only(key: jwk.JWK, **extra) -> dict:
    return private_dict(key, use_for_signing=False, **extra)


@pytest.mark.django_db
def test_a_published_only_key_is_in_the_jwks_and_never_signs(client, rsa_key, other_rsa_key):
    with configured([private_dict(rsa_key), published_only(other_rsa_key)]):
        jwks = published(client)
        assert [k["kid"] for k in jwks] == [rsa_key.thumbprint(), other_rsa_key.thumbprint()]
        # The option is this server's business: not a member of the published key.
        assert not any(k.keys() & {"use_for_signing", "signed_until", "d"} for k in jwks)
        tokens = [issued_token(client) for _ in range(3)]
        assert {kid_of(token) for token in tokens} == {rsa_key.thumbprint()}
        assert all(api_accepts(client, token) for token in tokens)
        assert keys.current_signing_key().kid == rsa_key.thumbprint()


@pytest.mark.django_db
@pytest.mark.usefixtures("hand_made_tokens")
def test_a_token_signed_with_a_published_only_key_verifies_at_the_api(client, rsa_key, other_rsa_key):
    """What the publish-first step is for: another node that already signs with the key."""
    claims = access_tokens.build_claims(
        issuer="http://127.0.0.1:8000",
        audience="urn:demo:payments",
        subject="demo-service",
        client_id="demo-service",
        expires_in=60,
        authorization_details=[READ_TRANSACTIONS],
        client_acts_for_itself=True,
    )
    other_node = access_tokens.sign(claims, keys.load_signing_key(private_dict(other_rsa_key)))
    with configured([private_dict(rsa_key)]):
        assert not api_accepts(client, other_node)  # a node that does not know the key yet
    with configured([private_dict(rsa_key), published_only(other_rsa_key)]):
        assert api_accepts(client, other_node)


@pytest.mark.django_db
def test_promoted_the_key_signs_and_tokens_of_the_old_key_still_verify(client, rsa_key, other_rsa_key):
    with configured([private_dict(rsa_key), published_only(other_rsa_key)]):
        before = issued_token(client)
    with configured([private_dict(rsa_key, signed_until=1), private_dict(other_rsa_key)]):
        after = issued_token(client)
        assert (kid_of(before), kid_of(after)) == (rsa_key.thumbprint(), other_rsa_key.thumbprint())
        assert api_accepts(client, before) and api_accepts(client, after)
        assert [k["kid"] for k in published(client)] == [rsa_key.thumbprint(), other_rsa_key.thumbprint()]


@pytest.mark.django_db
def test_the_signing_key_is_always_published(client, rsa_key, other_rsa_key):
    """Whatever the order and the states, the kid of an issued token is in /oauth/jwks."""
    a, b = rsa_key, other_rsa_key
    for value, signer in [
        ([private_dict(a)], a),
        ([private_dict(a), published_only(b)], a),
        ([published_only(b), private_dict(a)], a),  # an older published-only key does not sign either
        ([private_dict(a), private_dict(b)], b),
        ([private_dict(b), published_only(a, signed_until=5)], b),
    ]:
        with configured(value):
            token = issued_token(client)
            assert kid_of(token) == signer.thumbprint()
            assert kid_of(token) in [k["kid"] for k in published(client)]


@pytest.mark.django_db
def test_every_key_published_only_signs_nothing_and_the_check_says_so(client, rsa_key):
    from django.core import checks

    from .conftest import TOKEN_URL, basic, post_form

    with configured([published_only(rsa_key)]):
        assert [k["kid"] for k in published(client)] == [rsa_key.thumbprint()]  # still served
        response = post_form(
            client,
            TOKEN_URL,
            {"grant_type": "client_credentials", "authorization_details": json.dumps([READ_TRANSACTIONS])},
            **basic("demo-service", "demo-service-secret"),
        )
        body = response.json()
        assert body["error"] == "server_error"
        assert (
            "published only" in body["error_description"]
            and "rar_signing_keys promote" in body["error_description"]
        )
        errors = [m for m in checks.run_checks() if m.id == "rar_provider.E030"]
        assert len(errors) == 1 and rsa_key.thumbprint() in errors[0].msg
    assert not [m for m in checks.run_checks() if m.id == "rar_provider.E030"]


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


@pytest.mark.django_db
def test_jwks_cache_lifetime_is_the_setting(client, settings):
    assert client.get("/oauth/jwks")["Cache-Control"] == "public, max-age=300"
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "JWKS_MAX_AGE": 5}
    assert client.get("/oauth/jwks")["Cache-Control"] == "public, max-age=5"
