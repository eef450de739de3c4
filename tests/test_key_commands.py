"""The key commands: rar_generate_key (a new key, signing or published only) and rar_signing_keys
(list, promote, retire), on JWK Set files (TOK-02; docs/deploy.md, *Rotating the signing key*)."""

from __future__ import annotations

import json
import os
import stat
import time
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from jwcrypto import jwk

from rar_provider import keys

from .test_keys import configured


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

    before_rotation = int(time.time())
    run("--kty", "EC", "--jwks-file", str(path))  # rotation: appended, the new key last
    second = json.loads(path.read_text())["keys"]
    assert len(second) == 2 and second[1]["kid"] != first[0]["kid"] and "signed_until" not in second[1]
    # The old key is kept as it was, stamped with when it stopped signing (for rar_signing_keys retire).
    stopped = second[0].pop("signed_until")
    assert second[0] == first[0] and before_rotation <= stopped <= time.time()
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


# --- a rotation: --publish-only, rar_signing_keys promote / retire ---------------------------------------


def signing_keys_command(*args) -> str:
    out = StringIO()
    call_command("rar_signing_keys", *args, stdout=out)
    return out.getvalue()


def entries(path) -> list[dict]:
    return json.loads(path.read_text())["keys"]


@pytest.fixture
def key_file(tmp_path):
    """A JWK Set file with one signing EC key (EC: quick to generate)."""
    path = tmp_path / "keys.json"
    run("--kty", "EC", "--jwks-file", str(path))
    return path


def test_publish_only_appends_a_key_that_does_not_sign(key_file):
    old = entries(key_file)[0]["kid"]
    out = run("--kty", "EC", "--jwks-file", str(key_file), "--publish-only")
    added = entries(key_file)[1]
    assert added["use_for_signing"] is False and added["kid"] in out and "published only" in out
    assert f"rar_signing_keys promote --kid={added['kid']}" in out
    assert "signed_until" not in entries(key_file)[0]  # the old key still signs
    with configured(str(key_file)):
        assert keys.current_signing_key().kid == old
        assert [k.kid for k in keys.signing_keys()] == [old, added["kid"]]
    assert file_mode(key_file) == 0o600


def test_publish_only_refuses_a_file_with_no_signing_key(tmp_path):
    path = tmp_path / "keys.json"
    with pytest.raises(CommandError, match="--publish-only needs a key that signs already"):
        run("--kty", "EC", "--jwks-file", str(path), "--publish-only")
    assert not path.exists()
    with pytest.raises(CommandError, match="--publish-only needs --jwks-file"):
        run("--publish-only")


def test_list_promote_retire(key_file):
    old = entries(key_file)[0]["kid"]
    run("--kty", "EC", "--jwks-file", str(key_file), "--publish-only")
    new = entries(key_file)[1]["kid"]
    listed = signing_keys_command("--jwks-file", str(key_file))
    assert listed.splitlines() == [f"{old}  ES256  signing", f"{new}  ES256  published only"]

    before = int(time.time())
    out = signing_keys_command("--jwks-file", str(key_file), "promote", f"--kid={new}")
    assert f"{new} now signs new tokens" in out
    promoted = entries(key_file)
    assert [k["kid"] for k in promoted] == [old, new] and "use_for_signing" not in promoted[1]
    assert before <= promoted[0]["signed_until"] <= time.time()
    with configured(str(key_file)):
        assert keys.current_signing_key().kid == new
    assert "signs already" in signing_keys_command("--jwks-file", str(key_file), "promote", f"--kid={new}")
    listed = signing_keys_command("--jwks-file", str(key_file)).splitlines()
    assert listed[0].startswith(f"{old}  ES256  published, signed until 20") and listed[1].endswith("signing")

    # Tokens the old key signed may live JWT_ACCESS_TOKEN_LIFETIME + JWT_LEEWAY after it stopped.
    refused = r"may be valid until .* retiring it now rejects them. Wait 6\d\d s more, or add --force"
    with pytest.raises(CommandError, match=refused):
        signing_keys_command("--jwks-file", str(key_file), "retire", f"--kid={old}")
    assert [k["kid"] for k in entries(key_file)] == [old, new]
    # The clock moves on: the old key stopped signing 631 s ago (600 + 30 + 1).
    moved = entries(key_file)
    moved[0]["signed_until"] -= 631
    key_file.write_text(json.dumps({"keys": moved}))
    out = signing_keys_command("--jwks-file", str(key_file), "retire", f"--kid={old}")
    assert f"{old} removed" in out and [k["kid"] for k in entries(key_file)] == [new]
    assert file_mode(key_file) == 0o600


