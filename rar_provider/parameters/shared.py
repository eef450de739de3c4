"""Rows more than one table uses: client authentication (RFC 6749 §2.3), ``authorization_details``
(RFC 9396 §2) and ``resource`` (RFC 8707 §2), and the ``token`` of introspection and revocation
(RFC 7662 §2.1, RFC 7009 §2.1)."""

from __future__ import annotations

from .table import OPTIONAL, REQUIRED, VSCHARS, Parameter

CLIENT_ID = Parameter(
    "client_id",
    "unless the client authenticates with HTTP Basic",
    "printable ASCII (RFC 6749 §2.2, A.1)",
    VSCHARS,
    matches="the client authenticated with HTTP Basic (RFC 6749 §2.3)",
    mismatch_error="invalid_request",
    example="demo-client",
    bad="demo\tclient",
    mismatch="demo-public",
)
CLIENT_SECRET = Parameter(
    "client_secret",
    "for a confidential client not using HTTP Basic",
    "printable ASCII (RFC 6749 §2.3.1, A.2), and not sent together with HTTP Basic",
    VSCHARS,
    matches="the client's registered secret",
    mismatch_error="invalid_client",
    example="demo-secret",
    bad="demo\nsecret",
    mismatch="wrong-secret",
)
AUTHORIZATION_DETAILS = Parameter(
    "authorization_details",
    OPTIONAL,
    "a JSON array of objects with a registered `type` (RFC 9396 §2; checks below)",
    error="invalid_authorization_details",
    example='[{"type": "account_information", "actions": ["read"]}]',
    bad="{not json",
)
RESOURCE = Parameter(
    "resource",
    OPTIONAL,
    "an absolute URI without fragment naming a registered API (RFC 8707 §2)",
    error="invalid_target",
    repeatable=True,
    example="urn:demo:payments",
    bad="urn:demo:unknown",
)

TOKEN_TYPE_HINTS = ("access_token", "refresh_token")
TOKEN = Parameter(
    "token",
    REQUIRED,
    "printable ASCII (RFC 7662 §2.1, RFC 7009 §2.1)",
    VSCHARS,
    bad="a\tb",
)
