"""rar_provider.drf: bearer JWT authentication (RFC 6750, RFC 9068 §4) and detail permissions (RFC 9396).

Small DRF views defined here are routed beside the demo site (this module is the
URLconf), and reached through the test client with real tokens from real flows,
or with tokens built by ``access_tokens`` for the cases a server never issues.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import include, path
from jwcrypto import jwk
from rest_framework.response import Response
from rest_framework.views import APIView

from rar_provider import access_tokens, keys
from rar_provider.drf import (
    HasAccessToken,
    HasAuthorizationDetail,
    JWTAccessTokenAuthentication,
    find_details,
)
from rar_provider.drf.authentication import bearer_challenge
from rar_provider.models import AccessTokenFormat, ResourceServer

from .conftest import (
    AUTHORIZE_URL,
    ISSUER,
    MONEY_TRANSFER,
    TOKEN_URL,
    authorize_query,
    basic,
    consent_transaction,
    exchange,
    post_form,
    pushed_request_uri,
    redirect_params,
)

API = "urn:demo:payments"
LOCATION = "https://bank.example/payments"
ACCOUNT_INFORMATION = {"type": "account_information", "actions": ["list_accounts", "read_balances"]}
#: RFC 9449 §7.2: with no token at all, a bare challenge of both schemes (no error).
BARE_CHALLENGE = f'Bearer realm="{API}", DPoP realm="{API}", algs="ES256 PS256 EdDSA"'
TRANSFER_WITH_ACTIONS = {**MONEY_TRANSFER, "actions": ["initiate", "status"], "locations": [LOCATION]}


# --- the views under test (this module is their URLconf) ------------------------------------------


class PaymentsAuthentication(JWTAccessTokenAuthentication):
    audience = API


def token_view(*permissions, authentication=PaymentsAuthentication):
    class View(APIView):
        authentication_classes = [authentication]
        permission_classes = list(permissions)

        def get(self, request):
            user = request.user
            return Response(
                {
                    "user": user.get_username() if user.is_authenticated else None,
                    "sub": request.auth.subject,
                    "client_id": request.auth.client_id,
                    "is_client_token": request.auth.is_client_token,
                    "encrypted": request.auth.encrypted,
                    "authorization_details": request.auth.authorization_details,
                    "matching_details": request.auth.matching_details,
                }
            )

    return View.as_view()


urlpatterns = [
    path("t/token/", token_view(HasAccessToken)),
    path("t/settings-audience/", token_view(HasAccessToken, authentication=JWTAccessTokenAuthentication)),
    path("t/transfer/", token_view(HasAuthorizationDetail.of("money_transfer"))),
    path("t/initiate/", token_view(HasAuthorizationDetail.of("money_transfer", actions=["initiate"]))),
    path(
        "t/initiate-cancel/",
        token_view(HasAuthorizationDetail.of("money_transfer", actions=["initiate", "cancel"])),
    ),
    path("t/located/", token_view(HasAuthorizationDetail.of("money_transfer", locations=[LOCATION]))),
    path(
        "t/two-types/",
        token_view(
            HasAuthorizationDetail.of("money_transfer"), HasAuthorizationDetail.of("account_information")
        ),
    ),
    path("", include("demo_site.urls")),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__), pytest.mark.usefixtures("hand_made_tokens")]


# --- helpers --------------------------------------------------------------------------------------


def token_from_code_flow(client, details=None) -> str:
    """A real access token: PAR → alice's consent → code → token endpoint (``client`` is logged in)."""
    request_uri = pushed_request_uri(client, details if details is not None else [MONEY_TRANSFER])
    page = client.get(AUTHORIZE_URL, authorize_query(request_uri))
    if page.status_code == 200:  # a stored consent may already cover the request
        page = client.post(AUTHORIZE_URL, {"transaction": consent_transaction(page), "decision": "allow"})
    response = exchange(client, redirect_params(page)["code"])
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def signed_token(key: keys.SigningKey | None = None, **overrides) -> str:
    """A JWT access token as the server builds it, with ``overrides`` of build_claims' arguments."""
    arguments = {
        "issuer": ISSUER,
        "audience": API,
        "subject": "1",
        "client_id": "demo-client",
        "expires_in": 300,
        "authorization_details": [MONEY_TRANSFER],
    } | overrides
    return access_tokens.sign(access_tokens.build_claims(**arguments), key or keys.current_signing_key())


