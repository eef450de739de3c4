"""The hook before consent (RAR-17): allow, refuse, step-up; the demo's password step-up;
settings and system check E009."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.core.checks import run_checks
from django.test import override_settings
from oauth2_provider.models import Grant

from demo_site.hooks import STEP_UP_SESSION_KEY
from rar_provider.hooks import Allow, Refuse, StepUp
from rar_provider.models import AuthorizationGrant, PushedAuthorizationRequest

from .conftest import (
    AUTHORIZE_URL,
    MONEY_TRANSFER,
    authorize_query,
    consent_transaction,
    exchange,
    pushed_request_uri,
    redirect_params,
    request_params,
)

pytestmark = pytest.mark.django_db

CALLS: list[dict] = []
SMALL_TRANSFER = {**MONEY_TRANSFER, "instructedAmount": {"amount": 1000, "currency": "USD"}}


def recording_hook(**kwargs):
    CALLS.append(kwargs)
    return None


def refusing_hook(**kwargs):
    return Refuse("Transfers to this beneficiary are blocked.")


def step_up_hook(**kwargs):
    return StepUp("/elsewhere/?reason=mfa")


def allowing_hook(**kwargs):
    return Allow()


def broken_hook(**kwargs):
    return "yes"


NOT_CALLABLE = 42


def hooks(*names):
    return override_settings(
        RAR_PROVIDER={
            "ISSUER": "http://127.0.0.1:8000",
            "CONSENT_HOOKS": [f"tests.test_hooks.{n}" for n in names],
        }
    )


@pytest.fixture
def demo_hooks(settings):
    """The demo's own setting: a money transfer above 1,000 needs the password again."""
    settings.RAR_PROVIDER = {
        **settings.RAR_PROVIDER,
        "CONSENT_HOOKS": ["demo_site.hooks.large_transfers_need_password"],
    }


def test_hook_receives_user_client_api_details_and_scopes(alice_client, alice):
    CALLS.clear()
    with hooks("recording_hook"):
        page = alice_client.get(AUTHORIZE_URL, request_params([MONEY_TRANSFER], scope="profile"))
        assert page.status_code == 200
        alice_client.post(AUTHORIZE_URL, {"transaction": consent_transaction(page), "decision": "allow"})
    assert len(CALLS) == 2  # before the page, and again on the decision
    for call in CALLS:
        assert call["user"] == alice
        assert call["client"].client_id == "demo-client"
        assert call["resource_server"].identifier == "urn:demo:payments"
        assert call["details"] == [MONEY_TRANSFER]
        assert call["scopes"] == ["profile"]
        assert call["request"].path == AUTHORIZE_URL


def test_allow_and_none_show_the_consent_page(alice_client):
    with hooks("allowing_hook", "recording_hook"):
        assert alice_client.get(AUTHORIZE_URL, request_params([MONEY_TRANSFER])).status_code == 200


def test_refuse_is_access_denied_with_the_description(alice_client):
    request_uri = pushed_request_uri(alice_client)
    with hooks("allowing_hook", "refusing_hook", "step_up_hook"):
        params = redirect_params(alice_client.get(AUTHORIZE_URL, authorize_query(request_uri)))
    assert params["error"] == "access_denied"
    assert params["error_description"] == "Transfers to this beneficiary are blocked."
    assert PushedAuthorizationRequest.objects.get().consumed_at is not None
    assert not Grant.objects.exists()


def test_step_up_redirects_to_the_hook_url_with_the_way_back(alice_client):
    query = authorize_query(pushed_request_uri(alice_client))
    with hooks("step_up_hook"):
        response = alice_client.get(AUTHORIZE_URL, query)
    assert response.status_code == 302
    target = urlparse(response["Location"])
    assert target.path == "/elsewhere/"
    params = parse_qs(target.query)
    assert params["reason"] == ["mfa"]
    assert params["next"] == [f"{AUTHORIZE_URL}?{urlencode(query)}"]
    assert PushedAuthorizationRequest.objects.get().consumed_at is None


def test_step_up_with_prompt_none_is_interaction_required(alice_client):
    with hooks("step_up_hook"):
        params = redirect_params(
            alice_client.get(AUTHORIZE_URL, request_params([MONEY_TRANSFER], prompt="none"))
        )
    assert params["error"] == "interaction_required"


def test_a_hook_returning_something_else_is_a_programming_error(alice_client):
    with hooks("broken_hook"), pytest.raises(TypeError, match="expected Allow, Refuse, StepUp or None"):
        alice_client.get(AUTHORIZE_URL, request_params([MONEY_TRANSFER]))


