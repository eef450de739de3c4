"""Attacks on FAPI 2.0 mode and the one-grant lifecycle, from a hostile review (issues 10 and 12).

Each test states the expected behaviour through the real endpoints: bypasses of the profile, a
bound token losing its binding, narrowed responses that differ from the token, revoked grants that
still issue, replayed decisions, and odd input that must never be a 500. The one finding (a bearer
token issued before an API's FAPI flag still worked at the API) is fixed and stays here as a test."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from rar_provider.grants import lifecycle
from rar_provider.models import AuthorizationGrant, ResourceServer

from .conftest import (
    AUTHORIZE_URL,
    CONFIDENTIAL,
    FORM,
    MONEY_TRANSFER,
    PAR_URL,
    REDIRECT_URI,
    TOKEN_URL,
    approve,
    basic,
    pkce_pair,
    post_form,
    redirect_params,
    request_params,
)
from .dpop_helpers import DPoPKey, dpop_header
from .fapi_helpers import FAPI_CLIENT, assertion_pairs, make_client, new_key, register_keys
from .strict_helpers import INTROSPECT_URL
from .test_rar_endpoints import ACCOUNT_INFORMATION
from .test_tokens import claims_of

pytestmark = pytest.mark.django_db
FAPI_ON = {"FAPI_2_0": True}
SECOND = {**MONEY_TRANSFER, "instructedAmount": {"currency": "EUR", "amount": 10}}


def post(client, url, pairs, **extra):
    return client.post(url, urlencode(pairs), content_type=FORM, **extra)


@pytest.fixture
def key():
    return new_key("ES256")


@pytest.fixture
def fapi(key, settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, **FAPI_ON}
    return make_client(FAPI_CLIENT, key)


def fapi_code(client, key, details=None, **overrides):
    verifier, challenge = pkce_pair()
    params = request_params(
        details or [MONEY_TRANSFER],
        client_id=FAPI_CLIENT,
        code_challenge=challenge,
        code_challenge_method="S256",
        **overrides,
    )
    pushed = post(client, PAR_URL, [*params.items(), *assertion_pairs(key)])
    assert pushed.status_code == 201, pushed.content
    code = redirect_params(approve(client, pushed.json()["request_uri"], client_id=FAPI_CLIENT))["code"]
    return code, verifier


def fapi_tokens(client, key, dkey, details=None):
    code, verifier = fapi_code(client, key, details)
    response = post(
        client,
        TOKEN_URL,
        [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
            *assertion_pairs(key),
        ],
        **dpop_header(dkey.proof()),
    )
    assert response.status_code == 200, response.content
    return response.json()


def fapi_refresh(client, key, refresh_token, dkey=None, **extra):
    pairs = [("grant_type", "refresh_token"), ("refresh_token", refresh_token), *assertion_pairs(key)]
    pairs += list(extra.items())
    return post(client, TOKEN_URL, pairs, **(dpop_header(dkey.proof()) if dkey else {}))


def introspect(client, key, token):
    return post(client, INTROSPECT_URL, [("token", token), *assertion_pairs(key)]).json()


# -- FAPI: baseline -------------------------------------------------------------------------------


def test_baseline_fapi_flow_gives_dpop_bound_tokens(alice_client, fapi, key):
    dkey = DPoPKey()
    issued = fapi_tokens(alice_client, key, dkey)
    assert issued["token_type"] == "DPoP"
    assert claims_of(issued["access_token"])["cnf"]["jkt"] == dkey.jkt


# -- FAPI: narrowing refresh, response vs token -----------------------------------------------------


def test_fapi_narrowing_refresh_response_matches_token_and_refresh_token_keeps_the_grant(
    alice_client, fapi, key
):
    dkey = DPoPKey()
    issued = fapi_tokens(alice_client, key, dkey, [MONEY_TRANSFER, SECOND])
    narrowed = fapi_refresh(
        alice_client, key, issued["refresh_token"], dkey, authorization_details=json.dumps([SECOND])
    )
    assert narrowed.status_code == 200, narrowed.content
    body = narrowed.json()
    assert body["authorization_details"] == [SECOND]
    assert claims_of(body["access_token"])["authorization_details"] == [SECOND]
    assert claims_of(body["access_token"])["cnf"]["jkt"] == dkey.jkt
    assert body["token_type"] == "DPoP"
    # not rotated (§5.3.2.1 cl. 9): the same refresh token still carries the whole grant
    assert body.get("refresh_token", issued["refresh_token"]) == issued["refresh_token"]
    whole = fapi_refresh(alice_client, key, issued["refresh_token"], dkey)
    assert whole.status_code == 200, whole.content
    assert whole.json()["authorization_details"] == [MONEY_TRANSFER, SECOND]
    assert claims_of(whole.json()["access_token"])["authorization_details"] == [MONEY_TRANSFER, SECOND]


def test_fapi_refresh_without_a_proof_is_refused(alice_client, fapi, key):
    dkey = DPoPKey()
    issued = fapi_tokens(alice_client, key, dkey)
    response = fapi_refresh(alice_client, key, issued["refresh_token"])
    assert response.status_code == 400, response.content
    assert response.json()["error"] in ("invalid_dpop_proof", "invalid_grant")


def test_fapi_refresh_with_a_secret_is_refused(alice_client, fapi, key):
    dkey = DPoPKey()
    issued = fapi_tokens(alice_client, key, dkey)
    response = post_form(
        alice_client,
        TOKEN_URL,
        {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
        **basic(FAPI_CLIENT, "fapi-secret-that-is-refused-0123456789"),
        **dpop_header(dkey.proof()),
    )
    assert response.status_code == 401, response.content


def test_fapi_refresh_after_revocation_issues_nothing(alice_client, fapi, key):
    dkey = DPoPKey()
    issued = fapi_tokens(alice_client, key, dkey)
    lifecycle.revoke(AuthorizationGrant.objects.get())
    response = fapi_refresh(alice_client, key, issued["refresh_token"], dkey)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_grant"
    assert introspect(alice_client, key, issued["access_token"]) == {"active": False}


def test_fapi_code_replay_revokes_the_first_tokens(alice_client, fapi, key):
    dkey = DPoPKey()
    code, verifier = fapi_code(alice_client, key)
    pairs = lambda: [  # noqa: E731
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
        *assertion_pairs(key),
    ]
    first = post(alice_client, TOKEN_URL, pairs(), **dpop_header(dkey.proof()))
    assert first.status_code == 200
    second = post(alice_client, TOKEN_URL, pairs(), **dpop_header(dkey.proof()))
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert introspect(alice_client, key, first.json()["access_token"]) == {"active": False}
    again = fapi_refresh(alice_client, key, first.json()["refresh_token"], dkey)
    assert again.status_code == 400, again.content


# -- FAPI: per-API flag ----------------------------------------------------------------------------


def payments_fapi():
    ResourceServer.objects.filter(identifier="urn:demo:payments").update(fapi_2_0=True)


def test_per_api_flag_turned_on_after_issue_refuses_the_bearer_refresh(alice_client):
    from .test_tokens import granted_code

    code = granted_code(alice_client, [MONEY_TRANSFER])
    from .conftest import exchange

    issued = exchange(alice_client, code).json()
    payments_fapi()
    response = post_form(
        alice_client,
        TOKEN_URL,
        {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
        **CONFIDENTIAL,
    )
    assert response.status_code in (400, 401), response.content


def test_per_api_flag_code_issued_before_the_flag_cannot_become_a_bearer_token(alice_client):
    from .conftest import exchange
    from .test_tokens import granted_code

    code = granted_code(alice_client, [MONEY_TRANSFER])
    payments_fapi()
    response = exchange(alice_client, code)
    assert response.status_code in (400, 401), response.content


def test_per_api_client_credentials_without_dpop_is_refused(client):
    ResourceServer.objects.filter(identifier="urn:demo:accounts").update(fapi_2_0=True)
    ResourceServer.objects.update(fapi_2_0=True)
    response = post_form(
        client,
        TOKEN_URL,
        {"grant_type": "client_credentials", "authorization_details": json.dumps([ACCOUNT_INFORMATION])},
        **basic("demo-service", "demo-service-secret"),
    )
    assert response.status_code in (400, 401), response.content


def test_per_api_client_credentials_private_key_jwt_without_dpop_is_refused(client):
    from oauth2_provider.models import get_application_model

    ResourceServer.objects.update(fapi_2_0=True)
    service = get_application_model().objects.get(client_id="demo-service")
    key = new_key("PS256")
    register_keys(service, key)
    response = post(
        client,
        TOKEN_URL,
        [
            ("grant_type", "client_credentials"),
            ("authorization_details", json.dumps([ACCOUNT_INFORMATION])),
            *assertion_pairs(key, "demo-service"),
        ],
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_dpop_proof"


def test_per_api_client_credentials_scope_only_gets_no_token_usable_at_the_fapi_api(client, settings):
    """A client_credentials request naming no API: whatever it gets must not be a bearer token the
    FAPI API would accept (no aud of the FAPI API)."""
    ResourceServer.objects.update(fapi_2_0=True)
    response = post_form(
        client,
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        **basic("demo-service", "demo-service-secret"),
    )
    if response.status_code == 200:
        token = response.json()["access_token"]
        if token.count(".") == 2:
            aud = claims_of(token).get("aud")
            assert aud in (None, [], "") or all(
                not ResourceServer.objects.get(identifier=a).fapi_2_0
                for a in ([aud] if isinstance(aud, str) else aud)
            ), claims_of(token)


# -- FAPI: front channel ---------------------------------------------------------------------------


def test_front_channel_params_beside_request_uri_do_not_override_the_pushed_request(alice_client, fapi, key):
    verifier, challenge = pkce_pair()
    params = request_params(
        [MONEY_TRANSFER], client_id=FAPI_CLIENT, code_challenge=challenge, code_challenge_method="S256"
    )
    pushed = post(alice_client, PAR_URL, [*params.items(), *assertion_pairs(key)])
    request_uri = pushed.json()["request_uri"]
    bigger = {**MONEY_TRANSFER, "instructedAmount": {"currency": "EUR", "amount": "99999.00"}}
    page = alice_client.get(
        AUTHORIZE_URL,
        {
            "client_id": FAPI_CLIENT,
            "request_uri": request_uri,
            "authorization_details": json.dumps([bigger]),
            "code_challenge_method": "plain",
            "code_challenge": "x" * 43,
        },
    )
    assert page.status_code in (200, 302, 400), page.status_code
    assert b"99999" not in page.content


@pytest.mark.parametrize(
    "query",
    [
        {"client_id": FAPI_CLIENT, "response_type": "code", "redirect_uri": REDIRECT_URI},
        {"client_id": FAPI_CLIENT, "response_type": "code", "redirect_uri": REDIRECT_URI, "scope": "read"},
        {"client_id": FAPI_CLIENT, "response_type": "code", "redirect_uri": REDIRECT_URI, "request_uri": ""},
        {"client_id": FAPI_CLIENT, "request_uri": "urn:ietf:params:oauth:request_uri:nope"},
        {"client_id": "demo-client", "response_type": "code", "redirect_uri": REDIRECT_URI},
    ],
)
def test_fapi_front_channel_variants_never_issue_a_code(alice_client, fapi, query):
    page = alice_client.get(AUTHORIZE_URL, query)
    assert page.status_code != 500
    if page.status_code == 302:
        assert "code=" not in page["Location"], page["Location"]
    if page.status_code == 200 and "transaction" in (page.context or {}):
        decided = alice_client.post(
            AUTHORIZE_URL, {"transaction": page.context["transaction"], "decision": "allow"}
        )
        assert decided.status_code != 500
        if decided.status_code == 302:
            assert "code=" not in decided["Location"], decided["Location"]
        pytest.fail("a consent page was shown for a front-channel request in FAPI mode")


# -- odd input at the token endpoint in FAPI mode: never a 500 -------------------------------------


@pytest.mark.parametrize(
    "value", ["null", "[]", "{}", "[null]", '"x"', '[{"type":"money_transfer"}]', "[" * 50, "1e999", "\x00"]
)
def test_fapi_refresh_odd_details_never_500(alice_client, fapi, key, value):
    dkey = DPoPKey()
    issued = fapi_tokens(alice_client, key, dkey)
    response = fapi_refresh(alice_client, key, issued["refresh_token"], dkey, authorization_details=value)
    assert response.status_code < 500, response.content


# -- grant lifecycle: decisions ----------------------------------------------------------------------


def front_page(client, details=None, **overrides):
    from .conftest import pkce_pair as _pair

    _v, challenge = _pair()
    return client.get(
        AUTHORIZE_URL,
        request_params(
            details or [MONEY_TRANSFER], code_challenge=challenge, code_challenge_method="S256", **overrides
        ),
    )


def codes_of(responses):
    out = []
    for response in responses:
        assert response.status_code != 500
        if response.status_code == 302 and "code=" in response["Location"]:
            out.append(response["Location"])
    return out


def test_deny_then_allow_with_the_same_transaction_issues_no_code(alice_client):
    from .conftest import pushed_request_uri

    page = alice_client.get(
        AUTHORIZE_URL, {"client_id": "demo-client", "request_uri": pushed_request_uri(alice_client)}
    )
    tx = page.context["transaction"]
    denied = alice_client.post(AUTHORIZE_URL, {"transaction": tx, "decision": "deny"})
    allowed = alice_client.post(AUTHORIZE_URL, {"transaction": tx, "decision": "allow"})
    assert codes_of([denied, allowed]) == []
    assert AuthorizationGrant.objects.get().state == "denied"


def test_deny_then_allow_front_channel_same_transaction_issues_no_code(alice_client):
    page = front_page(alice_client)
    assert page.status_code == 200, page.content[:300]
    tx = page.context["transaction"]
    denied = alice_client.post(AUTHORIZE_URL, {"transaction": tx, "decision": "deny"})
    allowed = alice_client.post(AUTHORIZE_URL, {"transaction": tx, "decision": "allow"})
    assert codes_of([denied, allowed]) == []


def test_two_page_loads_of_one_pushed_request_give_one_code(alice_client):
    from .conftest import pushed_request_uri

    uri = pushed_request_uri(alice_client)
    pages = [
        alice_client.get(AUTHORIZE_URL, {"client_id": "demo-client", "request_uri": uri}) for _ in range(2)
    ]
    posts = [
        alice_client.post(AUTHORIZE_URL, {"transaction": page.context["transaction"], "decision": "allow"})
        for page in pages
    ]
    assert len(codes_of(posts)) == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"choose_details": "1", "approve_detail": ["0", "0"]},
        {"choose_details": "1", "approve_detail": "-1"},
        {"choose_details": "1", "approve_detail": "٠"},
        {"choose_details": "1", "approve_detail": "99999999999999999999999"},
        {"choose_details": "1"},
        {"decision": ["allow", "deny"]},
        {"transaction": ["x", "y"]},
    ],
)
def test_odd_consent_posts_never_500(alice_client, extra):
    from .conftest import pushed_request_uri

    uri = pushed_request_uri(alice_client, [MONEY_TRANSFER, SECOND])
    page = alice_client.get(AUTHORIZE_URL, {"client_id": "demo-client", "request_uri": uri})
    data = {"transaction": page.context["transaction"], "decision": "allow", **extra}
    response = alice_client.post(AUTHORIZE_URL, data)
    assert response.status_code < 500, response.content[:300]


def test_per_api_scope_only_token_is_not_active_for_the_fapi_api(alice_client):
    """A front-channel bearer request naming no API (scope only) in per-API FAPI mode: its token
    must not be active for the FAPI API's introspection client."""
    payments_fapi()
    verifier, challenge = pkce_pair()
    page = alice_client.get(
        AUTHORIZE_URL,
        request_params(None, scope="read", code_challenge=challenge, code_challenge_method="S256"),
    )
    if page.status_code == 302:
        loc = page["Location"]
        assert "code=" not in loc
        return
    assert page.status_code == 200, page.content[:300]
    decided = alice_client.post(
        AUTHORIZE_URL, {"transaction": page.context["transaction"], "decision": "allow"}
    )
    code = redirect_params(decided)["code"]
    from .conftest import exchange

    issued = exchange(alice_client, code, code_verifier=verifier)
    assert issued.status_code == 200, issued.content
    seen = post_form(
        alice_client,
        INTROSPECT_URL,
        {"token": issued.json()["access_token"]},
        **basic("payments-api", "payments-api-secret"),
    ).json()
    assert seen.get("active") is False or seen.get("aud") not in (
        "urn:demo:payments",
        ["urn:demo:payments"],
    ), seen


