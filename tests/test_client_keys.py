"""A client's registered public keys (issue 12): what the JWK Set may hold, the admin form that refuses
the rest, the policy's consistency rules, and the system checks of the new settings."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.core import checks
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from jwcrypto import jwk
from oauth2_provider.models import Application

from rar_provider.client_keys import ClientKeysError, parse_client_jwks
from rar_provider.models import ClientPolicy, TokenEndpointAuthMethod

from .fapi_helpers import new_key, public_jwks

pytestmark = pytest.mark.django_db


def public(key: jwk.JWK, **changes) -> dict:
    return {**key.export_public(as_dict=True), **changes}


def jwks_of(*entries) -> str:
    return json.dumps({"keys": list(entries)})


@pytest.mark.parametrize("alg", ["ES256", "PS256", "EdDSA", "RS256", "ES384"])
def test_public_keys_of_each_algorithm_are_accepted(alg):
    keys = parse_client_jwks(public_jwks(new_key(alg)))
    assert [(key.kid, key.alg) for key in keys] == [(f"{alg.lower()}-1", alg)]


@pytest.mark.parametrize(
    "text, mentions",
    [
        ("not json", "not JSON"),
        ("[]", '{"keys": [...]}'),
        ('{"keys": []}', "no keys"),
        (lambda: jwks_of(new_key("ES256").export_private(as_dict=True)), "private members (d)"),
        (
            lambda: jwks_of(new_key("PS256").export_private(as_dict=True)),
            "private members (d, p, q, dp, dq, qi)",
        ),
        (lambda: jwks_of({"kty": "oct", "k": "c2VjcmV0", "kid": "s", "alg": "HS256"}), "symmetric (oct)"),
        (lambda: jwks_of(public(new_key("ES256"), alg="HS256")), "alg 'HS256'"),
        (lambda: jwks_of(public(new_key("ES256"), alg="none")), "alg 'none'"),
        (lambda: jwks_of({k: v for k, v in public(new_key("ES256")).items() if k != "alg"}), "alg None"),
        (lambda: jwks_of({k: v for k, v in public(new_key("ES256")).items() if k != "kid"}), "has no kid"),
        (lambda: jwks_of(public(new_key("ES256"), alg="PS256")), "needs a RSA key"),
        (lambda: jwks_of(public(new_key("ES256"), alg="ES384")), "needs curve P-384"),
        (lambda: jwks_of(public(new_key("ES256"), use="enc")), "use 'enc'"),
        (lambda: jwks_of(public(new_key("ES256"), key_ops=["sign"])), "without 'verify'"),
        (
            lambda: jwks_of(public(new_key("ES256")), public(new_key("ES256", "other"), kid="es256-1")),
            "more than one key",
        ),
        (lambda: jwks_of(public(new_key("ES256"), x="AAAA")), "not a valid EC key"),
        (
            lambda: jwks_of(public(jwk.JWK.generate(kty="RSA", size=1024), kid="small", alg="PS256")),
            "2048 bits",
        ),
        (lambda: jwks_of(*[public(new_key("ES256"), kid=f"k{i}") for i in range(11)]), "at most 10"),
        (lambda: jwks_of("a key"), "key 1 is not a JSON object"),
    ],
)
def test_what_a_jwk_set_may_not_hold(text, mentions):
    with pytest.raises(ClientKeysError) as raised:
        parse_client_jwks(text() if callable(text) else text)
    assert mentions in str(raised.value)


def test_only_the_algorithms_the_server_accepts(settings):
    with pytest.raises(ClientKeysError, match="this server does not accept"):
        parse_client_jwks(public_jwks(new_key("RS256")), ["PS256", "ES256"])


def test_the_policy_never_stores_a_private_key_whatever_writes_it():
    application = Application.objects.get(client_id="demo-client")
    private = jwks_of(new_key("ES256").export_private(as_dict=True))
    with pytest.raises(ValidationError):
        ClientPolicy.objects.create(application=application, jwks=private)
    assert not ClientPolicy.objects.filter(application=application).exists()


@pytest.mark.parametrize(
    "client_id, method, jwks, field, mentions",
    [
        ("demo-client", "private_key_jwt", "", "jwks", "needs the client's public keys"),
        ("demo-public", "private_key_jwt", "keys", "token_endpoint_auth_method", "This client is public"),
        ("demo-client", "none", "", "token_endpoint_auth_method", "This client is confidential"),
    ],
)
def test_the_method_fits_the_client(client_id, method, jwks, field, mentions):
    policy = ClientPolicy(
        application=Application.objects.get(client_id=client_id),
        token_endpoint_auth_method=method,
        jwks=public_jwks(new_key()) if jwks else "",
    )
    with pytest.raises(ValidationError) as raised:
        policy.full_clean()
    assert mentions in " ".join(raised.value.message_dict[field])


def test_requiring_signed_request_objects_needs_keys():
    policy = ClientPolicy(
        application=Application.objects.get(client_id="demo-client"), require_signed_request_object=True
    )
    with pytest.raises(ValidationError) as raised:
        policy.full_clean()
    assert "need the client's public keys" in " ".join(raised.value.message_dict["jwks"])


# -- admin -----------------------------------------------------------------------------------------------


@pytest.fixture
def staff() -> Client:
    browser = Client()
    browser.force_login(User.objects.get(username="admin"))
    return browser


def add_policy(staff, application, **fields):
    add_url = reverse("admin:rar_provider_clientpolicy_add")
    page = staff.get(add_url)
    assert page.status_code == 200
    assert (
        'name="jwks"' in page.content.decode()
        and 'name="token_endpoint_auth_method"' in page.content.decode()
    )
    data = {
        "application": str(application.pk),
        "grants-TOTAL_FORMS": "0",
        "grants-INITIAL_FORMS": "0",
        "grants-MIN_NUM_FORMS": "0",
        "grants-MAX_NUM_FORMS": "1000",
        **fields,
    }
    return staff.post(add_url, data)


def test_admin_registers_public_keys_and_private_key_jwt(staff):
    application = Application.objects.get(client_id="demo-client")
    response = add_policy(
        staff,
        application,
        token_endpoint_auth_method="private_key_jwt",
        jwks=public_jwks(new_key("ES256"), new_key("PS256")),
        require_signed_request_object="on",
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    policy = ClientPolicy.objects.get(application=application)
    assert policy.token_endpoint_auth_method == TokenEndpointAuthMethod.PRIVATE_KEY_JWT
    assert policy.require_signed_request_object is True
    assert [key.kid for key in parse_client_jwks(policy.jwks)] == ["es256-1", "ps256-1"]
    listing = staff.get(reverse("admin:rar_provider_clientpolicy_changelist")).content.decode()
    assert "private_key_jwt" in listing


@pytest.mark.parametrize(
    "jwks, mentions",
    [
        (lambda: jwks_of(new_key("ES256").export_private(as_dict=True)), "register the public key only"),
        (lambda: jwks_of({"kty": "oct", "k": "c2VjcmV0", "kid": "s", "alg": "HS256"}), "symmetric"),
        (lambda: jwks_of(public(new_key("ES256"), alg="ES999")), "alg &#x27;ES999&#x27;"),
    ],
)
def test_admin_refuses_private_symmetric_and_unknown_keys(staff, jwks, mentions):
    application = Application.objects.get(client_id="demo-client")
    response = add_policy(staff, application, token_endpoint_auth_method="private_key_jwt", jwks=jwks())
    assert response.status_code == 200
    assert "jwks" in response.context["adminform"].form.errors
    assert mentions in response.content.decode()
    assert not ClientPolicy.objects.filter(application=application).exists()


# -- system checks ---------------------------------------------------------------------------------------


def ids(settings, **changes) -> list[str]:
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, **changes}
    return [message.id for message in checks.run_checks(include_deployment_checks=True)]


@pytest.mark.parametrize(
    "changes",
    [
        {"CLIENT_ASSERTION_SIGNING_ALGS": ["HS256"]},
        {"CLIENT_ASSERTION_SIGNING_ALGS": ["none"]},
        {"REQUEST_OBJECT_SIGNING_ALGS": []},
        {"REQUEST_OBJECT_SIGNING_ALGS": "ES256"},
        {"CLIENT_ASSERTION_AUDIENCES": "anything"},
        {"CLIENT_ASSERTION_MAX_LIFETIME": 7200},
        {"REPLAY_CACHE": "nowhere"},
        {"REQUIRE_SIGNED_REQUEST_OBJECT": True, "PAR_ENABLED": False},
    ],
    ids=lambda changes: ",".join(changes),
)
def test_e040_reports_each_wrong_setting(settings, changes):
    assert "rar_provider.E040" not in ids(settings)
    assert "rar_provider.E040" in ids(settings, **changes)


def test_w040_a_replay_cache_each_process_keeps_for_itself(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert "rar_provider.W040" in ids(settings)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/9",
        }
    }
    assert "rar_provider.W040" not in ids(settings)
