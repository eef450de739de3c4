"""Property-based fuzzing (hypothesis) of the authorization_details pipeline and the PAR and token
endpoints (issue 9, kind 4): no input yields an exception other than the documented one, a 500, a
non-JSON answer, or a stored row for a refused request.

Each test runs a bounded number of examples so the suite stays quick; ``FUZZ_EXAMPLES=2000`` runs more.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote_from_bytes, urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oauth2_provider.models import AccessToken, Grant

from rar_provider.conf import rar_settings
from rar_provider.details import (
    check_common_fields,
    parse_authorization_details,
    present_detail,
    uncovered_index,
    validate_against_schema,
)
from rar_provider.errors import AuthorizationDetailsProblem
from rar_provider.models import PushedAuthorizationRequest

from .conftest import CONFIDENTIAL, FORM, MONEY_TRANSFER, PAR_URL, REDIRECT_URI, TOKEN_URL
from .strict_helpers import SERVICE

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = {
    entry["fields"]["type"]: entry["fields"]["json_schema"]
    for entry in json.loads((ROOT / "fixtures" / "demo.json").read_text())
    if entry["model"] == "rar_provider.authorizationdetailtype"
}
TYPES = sorted(SCHEMAS)

FAST = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "80")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# -- strategies ---------------------------------------------------------------------------------------------

#: Text that includes what breaks parsers and databases: NUL, controls, surrogates' neighbours, bidi.
nasty_text = st.text(
    alphabet=st.characters(codec="utf-8")
    | st.sampled_from(["\x00", "\n", "\u202e", "%", "&", "=", "+", '"']),
    max_size=40,
)
json_leaf = (
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=False) | nasty_text
)
json_value = st.recursive(
    json_leaf,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(nasty_text, children, max_size=4),
    max_leaves=12,
)
#: Details that look like the demo's types, with fields that are sometimes right and sometimes not.
detail = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES) | nasty_text},
    optional={
        "instructedAmount": st.fixed_dictionaries(
            {"amount": json_leaf, "currency": st.sampled_from(["USD", "EUR", "USD\n", "usd"]) | nasty_text}
        ),
        "sourceAccount": json_leaf,
        "destinationAccount": json_leaf,
        "beneficiary": json_leaf,
        "subject": json_leaf,
        "actions": st.lists(nasty_text, max_size=3) | json_leaf,
        "locations": st.lists(nasty_text, max_size=3) | json_leaf,
        "identifier": json_leaf,
    },
)
details_text = (
    st.lists(detail, max_size=4).map(json.dumps)
    | json_value.map(json.dumps)
    | nasty_text
    | st.just(json.dumps([MONEY_TRANSFER]))
)


# -- the pure pipeline --------------------------------------------------------------------------------------


@FAST
@given(raw=details_text)
def test_details_pipeline_raises_only_its_documented_problem(raw):
    """parse → common fields → the type's schema → presentation → comparison: only
    AuthorizationDetailsProblem, and whatever passes is storable (no NUL, valid Unicode)."""
    try:
        details = parse_authorization_details(raw, rar_settings.limits)
        check_common_fields(details)
        for index, entry in enumerate(details):
            if entry["type"] in SCHEMAS:
                validate_against_schema(index, entry, SCHEMAS[entry["type"]])
    except AuthorizationDetailsProblem as problem:
        assert problem.description and problem.error
        return
    stored = json.dumps(details, ensure_ascii=False)
    assert "\x00" not in stored and "\\u0000" not in stored
    stored.encode("utf-8")  # no unpaired surrogate
    for entry in details:
        present_detail(entry)
    assert uncovered_index(details, details, {}) is None  # a grant covers itself


# -- the endpoints ------------------------------------------------------------------------------------------

PAR_NAMES = [
    "client_id",
    "response_type",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "authorization_details",
    "resource",
    "audience",
    "prompt",
    "nonce",
    "response_mode",
    "request",
    "request_uri",
    "client_secret",
]
GOOD_PAR = {
    "client_id": "demo-client",
    "response_type": "code",
    "redirect_uri": REDIRECT_URI,
    "authorization_details": json.dumps([MONEY_TRANSFER]),
}
par_changes = st.dictionaries(
    st.sampled_from(PAR_NAMES) | nasty_text,
    nasty_text | details_text | st.sampled_from(["code", "S256", "urn:demo:payments", "profile", "none"]),
    max_size=5,
)


def assert_json_answer(response):
    assert response.status_code != 500, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), (
        response.status_code,
        response.content[:200],
    )
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    if response.status_code >= 400:
        assert body["error"] and body["error_description"]
    return body


@pytest.mark.django_db
@FAST
@given(changes=par_changes, repeat=st.sampled_from([None, *PAR_NAMES]))
def test_par_endpoint_fuzzed(changes, repeat):
    client = Client()
    pairs = list({**GOOD_PAR, **changes}.items())
    if repeat is not None:
        pairs.append((repeat, dict(pairs).get(repeat, "x")))
    before = PushedAuthorizationRequest.objects.count()
    response = client.post(PAR_URL, urlencode(pairs), content_type=FORM, **CONFIDENTIAL)
    assert_json_answer(response)
    after = PushedAuthorizationRequest.objects.count()
    assert after == before + (1 if response.status_code == 201 else 0)


TOKEN_NAMES = [
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
    "authorization_details",
    "resource",
    "audience",
    "device_code",
]
GRANT_TYPES = [
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "password",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
]
token_changes = st.dictionaries(
    st.sampled_from(TOKEN_NAMES) | nasty_text,
    nasty_text
    | details_text
    | st.sampled_from(["demo-client", "demo-service", "urn:demo:payments", "A" * 43]),
    max_size=5,
)
token_auth = st.sampled_from(
    [
        SERVICE,
        CONFIDENTIAL,
        {},
        {"HTTP_AUTHORIZATION": "Basic !!"},
        {"HTTP_AUTHORIZATION": "Bearer x"},
    ]
)


@pytest.mark.django_db
@FAST
@given(grant_type=st.sampled_from(GRANT_TYPES) | nasty_text, changes=token_changes, auth=token_auth)
def test_token_endpoint_fuzzed(grant_type, changes, auth):
    client = Client()
    before = AccessToken.objects.count()
    response = client.post(
        TOKEN_URL, urlencode({"grant_type": grant_type, **changes}), content_type=FORM, **auth
    )
    assert_json_answer(response)
    issued = AccessToken.objects.count() - before
    assert issued == (1 if response.status_code == 200 else 0)
    assert not Grant.objects.exists()


@pytest.mark.django_db
@FAST
@given(
    body=st.binary(max_size=300)
    | st.lists(st.binary(max_size=20), max_size=6).map(lambda parts: b"&".join(parts)),
    content_type=st.sampled_from(
        [FORM, f"{FORM}; charset=utf8", f"{FORM}; charset=latin1", "application/json", ""]
    ),
    url=st.sampled_from([PAR_URL, TOKEN_URL, "/oauth/introspect", "/oauth/revoke"]),
)
def test_raw_bytes_fuzzed(body, content_type, url):
    """Arbitrary bytes (raw, or as percent-escapes) in any media type: always a JSON answer, never a 500."""
    client = Client()
    for payload in (body, quote_from_bytes(body, safe="=&").encode()):
        response = client.generic("POST", url, payload, content_type=content_type, **CONFIDENTIAL)
        assert_json_answer(response)
    assert not PushedAuthorizationRequest.objects.exists() or url == PAR_URL