# -- FAPI: PKCE edge values, JAR, flag flipped between PAR and authorize ------------------------------


@pytest.mark.parametrize("challenge", ["", " ", "short", "a" * 200, "%%%%" * 11])
def test_fapi_par_with_a_bad_code_challenge_is_refused(client, fapi, key, challenge):
    params = request_params(
        [MONEY_TRANSFER], client_id=FAPI_CLIENT, code_challenge=challenge, code_challenge_method="S256"
    )
    pushed = post(client, PAR_URL, [*params.items(), *assertion_pairs(key)])
    assert pushed.status_code == 400, pushed.content


def test_fapi_empty_code_challenge_cannot_give_a_token_without_verifier(alice_client, fapi, key):
    params = request_params(
        [MONEY_TRANSFER], client_id=FAPI_CLIENT, code_challenge="", code_challenge_method="S256"
    )
    pushed = post(alice_client, PAR_URL, [*params.items(), *assertion_pairs(key)])
    if pushed.status_code != 201:
        return
    code = redirect_params(approve(alice_client, pushed.json()["request_uri"], client_id=FAPI_CLIENT))["code"]
    dkey = DPoPKey()
    response = post(
        alice_client,
        TOKEN_URL,
        [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            *assertion_pairs(key),
        ],
        **dpop_header(dkey.proof()),
    )
    assert response.status_code == 400, response.content