def other_signing_key(kid: str | None = None) -> keys.SigningKey:
    entry = keys.generate_signing_key("RSA")
    if kid:
        entry["kid"] = kid
    return keys.load_signing_key(entry)


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def challenge(response) -> dict[str, str]:
    """The parameters of a ``WWW-Authenticate: Bearer ...`` header."""
    header = response["WWW-Authenticate"]
    assert header.startswith("Bearer"), header
    return dict(re.findall(r'(\w+)="([^"]*)"', header))


@pytest.fixture
def alice_token(alice_client) -> str:
    return token_from_code_flow(alice_client)


@pytest.fixture
def api_key_pair():
    """The Payments API's RSA encryption key, and the API switched to JWE tokens."""
    private = jwk.JWK.generate(kty="RSA", size=2048, kid="payments-enc-1")
    ResourceServer.objects.filter(identifier=API).update(
        access_token_format=AccessTokenFormat.JWE, encryption_key=private.export_public()
    )
    return private


# --- authentication: accepted tokens --------------------------------------------------------------


def test_real_code_flow_token_authenticates_alice_with_its_details(client, alice_client, alice):
    token = token_from_code_flow(alice_client)
    client.logout()  # the API sees the bearer token only, not the session
    response = client.get("/t/token/", **bearer(token))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user"] == "alice" and body["sub"] == str(alice.pk)
    assert body["client_id"] == "demo-client" and body["is_client_token"] is False
    assert body["authorization_details"] == [MONEY_TRANSFER]
    assert body["encrypted"] is False


def test_client_credentials_token_authenticates_the_client_with_no_user(client):
    response = post_form(
        client,
        TOKEN_URL,
        {"grant_type": "client_credentials", "authorization_details": json.dumps([ACCOUNT_INFORMATION])},
        **basic("demo-service", "demo-service-secret"),
    )
    assert response.status_code == 200, response.content
    body = client.get("/t/token/", **bearer(response.json()["access_token"])).json()
    assert body["user"] is None
    assert body["sub"] == body["client_id"] == "demo-service" and body["is_client_token"] is True
    assert body["authorization_details"] == [ACCOUNT_INFORMATION]


def test_token_within_the_clock_leeway_is_accepted(client, alice):
    token = signed_token(subject=str(alice.pk), expires_in=60, now=int(time.time()) - 70)
    assert client.get("/t/token/", **bearer(token)).status_code == 200


# --- authentication: refused requests -------------------------------------------------------------


def test_missing_authorization_header_is_401_with_a_bare_bearer_challenge(client):
    response = client.get("/t/token/")
    assert response.status_code == 401
    # RFC 6750 §3.1: no error code when the request carries no authentication at all.
    assert response["WWW-Authenticate"] == BARE_CHALLENGE


