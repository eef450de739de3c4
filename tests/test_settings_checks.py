"""Issue 8, examples 4 and 5: settings that cannot be wrong quietly, and one issuer everywhere.

Every ``RAR_PROVIDER`` key is validated by a system check with a stable id (docs/settings.md lists
them); a value of the wrong kind is a check message, never a traceback. The issuer has one source
(``rar_settings.issuer``): metadata, authorization responses, JWT ``iss``, introspection and the
DRF guard agree on it whether ``ISSUER`` is set or derived from the request.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from rar_provider.checks import check_settings, check_tokens
from rar_provider.conf import DEFAULTS

from .conftest import (
    MONEY_TRANSFER,
    approve,
    basic,
    exchange,
    post_form,
    pushed_request_uri,
    redirect_params,
)
from .test_checks import dot, fresh_dot_settings, ours, rar  # noqa: F401 - the autouse fixture too
from .test_demo_api import APPROVED, post_transfer

ROOT = Path(__file__).resolve().parent.parent


# -- example 5: RAR_PROVIDER not a dict ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [[("ISSUER", "https://auth.example.com")], "https://auth.example.com", None]
)
def test_rar_provider_not_a_dict_is_a_check_error_not_a_traceback(value):
    with override_settings(RAR_PROVIDER=value):
        assert ours(checks.run_checks()) == ["rar_provider.E005"]
        with pytest.raises(SystemCheckError) as raised:
            call_command("check")
    assert "rar_provider.E005" in str(raised.value)
    assert f"must be a dict, not {type(value).__name__}" in str(raised.value)


# -- example 5: SIGNING_KEYS that is neither keys nor a path ---------------------------------------------


@pytest.mark.parametrize("value", ["not-a-key", "my signing key", "   "])
def test_e006_signing_keys_text_that_is_no_key_and_no_path(value):
    with rar(SIGNING_KEYS=value):
        messages = check_tokens()
    assert [m.id for m in messages] == ["rar_provider.E006"]
    assert messages[0].level == checks.ERROR
    assert "neither a list of keys nor the path of a JWK Set file" in messages[0].msg


@pytest.mark.parametrize("name", ["keys.json", "var/signing-keys.json", "/etc/auth/keys"])
def test_w002_a_path_that_does_not_exist_yet(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with rar(SIGNING_KEYS=name):
        assert [m.id for m in check_tokens()] == ["rar_provider.W002"]


# -- E010: the issuer identifier -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "issuer, says",
    [
        ("auth.example.com", "absolute URL with scheme and host"),
        ("/oauth", "absolute URL with scheme and host"),
        ("https://", "absolute URL with scheme and host"),
        ("ftp://auth.example.com", "absolute URL with scheme and host"),
        ("https://auth.example.com?tenant=1", "no query or fragment"),
        ("https://auth.example.com#x", "no query or fragment"),
        ("http://auth.example.com", "must use https"),
        (42, "must be a URL string, not int"),
    ],
)
def test_e010_issuer_that_is_not_an_issuer_identifier(issuer, says):
    """Example 4: ``"auth.example.com"`` passed check and published ``auth.example.com/oauth/authorize``."""
    with rar(ISSUER=issuer), dot(OIDC_ISS_ENDPOINT=None):
        messages = checks.run_checks()
    assert ours(messages) == ["rar_provider.E010"]
    (error,) = [m for m in messages if m.id == "rar_provider.E010"]
    assert error.level == checks.ERROR
    assert says in error.msg


@pytest.mark.parametrize(
    "issuer",
    [
        "https://auth.example.com",
        "https://auth.example.com/",
        "https://bank.example/as",
        "http://localhost:8000",
    ],
)
def test_e010_good_issuers(issuer):
    with rar(ISSUER=issuer), dot(OIDC_ISS_ENDPOINT=None):
        assert ours(checks.run_checks()) == []


def test_e010_dot_oidc_issuer_must_be_the_same():
    with rar(ISSUER="https://auth.example.com"), dot(OIDC_ISS_ENDPOINT="https://other.example.com"):
        messages = check_settings()
    assert [m.id for m in messages] == ["rar_provider.E010"]
    assert "OIDC_ISS_ENDPOINT" in messages[0].msg
    with rar(ISSUER="https://auth.example.com/"), dot(OIDC_ISS_ENDPOINT="https://auth.example.com"):
        assert check_settings() == []


# -- E005 for every other key: wrong type ----------------------------------------------------------------


def test_e005_default_resource_server_must_be_text():
    with rar(DEFAULT_RESOURCE_SERVER=42):
        messages = check_settings()
    assert [m.id for m in messages] == ["rar_provider.E005"]
    assert "DEFAULT_RESOURCE_SERVER" in messages[0].msg and "not int" in messages[0].msg


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_every_setting_is_validated(key):
    """A value of the wrong kind in any key is an error with a stable id, never silence or a traceback."""
    with rar(**{key: object()}):
        messages = [m for m in checks.run_checks() if (m.id or "").startswith("rar_provider.")]
    assert messages, f"RAR_PROVIDER[{key!r}] = object() passes check"
    assert all(m.level >= checks.ERROR for m in messages), [m.id for m in messages]
    assert key in " ".join(m.msg for m in messages)


# -- example 4: one issuer -------------------------------------------------------------------------------


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def issuers_seen(client, alice) -> dict[str, str]:
    """Run a whole flow (JWT API) and collect the issuer from every place that states it."""
    client.force_login(alice)
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    request_uri = pushed_request_uri(client)
    params = redirect_params(approve(client, request_uri))
    token = exchange(client, params["code"]).json()
    introspected = post_form(
        client,
        "/oauth/introspect",
        {"token": token["access_token"]},
        **basic("payments-api", "payments-api-secret"),  # the API's own credentials (RFC 7662 §4)
    ).json()
    # The demo API's guard accepts the token (its iss is the one it expects) and executes the transfer.
    api = post_transfer(client, token["access_token"], APPROVED)
    assert api.status_code == 201, (api.status_code, api.get("WWW-Authenticate"))
    return {
        "metadata": metadata["issuer"],
        "authorization response": params["iss"],
        "jwt": jwt_claims(token["access_token"])["iss"],
        "introspection": introspected["iss"],
    }


@pytest.mark.django_db
def test_one_issuer_when_it_is_derived_from_the_request(client, alice):
    """Example 4: with ISSUER unset the JWT said ``"iss": "://"`` and the DRF guard refused its own token."""
    without = {k: v for k, v in settings.RAR_PROVIDER.items() if k != "ISSUER"}
    with override_settings(RAR_PROVIDER=without), dot(OIDC_ISS_ENDPOINT=None):
        seen = issuers_seen(client, alice)
    assert set(seen.values()) == {"http://testserver"}, seen


@pytest.mark.django_db
def test_one_issuer_derived_behind_a_tls_proxy(client, alice):
    """Derived from a request that ``is_secure()`` (SECURE_PROXY_SSL_HEADER): https everywhere."""
    without = {k: v for k, v in settings.RAR_PROVIDER.items() if k != "ISSUER"}
    with (
        override_settings(RAR_PROVIDER=without, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")),
        dot(OIDC_ISS_ENDPOINT=None),
    ):
        client.defaults.update(HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="testserver")
        seen = issuers_seen(client, alice)
    assert set(seen.values()) == {"https://testserver"}, seen


@pytest.mark.django_db
def test_one_issuer_when_it_is_set(client, alice):
    assert set(issuers_seen(client, alice).values()) == {settings.RAR_PROVIDER["ISSUER"]}


def test_money_transfer_fixture_is_the_jwt_api():
    """The flow above goes to the demo Payments API, which issues JWTs (so ``iss`` is in a token)."""
    assert MONEY_TRANSFER["type"] == "money_transfer"


# -- E012: RAR_PROVIDER_RESOURCE_SERVER ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, says",
    [
        (["urn:demo:payments"], "must be a dict"),
        ({"AUDIENCE": "urn:demo:payments", "ISUSER": "https://auth.example.com"}, "unknown keys ISUSER"),
    ],
)
def test_e012_resource_server_setting(value, says):
    with override_settings(RAR_PROVIDER_RESOURCE_SERVER=value):
        messages = checks.run_checks()
    assert ours(messages) == ["rar_provider.E012"]
    assert says in next(m for m in messages if m.id == "rar_provider.E012").msg


def test_e012_good_resource_server_setting():
    with override_settings(RAR_PROVIDER_RESOURCE_SERVER={"AUDIENCE": "urn:demo:payments"}):
        assert ours(checks.run_checks()) == []


def test_e012_resource_server_setting_without_drf():
    """A project without DRF that sets the resource-server setting is told which extra to install."""
    code = """
import sys
sys.modules["rest_framework"] = None  # not installed
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "oauth2_provider", "rar_provider"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    RAR_PROVIDER_RESOURCE_SERVER={"AUDIENCE": "urn:demo:payments"},
)
django.setup()
from rar_provider.checks import check_resource_server_setting
for message in check_resource_server_setting():
    print(message.id, message.msg)
"""
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("rar_provider.E012 RAR_PROVIDER_RESOURCE_SERVER is set but")
    assert 'pip install "django-rar-provider[drf]"' in result.stdout
