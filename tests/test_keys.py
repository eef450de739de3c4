"""Signing keys (RAR_PROVIDER["SIGNING_KEYS"]) as a whole, published or signing, seen through /oauth/jwks
and issued tokens (TOK-02). One entry and its formats: test_key_entries.py; the key commands:
test_key_commands.py; a rotation across nodes: test_key_rotation.py and test_two_nodes.py."""

from __future__ import annotations

import json
import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from jwcrypto import jwk
from jwcrypto.common import base64url_decode

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


@pytest.mark.django_db
def test_jwks_cache_lifetime_is_the_setting(client, settings):
    assert client.get("/oauth/jwks")["Cache-Control"] == "public, max-age=300"
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "JWKS_MAX_AGE": 5}
    assert client.get("/oauth/jwks")["Cache-Control"] == "public, max-age=5"