def test_another_scheme_is_left_alone_and_answered_with_the_bearer_challenge(client):
    response = client.get("/t/token/", **basic("demo-client", "demo-secret"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == BARE_CHALLENGE


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer two tokens", "Bearer tökén", "Bearer a,b"])
def test_malformed_bearer_header_is_400_invalid_request(client, header):
    response = client.get("/t/token/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 400
    params = challenge(response)
    assert params["realm"] == API and params["error"] == "invalid_request"
    assert "Bearer" in params["error_description"]
    assert response.json()["error"] == "invalid_request"


def alg_none_token() -> str:
    kid = keys.current_signing_key().kid
    claims = access_tokens.build_claims(
        issuer=ISSUER, audience=API, subject="1", client_id="demo-client", expires_in=300
    )
    return f"{b64({'alg': 'none', 'typ': 'at+jwt', 'kid': kid})}.{b64(claims)}."


def hs256_token() -> str:
    """Signed with HMAC, using the server's public key material as the secret (a key-confusion attempt)."""
    from jwcrypto import jwt

    public = keys.current_signing_key().key.export_public(as_dict=True)
    secret = jwk.JWK(kty="oct", k=b64(public))
    claims = access_tokens.build_claims(
        issuer=ISSUER, audience=API, subject="1", client_id="demo-client", expires_in=300
    )
    token = jwt.JWT(
        header={"alg": "HS256", "typ": "at+jwt", "kid": keys.current_signing_key().kid}, claims=claims
    )
    token.make_signed_token(secret)
    return token.serialize()


def jwt_typed_token() -> str:
    """A valid signature, but ``typ: JWT`` (an ID token, say), not ``at+jwt``."""
    from jwcrypto import jwt

    key = keys.current_signing_key()
    claims = access_tokens.build_claims(
        issuer=ISSUER, audience=API, subject="1", client_id="demo-client", expires_in=300
    )
    token = jwt.JWT(header={"alg": key.alg, "typ": "JWT", "kid": key.kid}, claims=claims)
    token.make_signed_token(key.key)
    return token.serialize()


def without_claim(name: str) -> str:
    claims = access_tokens.build_claims(
        issuer=ISSUER, audience=API, subject="1", client_id="demo-client", expires_in=300
    )
    del claims[name]
    return access_tokens.sign(claims, keys.current_signing_key())


REFUSED = {
    "opaque": (lambda: secrets.token_urlsafe(30), "not a JWT"),
    "garbage with two dots": (lambda: "abc.def.ghi", "not a signed JWT"),
    "bad signature (another key, the server's kid)": (
        lambda: signed_token(other_signing_key(kid=keys.current_signing_key().kid)),
        "signature is not valid",
    ),
    "another issuer's key (unknown kid)": (lambda: signed_token(other_signing_key()), "unknown kid"),
    "wrong audience": (lambda: signed_token(audience="urn:demo:other"), "not meant for this API"),
    "wrong issuer": (lambda: signed_token(issuer="https://evil.example"), "issued by 'https://evil.example'"),
    "expired": (lambda: signed_token(expires_in=60, now=int(time.time()) - 3600), "expired"),
    "alg none": (alg_none_token, ""),
    "HS256 with the public key as secret": (hs256_token, "'HS256' is not accepted"),
    "typ JWT": (jwt_typed_token, "typ is not at+jwt"),
    "no jti": (lambda: without_claim("jti"), "no jti claim"),
    "no client_id": (lambda: without_claim("client_id"), "no client_id claim"),
    "details not an array": (lambda: signed_token(authorization_details={"type": "x"}), "not an array"),
    "subject unknown": (lambda: signed_token(subject="999999"), "not a user of this site"),
    "subject not a primary key": (lambda: signed_token(subject="alice"), "not a user of this site"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_token_is_401_invalid_token_saying_why(client, case):
    make, reason = REFUSED[case]
    response = client.get("/t/token/", **bearer(make()))
    assert response.status_code == 401, response.content
    params = challenge(response)
    assert params["realm"] == API and params["error"] == "invalid_token"
    assert reason in params["error_description"]
    body = response.json()
    assert body["error"] == "invalid_token" and reason in body["detail"]


def test_token_of_an_inactive_user_is_refused(client, alice, alice_token):
    alice.is_active = False
    alice.save()
    response = client.get("/t/token/", **bearer(alice_token))
    assert response.status_code == 401
    assert challenge(response)["error_description"] == "the token's user is inactive"


# --- JWE ------------------------------------------------------------------------------------------


def test_jwe_token_is_decrypted_with_the_configured_private_key(client, alice_client, api_key_pair, settings):
    token = token_from_code_flow(alice_client)
    assert token.count(".") == 4  # the API's tokens are encrypted now
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"DECRYPTION_KEY": api_key_pair.export_private(as_dict=True)}
    response = client.get("/t/token/", **bearer(token))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["encrypted"] is True and body["user"] == "alice"
    assert body["authorization_details"] == [
        MONEY_TRANSFER
    ]  # in full, though the token response had types only


def test_jwe_decryption_key_may_be_a_pem_file_or_a_jwk_set_during_rotation(
    client, alice_client, api_key_pair, settings, tmp_path
):
    token = token_from_code_flow(alice_client)
    pem = tmp_path / "payments-enc.pem"
    pem.write_bytes(api_key_pair.export_to_pem(private_key=True, password=None))
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"DECRYPTION_KEY": str(pem)}
    assert client.get("/t/token/", **bearer(token)).status_code == 200
    newer = jwk.JWK.generate(kty="RSA", size=2048, kid="payments-enc-2")
    both = {"keys": [newer.export_private(as_dict=True), api_key_pair.export_private(as_dict=True)]}
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"DECRYPTION_KEY": json.dumps(both)}
    assert client.get("/t/token/", **bearer(token)).status_code == 200


def test_jwe_token_without_a_decryption_key_is_refused(client, alice_client, api_key_pair):
    token = token_from_code_flow(alice_client)
    response = client.get("/t/token/", **bearer(token))
    assert response.status_code == 401
    assert challenge(response)["error_description"] == (
        "the token is encrypted (JWE) and this API has no decryption key"
    )


def test_jwe_token_with_the_wrong_decryption_key_is_refused(client, alice_client, api_key_pair, settings):
    token = token_from_code_flow(alice_client)
    other = jwk.JWK.generate(kty="RSA", size=2048)
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"DECRYPTION_KEY": other.export_private(as_dict=True)}
    response = client.get("/t/token/", **bearer(token))
    assert response.status_code == 401
    assert challenge(response)["error_description"] == "the token cannot be decrypted with this API's key"


def test_decryption_key_must_be_private(client, alice_client, api_key_pair, settings):
    token = token_from_code_flow(alice_client)
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"DECRYPTION_KEY": api_key_pair.export_public(as_dict=True)}
    with pytest.raises(ImproperlyConfigured, match="must be a private key"):
        client.get("/t/token/", **bearer(token))