def test_fapi_jar_without_pkce_is_refused(client, fapi, key):
    from .fapi_helpers import request_object

    jar = request_object(key, authorization_details=[MONEY_TRANSFER])
    pushed = post(client, PAR_URL, [("client_id", FAPI_CLIENT), ("request", jar), *assertion_pairs(key)])
    assert pushed.status_code == 400, pushed.content


def test_fapi_jar_with_plain_pkce_beside_form_s256_is_refused(client, fapi, key):
    from .fapi_helpers import request_object

    jar = request_object(
        key, authorization_details=[MONEY_TRANSFER], code_challenge="x" * 43, code_challenge_method="plain"
    )
    pushed = post(
        client,
        PAR_URL,
        [
            ("client_id", FAPI_CLIENT),
            ("request", jar),
            ("code_challenge", pkce_pair()[1]),
            ("code_challenge_method", "S256"),
            *assertion_pairs(key),
        ],
    )
    assert pushed.status_code == 400, pushed.content


def test_per_api_flag_on_between_par_and_authorize_refuses_the_secret_client(alice_client):
    from .conftest import pushed_request_uri

    uri = pushed_request_uri(alice_client, code_challenge=pkce_pair()[1], code_challenge_method="S256")
    payments_fapi()
    page = alice_client.get(AUTHORIZE_URL, {"client_id": "demo-client", "request_uri": uri})
    assert page.status_code != 500
    if page.status_code == 200:
        decided = alice_client.post(
            AUTHORIZE_URL, {"transaction": page.context["transaction"], "decision": "allow"}
        )
        assert codes_of([decided]) == [], decided.get("Location")
        pytest.fail("consent shown to a secret client for a FAPI API")
    assert page.status_code != 302 or "code=" not in page["Location"]


