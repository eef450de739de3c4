"""The token endpoint's tables, one per grant: authorization code (RFC 6749 §4.1.3), refresh token
(RFC 6749 §6) and client credentials (RFC 6749 §4.4, RFC 9396 §6.2); :func:`token_endpoint` picks one."""

from __future__ import annotations

import re

from ..form import RequestProblem, shown
from .shared import CLIENT_AUTHENTICATION, RESOURCE
from .table import OPTIONAL, REQUIRED, SCOPE, UNRESERVED_43_128, URI, VSCHARS, Endpoint, Parameter

NARROWING_DETAILS = Parameter(
    "authorization_details",
    OPTIONAL,
    "a JSON array of objects with a registered `type` (RFC 9396 §2; checks below)",
    error="invalid_authorization_details",
    matches="each entry covered by a granted one: the token may only narrow the grant (RFC 9396 §6.1)",
    mismatch_error="invalid_authorization_details",
    example='[{"type": "money_transfer"}]',
    bad="{not json",
    mismatch='[{"type": "account_information", "actions": ["read"]}]',
)
GRANT_RESOURCE = Parameter(
    "resource",
    OPTIONAL,
    "an absolute URI without fragment (RFC 8707 §2)",
    error="invalid_target",
    repeatable=True,
    matches="an API the grant is bound to (RFC 8707 §2.2)",
    mismatch_error="invalid_target",
    example="urn:demo:payments",
    bad="not a uri",
    mismatch="https://elsewhere.example/api",
)
CLIENT_DETAILS = Parameter(
    "authorization_details",
    OPTIONAL,
    "a JSON array of objects with a registered `type` (RFC 9396 §2; checks below)",
    error="invalid_authorization_details",
    matches="types the API's client access policy grants this client (RFC 9396 §6.2)",
    mismatch_error="invalid_authorization_details",
    example='[{"type": "account_information", "actions": ["read"]}]',
    bad="{not json",
    mismatch='[{"type": "money_transfer"}]',
)

GRANT_TYPE_SYNTAX = "one of `grant_types_supported` (RFC 6749 §4, A.10)"


def _grant_type(name: str) -> Parameter:
    return Parameter(
        "grant_type",
        REQUIRED,
        GRANT_TYPE_SYNTAX,
        re.escape(name),
        error="unsupported_grant_type",
        example=name,
        bad="urn:ietf:params:oauth:grant-type:device_code",
    )


TOKEN_AUTHORIZATION_CODE = Endpoint(
    "token:authorization_code",
    "`POST /oauth/token`, `grant_type=authorization_code` (RFC 6749 §4.1.3)",
    (
        _grant_type("authorization_code"),
        Parameter(
            "code",
            REQUIRED,
            "printable ASCII (RFC 6749 §4.1.3, A.11)",
            VSCHARS,
            matches="a live code issued to this client, used once (RFC 6749 §4.1.2)",
            mismatch_error="invalid_grant",
            bad="a\tb",
            mismatch="not-a-code",
        ),
        Parameter(
            "redirect_uri",
            REQUIRED,
            "a URI (RFC 6749 A.6); the authorization request always has one here",
            URI,
            matches="the authorization request's `redirect_uri`, exactly (RFC 6749 §4.1.3)",
            mismatch_error="invalid_grant",
            example="http://127.0.0.1:8000/demo/callback/",
            bad="http://127.0.0.1:8000/demo/callback/ x",
            mismatch="http://127.0.0.1:8000/demo/other/",
        ),
        Parameter(
            "code_verifier",
            "if and only if the authorization request had `code_challenge`",
            "43 to 128 unreserved characters (RFC 7636 §4.1)",
            UNRESERVED_43_128,
            matches="the `code_challenge` (RFC 7636 §4.6); sent without one: refused (RFC 9700 §4.8.2)",
            mismatch_error="invalid_grant",
            bad="short",
            mismatch="A" * 43,
        ),
        *CLIENT_AUTHENTICATION,
        NARROWING_DETAILS,
        GRANT_RESOURCE,
    ),
)

TOKEN_REFRESH_TOKEN = Endpoint(
    "token:refresh_token",
    "`POST /oauth/token`, `grant_type=refresh_token` (RFC 6749 §6)",
    (
        _grant_type("refresh_token"),
        Parameter(
            "refresh_token",
            REQUIRED,
            "printable ASCII (RFC 6749 §6, A.17)",
            VSCHARS,
            matches="a live refresh token of this client; a rotated one sent again revokes its family "
            "(RFC 9700 §4.14.2)",
            mismatch_error="invalid_grant",
            bad="a\tb",
            mismatch="not-a-refresh-token",
        ),
        Parameter(
            "scope",
            OPTIONAL,
            "space-separated scope tokens (RFC 6749 §3.3, A.4)",
            SCOPE,
            error="invalid_scope",
            matches="within the grant's scope (RFC 6749 §6)",
            mismatch_error="invalid_scope",
            example="profile",
            bad="profile  x",
            mismatch="accounts",
        ),
        *CLIENT_AUTHENTICATION,
        NARROWING_DETAILS,
        GRANT_RESOURCE,
    ),
)

TOKEN_CLIENT_CREDENTIALS = Endpoint(
    "token:client_credentials",
    "`POST /oauth/token`, `grant_type=client_credentials` (RFC 6749 §4.4, RFC 9396 §6.2)",
    (
        _grant_type("client_credentials"),
        Parameter(
            "scope",
            OPTIONAL,
            "space-separated scope tokens (RFC 6749 §3.3, A.4)",
            SCOPE,
            error="invalid_scope",
            matches="scopes the server offers",
            mismatch_error="invalid_scope",
            example="profile",
            bad="profile  x",
            mismatch="no-such-scope",
        ),
        *CLIENT_AUTHENTICATION,
        CLIENT_DETAILS,
        RESOURCE,
        Parameter(
            "audience",
            OPTIONAL,
            "the identifier of a registered API; agrees with `resource`",
            URI,
            error="invalid_target",
            example="urn:demo:payments",
            bad="urn:demo:unknown",
        ),
    ),
)

TOKEN_GRANTS = {
    "authorization_code": TOKEN_AUTHORIZATION_CODE,
    "refresh_token": TOKEN_REFRESH_TOKEN,
    "client_credentials": TOKEN_CLIENT_CREDENTIALS,
}
#: RFC 8414 ``grant_types_supported``: the token endpoint refuses every other grant_type.
GRANT_TYPES_SUPPORTED = tuple(TOKEN_GRANTS)


def token_endpoint(pairs: list[tuple[str, str]]) -> Endpoint:
    """The table of the token request's grant; ``unsupported_grant_type`` for one not offered."""
    grant_types = [value for name, value in pairs if name == "grant_type"]
    if not grant_types:
        raise RequestProblem("grant_type is required.")
    if len(grant_types) > 1:
        raise RequestProblem("grant_type was sent more than once (RFC 6749 §3.1).")
    endpoint = TOKEN_GRANTS.get(grant_types[0])
    if endpoint is None:
        raise RequestProblem(
            f"grant_type {shown(grant_types[0], 100)} is not supported; this server offers "
            + ", ".join(GRANT_TYPES_SUPPORTED)
            + ".",
            error="unsupported_grant_type",
        )
    return endpoint