# --- settings -------------------------------------------------------------------------------------


def test_jwks_setting_trusts_another_issuers_keys_as_dict_or_file(client, alice, settings, tmp_path):
    foreign = other_signing_key()
    token = signed_token(foreign, subject=str(alice.pk))
    assert client.get("/t/token/", **bearer(token)).status_code == 401  # not this server's key
    jwks = {"keys": [foreign.public_jwk()]}
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"JWKS": jwks}
    assert client.get("/t/token/", **bearer(token)).status_code == 200
    path_ = tmp_path / "jwks.json"
    path_.write_text(json.dumps(jwks))
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"JWKS": str(path_)}
    assert client.get("/t/token/", **bearer(token)).status_code == 200
    # The server's own tokens are no longer trusted: JWKS replaces the local keys.
    assert client.get("/t/token/", **bearer(signed_token(subject=str(alice.pk)))).status_code == 401


def test_issuer_setting_is_the_expected_iss(client, alice, settings):
    token = signed_token(issuer="https://auth.example.com", subject=str(alice.pk))
    assert client.get("/t/token/", **bearer(token)).status_code == 401
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"ISSUER": "https://auth.example.com/"}
    assert client.get("/t/token/", **bearer(token)).status_code == 200


def test_audience_and_realm_from_the_setting(client, alice, settings):
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"AUDIENCE": "urn:demo:other", "REALM": "Other API"}
    assert (
        client.get("/t/settings-audience/", **bearer(signed_token(subject=str(alice.pk)))).status_code == 401
    )
    token = signed_token(audience="urn:demo:other", subject=str(alice.pk))
    assert client.get("/t/settings-audience/", **bearer(token)).status_code == 200
    assert (
        client.get("/t/settings-audience/")["WWW-Authenticate"]
        == 'Bearer realm="Other API", DPoP realm="Other API", algs="ES256 PS256 EdDSA"'
    )


def test_no_audience_anywhere_is_improperly_configured(client, alice):
    with pytest.raises(ImproperlyConfigured, match="needs the API identifier"):
        client.get("/t/settings-audience/", **bearer(signed_token(subject=str(alice.pk))))


@pytest.mark.parametrize(
    "value, message",
    [
        ({"AUDIENCES": "x"}, "unknown keys AUDIENCES"),
        ("urn:demo:payments", "must be a dict"),
        ({"JWKS": 42}, "must be a dict, JSON or PEM text, or a file path"),
        ({"JWKS": "/nonexistent/jwks.json"}, "cannot be read"),
        ({"JWKS": "{not json"}, "not a readable JWK"),
    ],
)
def test_bad_settings_are_improperly_configured(client, alice, settings, value, message):
    settings.RAR_PROVIDER_RESOURCE_SERVER = value
    with pytest.raises(ImproperlyConfigured, match=message):
        client.get("/t/token/", **bearer(signed_token(subject=str(alice.pk))))


# --- permissions ----------------------------------------------------------------------------------


def test_token_without_the_required_type_is_403_insufficient_scope_saying_which(client, alice):
    token = signed_token(subject=str(alice.pk), authorization_details=[ACCOUNT_INFORMATION])
    assert client.get("/t/token/", **bearer(token)).status_code == 200  # a valid token…
    response = client.get("/t/transfer/", **bearer(token))  # …without a money_transfer
    assert response.status_code == 403
    params = challenge(response)
    assert params == {
        "realm": API,
        "error": "insufficient_scope",
        "error_description": "the token carries no money_transfer authorization detail",
    }
    assert response.json() == {
        "detail": "the token carries no money_transfer authorization detail",
        "error": "insufficient_scope",
    }