def test_refuse_on_the_decision_post(alice_client):
    page = alice_client.get(AUTHORIZE_URL, authorize_query(pushed_request_uri(alice_client)))
    with hooks("refusing_hook"):
        response = alice_client.post(
            AUTHORIZE_URL, {"transaction": consent_transaction(page), "decision": "allow"}
        )
    assert redirect_params(response)["error"] == "access_denied"
    assert not Grant.objects.exists() and not AuthorizationGrant.objects.given().exists()


# -- the demo's step-up ----------------------------------------------------------------------------------


def test_demo_large_transfer_asks_for_the_password_first_and_comes_back(alice_client, demo_hooks):
    query = authorize_query(pushed_request_uri(alice_client))
    back = f"{AUTHORIZE_URL}?{urlencode(query)}"
    response = alice_client.get(AUTHORIZE_URL, query)
    assert response.status_code == 302
    step_up = response["Location"]
    assert step_up == f"/demo/step-up/?{urlencode({'next': back})}"
    form = alice_client.get(step_up)
    assert form.status_code == 200 and form.context["next"] == back
    assert "Confirm it is you" in form.content.decode()
    wrong = alice_client.post("/demo/step-up/", {"password": "nope", "next": back})
    assert wrong.status_code == 400 and "That password is not right" in wrong.content.decode()
    assert STEP_UP_SESSION_KEY not in alice_client.session
    right = alice_client.post("/demo/step-up/", {"password": "wonderland-42", "next": back})
    assert right.status_code == 302 and right["Location"] == back
    # Back at the same consent (the same request_uri), which now shows the transfer.
    page = alice_client.get(back)
    assert page.status_code == 200 and "Hanna Herwitz" in page.content.decode()
    code = redirect_params(
        alice_client.post(AUTHORIZE_URL, {"transaction": consent_transaction(page), "decision": "allow"})
    )["code"]
    assert exchange(alice_client, code).json()["authorization_details"] == [MONEY_TRANSFER]


def test_demo_step_up_cannot_be_bypassed_by_posting_the_form(alice_client, demo_hooks):
    query = authorize_query(pushed_request_uri(alice_client))
    session = alice_client.session
    session[STEP_UP_SESSION_KEY] = time.time()
    session.save()
    page = alice_client.get(AUTHORIZE_URL, query)
    assert page.status_code == 200
    # The proof goes away (expired, another browser …) before the decision is posted.
    session = alice_client.session
    session[STEP_UP_SESSION_KEY] = time.time() - 3600
    session.save()
    response = alice_client.post(
        AUTHORIZE_URL, {"transaction": consent_transaction(page), "decision": "allow"}
    )
    assert response.status_code == 302
    assert (
        response["Location"] == f"/demo/step-up/?{urlencode({'next': f'{AUTHORIZE_URL}?{urlencode(query)}'})}"
    )
    assert not Grant.objects.exists()
    assert PushedAuthorizationRequest.objects.get().consumed_at is None  # still usable after the step-up


def test_demo_small_transfer_needs_no_step_up(alice_client, demo_hooks):
    page = alice_client.get(
        AUTHORIZE_URL, authorize_query(pushed_request_uri(alice_client, [SMALL_TRANSFER]))
    )
    assert page.status_code == 200


def test_demo_step_up_next_must_be_local(alice_client):
    response = alice_client.post(
        "/demo/step-up/", {"password": "wonderland-42", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_demo_step_up_needs_login(client):
    assert client.get("/demo/step-up/")["Location"].startswith("/accounts/login/")


# -- configuration ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, message",
    [
        (["tests.test_hooks.no_such_hook"], "cannot be imported"),
        (["tests.test_hooks.NOT_CALLABLE"], "is not callable"),
        ("tests.test_hooks.refusing_hook", "must be a list of dotted paths"),
    ],
)
def test_check_e006_bad_hooks(value, message):
    with override_settings(RAR_PROVIDER={"ISSUER": "https://as.example", "CONSENT_HOOKS": value}):
        errors = [e for e in run_checks() if e.id == "rar_provider.E009"]
    assert len(errors) == 1 and message in errors[0].msg


def test_check_e006_quiet_for_the_demo_hook():
    with override_settings(
        RAR_PROVIDER={
            "ISSUER": "https://as.example",
            "CONSENT_HOOKS": ["demo_site.hooks.large_transfers_need_password"],
        }
    ):
        assert not [e for e in run_checks() if e.id == "rar_provider.E009"]


def test_consent_lifetime_must_be_a_whole_number():
    with override_settings(RAR_PROVIDER={"ISSUER": "https://as.example", "CONSENT_LIFETIME": "long"}):
        errors = [e for e in run_checks() if e.id == "rar_provider.E005"]
    assert any("CONSENT_LIFETIME" in e.msg for e in errors)