def test_retire_refuses_the_signing_key_and_an_unknown_kid(key_file):
    signer = entries(key_file)[0]["kid"]
    with pytest.raises(CommandError, match=f"{signer} signs new tokens: promote another key first"):
        signing_keys_command("--jwks-file", str(key_file), "retire", f"--kid={signer}", "--force")
    with pytest.raises(CommandError, match=f"there is no key 'nope'; the keys are: {signer}"):
        signing_keys_command("--jwks-file", str(key_file), "promote", "nope")
    with pytest.raises(CommandError, match="retire needs the kid"):
        signing_keys_command("--jwks-file", str(key_file), "retire")


def test_retire_a_key_the_file_has_no_end_for_needs_force(key_file):
    """A file written before signed_until existed: nobody knows when the old key stopped signing."""
    run("--kty", "EC", "--jwks-file", str(key_file))
    data = entries(key_file)
    del data[0]["signed_until"]
    key_file.write_text(json.dumps({"keys": data}))
    with pytest.raises(CommandError, match="does not say when .* stopped signing.*--force"):
        signing_keys_command("--jwks-file", str(key_file), "retire", f"--kid={data[0]['kid']}")
    signing_keys_command("--jwks-file", str(key_file), "retire", f"--kid={data[0]['kid']}", "--force")
    assert [k["kid"] for k in entries(key_file)] == [data[1]["kid"]]


def test_a_published_only_key_that_never_signed_can_go_at_once(key_file):
    """A rotation called off before the promotion."""
    run("--kty", "EC", "--jwks-file", str(key_file), "--publish-only")
    spare = entries(key_file)[1]["kid"]
    signing_keys_command("--jwks-file", str(key_file), "retire", f"--kid={spare}")
    assert len(entries(key_file)) == 1


def test_promote_repairs_a_file_where_nothing_signs(key_file):
    """Every key published only (rar_provider.E030): the command still runs, and promote fixes it."""
    data = entries(key_file)
    data[0]["use_for_signing"] = False
    key_file.write_text(json.dumps({"keys": data}))
    with configured(str(key_file)), pytest.raises(ImproperlyConfigured, match="none signs"):
        keys.current_signing_key()
    signing_keys_command("--jwks-file", str(key_file), "promote", f"--kid={data[0]['kid']}")
    with configured(str(key_file)):
        assert keys.current_signing_key().kid == data[0]["kid"]


def test_the_configured_file_is_the_default(key_file):
    with configured(str(key_file)):
        assert signing_keys_command().endswith("ES256  signing\n")
    with pytest.raises(CommandError, match="is not a file; name one with --jwks-file"):
        signing_keys_command()  # the test settings list keys inline


@pytest.mark.parametrize("content", ["{not json", '{"keys": [{"kty": "RSA"}]}'])
def test_rar_signing_keys_refuses_a_broken_file_without_touching_it(tmp_path, content):
    path = tmp_path / "keys.json"
    path.write_text(content)
    with pytest.raises(CommandError, match="not touching"):
        signing_keys_command("--jwks-file", str(path), "promote", "x")
    assert path.read_text() == content


def test_a_kid_that_starts_with_a_dash_is_promoted_with_the_kid_option(key_file):
    """A thumbprint kid may start with "-": ``--kid=…`` takes it where a positional reads as an option."""
    run("--kty", "EC", "--jwks-file", str(key_file), "--publish-only")
    data = json.loads(key_file.read_text())
    data["keys"][1]["kid"] = "-dash-first"
    key_file.write_text(json.dumps(data))
    with pytest.raises(CommandError):
        signing_keys_command("--jwks-file", str(key_file), "promote", "-dash-first")
    out = signing_keys_command("--jwks-file", str(key_file), "promote", "--kid=-dash-first")
    assert "-dash-first now signs new tokens" in out
