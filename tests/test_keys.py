"""Signing keys (RAR_PROVIDER["SIGNING_KEYS"]) and the rar_generate_key command (TOK-02)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
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


def run(*args) -> str:
    out = StringIO()
    call_command("rar_generate_key", *args, stdout=out)
    return out.getvalue()


def file_mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_command_prints_a_private_jwk():
    data = json.loads(run("--kty", "EC", "--crv", "P-384"))
    assert data["kty"] == "EC" and data["crv"] == "P-384" and data["alg"] == "ES384" and "d" in data
    assert keys.load_signing_key(data).kid == data["kid"]


def test_command_prints_rsa_by_default():
    data = json.loads(run())
    assert data["kty"] == "RSA" and data["alg"] == "RS256" and "d" in data
    assert jwk.JWK(**data).get_op_key("sign").key_size == 2048


def test_command_refuses_small_rsa(tmp_path):
    path = tmp_path / "keys.json"
    with pytest.raises(CommandError, match="at least 2048 bits"):
        run("--size", "1024", "--jwks-file", str(path))
    assert not path.exists()


def test_command_if_missing_needs_a_file():
    with pytest.raises(CommandError, match="--if-missing needs --jwks-file"):
        run("--if-missing")


def test_command_jwks_file_create_rotate_if_missing(tmp_path):
    path = tmp_path / "var" / "signing-keys.json"
    old_umask = os.umask(0o022)
    try:
        out = run("--kty", "EC", "--jwks-file", str(path))
    finally:
        os.umask(old_umask)
    assert file_mode(path) == 0o600
    first = json.loads(path.read_text())["keys"]
    assert len(first) == 1 and "d" in first[0] and first[0]["kid"] in out
    assert sorted(os.listdir(path.parent)) == ["signing-keys.json"]  # no temp file left behind

    run("--kty", "EC", "--jwks-file", str(path))  # rotation: appended, the new key last
    second = json.loads(path.read_text())["keys"]
    assert len(second) == 2 and second[0] == first[0] and second[1]["kid"] != first[0]["kid"]
    assert file_mode(path) == 0o600

    before = path.read_bytes()
    out = run("--jwks-file", str(path), "--if-missing")
    assert "already holds 2 key(s)" in out and path.read_bytes() == before

    with configured(str(path)):
        assert [k.kid for k in keys.signing_keys()] == [k["kid"] for k in second]
        assert keys.current_signing_key().kid == second[1]["kid"]


def test_command_if_missing_creates_the_first_key(tmp_path):
    path = tmp_path / "keys.json"
    run("--kty", "OKP", "--jwks-file", str(path), "--if-missing")
    assert [k["alg"] for k in json.loads(path.read_text())["keys"]] == ["EdDSA"]


def test_command_rewrite_tightens_mode_even_with_a_stale_temp_file(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text('{"keys": []}')
    os.chmod(path, 0o644)
    stale = tmp_path / "keys.json.tmp"  # left by a crash of the earlier implementation
    stale.write_text("")
    os.chmod(stale, 0o644)
    run("--kty", "EC", "--jwks-file", str(path))
    assert file_mode(path) == 0o600 and len(json.loads(path.read_text())["keys"]) == 1


@pytest.mark.parametrize("content", ["{not json", '{"kty": "RSA"}', "[]"])
def test_command_refuses_a_corrupted_file_without_touching_it(tmp_path, content):
    path = tmp_path / "keys.json"
    path.write_text(content)
    with pytest.raises(CommandError, match="not touching it"):
        run("--kty", "EC", "--jwks-file", str(path))
    assert path.read_text() == content
    assert os.listdir(tmp_path) == ["keys.json"]


def test_command_refuses_an_unreadable_path(tmp_path):
    with pytest.raises(CommandError, match="cannot be read"):
        run("--kty", "EC", "--jwks-file", str(tmp_path))  # a directory