def test_fapi_narrowing_at_code_exchange_response_matches_token(alice_client, fapi, key):
    dkey = DPoPKey()
    code, verifier = fapi_code(alice_client, key, [MONEY_TRANSFER, SECOND])
    response = post(
        alice_client,
        TOKEN_URL,
        [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
            ("authorization_details", json.dumps([SECOND])),
            *assertion_pairs(key),
        ],
        **dpop_header(dkey.proof()),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (
        body["authorization_details"] == claims_of(body["access_token"])["authorization_details"] == [SECOND]
    )
    seen = introspect(alice_client, key, body["access_token"])
    assert seen["authorization_details"] == [SECOND], seen
    assert seen.get("token_type") == "DPoP" and seen.get("cnf", {}).get("jkt") == dkey.jkt, seen
    whole = fapi_refresh(alice_client, key, body["refresh_token"], dkey)
    assert whole.json()["authorization_details"] == [MONEY_TRANSFER, SECOND]


def test_fapi_proof_for_the_par_url_is_refused_at_the_token_endpoint(alice_client, fapi, key):
    from .dpop_helpers import PAR_HTU

    dkey = DPoPKey()
    code, verifier = fapi_code(alice_client, key)
    response = post(
        alice_client,
        TOKEN_URL,
        [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
            *assertion_pairs(key),
        ],
        **dpop_header(dkey.proof(PAR_HTU)),
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_dpop_proof", response.content


def test_fapi_revoking_the_refresh_token_ends_the_grant(alice_client, fapi, key):
    from .strict_helpers import REVOKE_URL

    dkey = DPoPKey()
    issued = fapi_tokens(alice_client, key, dkey)
    revoked = post(alice_client, REVOKE_URL, [("token", issued["refresh_token"]), *assertion_pairs(key)])
    assert revoked.status_code == 200
    again = fapi_refresh(alice_client, key, issued["refresh_token"], dkey)
    assert again.status_code == 400, again.content


# -- lifecycle: expiry, failed attempts -----------------------------------------------------------------


def test_fapi_exchange_refused_for_missing_proof_can_be_retried_with_one(alice_client, fapi, key):
    dkey = DPoPKey()
    code, verifier = fapi_code(alice_client, key)
    pairs = lambda: [  # noqa: E731
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
        *assertion_pairs(key),
    ]
    first = post(alice_client, TOKEN_URL, pairs())
    assert first.status_code == 400 and first.json()["error"] == "invalid_dpop_proof", first.content
    second = post(alice_client, TOKEN_URL, pairs(), **dpop_header(dkey.proof()))
    assert second.status_code == 200, second.content
    assert introspect(alice_client, key, second.json()["access_token"])["active"] is True


@pytest.mark.parametrize("extra", [{"resource": "urn:demo:payments"}, {"audience": "urn:demo:payments"}])
def test_per_api_client_credentials_naming_the_api_without_details_is_refused(client, extra):
    payments_fapi()
    response = post_form(
        client,
        TOKEN_URL,
        {"grant_type": "client_credentials", **extra},
        **basic("demo-service", "demo-service-secret"),
    )
    assert response.status_code in (400, 401), response.content


def test_fapi_refresh_token_of_another_client_is_invalid_grant(alice_client, fapi, key):
    dkey = DPoPKey()
    issued = fapi_tokens(alice_client, key, dkey)
    other_key = new_key("ES256", kid="other")
    make_client("fapi-other", other_key)
    response = post(
        alice_client,
        TOKEN_URL,
        [
            ("grant_type", "refresh_token"),
            ("refresh_token", issued["refresh_token"]),
            *assertion_pairs(other_key, "fapi-other"),
        ],
        **dpop_header(dkey.proof()),
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant", response.content
    # and the rightful client is not affected
    assert fapi_refresh(alice_client, key, issued["refresh_token"], dkey).status_code == 200


def test_a_bearer_token_issued_before_the_per_api_flag_is_refused_by_the_fapi_api(client, alice_client):
    """Low: the flag's help text says the API's *tokens* follow the profile (DPoP-bound); a bearer
    token issued minutes before the switch still moves money at the FAPI API."""
    from .test_demo_api import APPROVED, post_transfer, token_from_code_flow

    bearer = token_from_code_flow(alice_client)
    payments_fapi()
    response = post_transfer(client, bearer, APPROVED)
    assert response.status_code == 401, (response.status_code, response.content[:200])


@pytest.mark.parametrize(
    "query",
    [
        {"request_uri": "urn:ietf:params:oauth:request_uri:" + "A" * 5000, "client_id": FAPI_CLIENT},
        {
            "request_uri": ["urn:ietf:params:oauth:request_uri:a", "urn:ietf:params:oauth:request_uri:b"],
            "client_id": FAPI_CLIENT,
        },
        {"request_uri": "urn:ietf:params:oauth:request_uri:\x00", "client_id": FAPI_CLIENT},
        {"request_uri": "urn:ietf:params:oauth:request_uri:a", "client_id": ["fapi-client", "demo-client"]},
        "client_id=%ED%A0%80&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aa",
        "client_id=fapi-client&response_type=code&redirect_uri=%FF&request_uri=%C0%AF",
        {
            "client_id": FAPI_CLIENT,
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "authorization_details": "[" * 5000,
        },
    ],
)
def test_fapi_authorize_odd_queries_never_500(alice_client, fapi, query):
    response = (
        alice_client.get(f"{AUTHORIZE_URL}?{query}")
        if isinstance(query, str)
        else alice_client.get(AUTHORIZE_URL, query)
    )
    assert response.status_code < 500, response.content[:300]


@pytest.mark.parametrize(
    "pairs",
    [
        [("grant_type", "refresh_token"), ("refresh_token", "\x00")],
        [("grant_type", "refresh_token"), ("refresh_token", "x" * 100000)],
        [
            ("grant_type", "authorization_code"),
            ("code", "\x00"),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", "a" * 43),
        ],
        [
            ("grant_type", "client_credentials"),
            ("resource", "urn:demo:payments"),
            ("resource", "urn:demo:payments"),
        ],
        [("grant_type", "client_credentials"), ("resource", "\x00")],
    ],
)
def test_fapi_token_odd_requests_never_500(client, fapi, key, pairs):
    response = post(client, TOKEN_URL, [*pairs, *assertion_pairs(key)], **dpop_header(DPoPKey().proof()))
    assert response.status_code < 500, response.content[:300]


def test_fapi_revocation_ends_every_token_from_non_rotated_refreshes(alice_client, fapi, key):
    dkey = DPoPKey()
    issued = fapi_tokens(alice_client, key, dkey, [MONEY_TRANSFER, SECOND])
    tokens = [issued["access_token"]]
    for details in ([SECOND], None, [MONEY_TRANSFER]):
        extra = {"authorization_details": json.dumps(details)} if details else {}
        response = fapi_refresh(alice_client, key, issued["refresh_token"], dkey, **extra)
        assert response.status_code == 200, response.content
        tokens.append(response.json()["access_token"])
    assert lifecycle.revoke(AuthorizationGrant.objects.get()) is True
    assert [introspect(alice_client, key, t).get("active") for t in tokens] == [False] * len(tokens)
    assert fapi_refresh(alice_client, key, issued["refresh_token"], dkey).status_code == 400