def test_token_with_no_details_at_all_is_403(client, alice):
    token = signed_token(subject=str(alice.pk), authorization_details=None, scope="profile")
    response = client.get("/t/transfer/", **bearer(token))
    assert response.status_code == 403 and challenge(response)["error"] == "insufficient_scope"


def test_required_type_passes_and_the_view_sees_the_matching_details(client, alice_token):
    response = client.get("/t/transfer/", **bearer(alice_token))
    assert response.status_code == 200, response.content
    assert response.json()["matching_details"] == [MONEY_TRANSFER]


def test_required_actions_are_a_subset_of_the_details_actions(client, alice_client):
    token = token_from_code_flow(alice_client, [TRANSFER_WITH_ACTIONS])
    response = client.get("/t/initiate/", **bearer(token))
    assert response.status_code == 200, response.content
    assert response.json()["matching_details"] == [TRANSFER_WITH_ACTIONS]
    refused = client.get("/t/initiate-cancel/", **bearer(token))
    assert refused.status_code == 403
    assert challenge(refused)["error_description"] == (
        "no money_transfer authorization detail of the token allows the actions initiate, cancel"
    )


def test_detail_without_actions_does_not_satisfy_required_actions(client, alice_token):
    response = client.get("/t/initiate/", **bearer(alice_token))
    assert response.status_code == 403
    assert challenge(response)["error"] == "insufficient_scope"


def test_required_locations(client, alice):
    located = signed_token(subject=str(alice.pk), authorization_details=[TRANSFER_WITH_ACTIONS])
    assert client.get("/t/located/", **bearer(located)).status_code == 200
    elsewhere = {**TRANSFER_WITH_ACTIONS, "locations": ["https://other.example/payments"]}
    response = client.get(
        "/t/located/", **bearer(signed_token(subject=str(alice.pk), authorization_details=[elsewhere]))
    )
    assert response.status_code == 403
    assert challenge(response)["error_description"] == (
        f"no money_transfer authorization detail of the token allows the locations {LOCATION}"
    )


def test_two_required_types_collect_both_matching_details(client, alice):
    details = [MONEY_TRANSFER, ACCOUNT_INFORMATION, {**MONEY_TRANSFER, "beneficiary": "Someone Else"}]
    response = client.get(
        "/t/two-types/", **bearer(signed_token(subject=str(alice.pk), authorization_details=details))
    )
    assert response.status_code == 200
    assert response.json()["matching_details"] == [details[0], details[2], details[1]]


def test_detail_permission_without_a_token_is_401_not_403(client):
    response = client.get("/t/transfer/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == BARE_CHALLENGE


def test_permission_without_a_type_is_improperly_configured(client, alice_token):
    with pytest.raises(ImproperlyConfigured, match="has no detail_type"):
        HasAuthorizationDetail().matching(PaymentsAuthentication().verify_token(alice_token, None))


def test_of_refuses_a_string_for_actions():
    with pytest.raises(TypeError, match="lists of strings"):
        HasAuthorizationDetail.of("money_transfer", actions="initiate")


# --- pure helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "actions, locations, expected",
    [
        ((), (), [0, 1, 2, 6]),
        (("initiate",), (), [1, 2]),
        (("initiate", "status"), (), [2]),
        (("cancel",), (), []),
        ((), (LOCATION,), [2]),
        (("status",), (LOCATION,), [2]),
    ],
)
def test_find_details(actions, locations, expected):
    details = [
        MONEY_TRANSFER,
        {**MONEY_TRANSFER, "actions": ["initiate"]},
        {**MONEY_TRANSFER, "actions": ["initiate", "status"], "locations": [LOCATION]},
        ACCOUNT_INFORMATION,
        "not an object",
        {**MONEY_TRANSFER, "type": "Money_Transfer"},
        {**MONEY_TRANSFER, "actions": "initiate"},
    ]
    found = find_details(details, "money_transfer", actions, locations)
    assert found == [details[i] for i in expected]


def test_bearer_challenge_quotes_only_allowed_characters():
    header = bearer_challenge("urn:x", "invalid_token", 'issued by "evil" \\ with ünïcode')
    assert (
        header
        == 'Bearer realm="urn:x", error="invalid_token", error_description="issued by ?evil? ? with ?n?code"'
    )
    assert bearer_challenge(None) == "Bearer"
