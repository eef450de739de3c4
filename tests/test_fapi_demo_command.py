"""``manage.py rar_demo_fapi_client`` (issue 12 point 5): a key pair for the demo FAPI client, its
private half in a 0600 file, its public half registered for private_key_jwt — and it works."""

from __future__ import annotations

import json
import os
import stat
from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core.management import CommandError, call_command
from jwcrypto import jwk

from rar_provider.client_keys import parse_client_jwks
from rar_provider.models import ClientPolicy

from .conftest import FORM, MONEY_TRANSFER, PAR_URL, request_params
from .fapi_helpers import assertion_pairs

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("rar_demo_fapi_client", *args, stdout=out)
    return out.getvalue()


def private_key(path) -> jwk.JWK:
    (entry,) = json.loads(path.read_text())["keys"]
    assert "d" in entry and entry["kid"] and entry["alg"]
    return jwk.JWK(**entry)


def test_the_demo_fapi_client_is_registered_and_authenticates(client, tmp_path):
    path = tmp_path / "var" / "demo-fapi-key.json"
    output = run("--key-file", str(path))
    assert "demo-fapi: private_key_jwt" in output and "written to" in output
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = private_key(path)
    policy = ClientPolicy.objects.select_related("application").get(application__client_id="demo-fapi")
    assert policy.token_endpoint_auth_method == "private_key_jwt"
    assert policy.require_pushed_authorization_requests is True
    (registered,) = parse_client_jwks(policy.jwks)
    assert registered.kid == key.get("kid") and registered.alg == "ES256"
    assert "d" not in json.loads(policy.jwks)["keys"][0]
    assert policy.application.client_type == "confidential"

    pairs = [
        *request_params([MONEY_TRANSFER], client_id="demo-fapi").items(),
        *assertion_pairs(key, "demo-fapi"),
    ]
    response = client.post(PAR_URL, urlencode(pairs), content_type=FORM)
    assert response.status_code == 201, response.content


def test_running_it_again_keeps_the_key_and_rotate_replaces_it(tmp_path):
    path = tmp_path / "key.json"
    run("--key-file", str(path), "--alg", "EdDSA")
    first = private_key(path).get("kid")
    assert "kept in" in run("--key-file", str(path))
    assert private_key(path).get("kid") == first
    run("--key-file", str(path), "--rotate", "--alg", "PS256")
    second = private_key(path)
    assert second.get("kid") != first and second.get("alg") == "PS256"
    policy = ClientPolicy.objects.get(application__client_id="demo-fapi")
    assert [key.kid for key in parse_client_jwks(policy.jwks)] == [second.get("kid")]


def test_the_fixture_clients_are_not_touched(tmp_path):
    with pytest.raises(CommandError, match="demo fixtures"):
        run("--key-file", str(tmp_path / "k.json"), "--client-id", "demo-client")
    assert not ClientPolicy.objects.filter(application__client_id="demo-client").exists()
    assert not (tmp_path / "k.json").exists()
