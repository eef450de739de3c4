"""Rows more than one table uses: client authentication (RFC 6749 §2.3, RFC 7523 §2.2),
``authorization_details`` (RFC 9396 §2) and ``resource`` (RFC 8707 §2), and the ``token`` of
introspection and revocation (RFC 7662 §2.1, RFC 7009 §2.1)."""

from __future__ import annotations

import re

from .table import OPTIONAL, REQUIRED, VSCHARS, Parameter

CLIENT_ID = Parameter(
    "client_id",
    "unless the client authenticates with HTTP Basic or a client assertion",
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
#: RFC 7523 §2.2: the one client assertion type accepted (private_key_jwt).
JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: A JWS in compact serialization (RFC 7515 §7.1): three base64url parts (an empty signature is read,
#: then refused for its alg).
COMPACT_JWS = r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
#: A well-formed JWS (ES256, kid "k1") whose signature verifies with no key: the tables' mismatch value.
FORGED_JWS = (
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0."
    "eyJpc3MiOiJub2JvZHkiLCJhdWQiOiJodHRwOi8vMTI3LjAuMC4xOjgwMDAiLCJleHAiOjQxMDI0NDQ4MDB9." + "A" * 86
)
CLIENT_ASSERTION_TYPE = Parameter(
    "client_assertion_type",
    "with `client_assertion` (private_key_jwt)",
    f"`{JWT_BEARER_ASSERTION}` (RFC 7523 §2.2); never beside HTTP Basic or `client_secret`",
    re.escape(JWT_BEARER_ASSERTION),
    error="invalid_client",
    example=JWT_BEARER_ASSERTION,
    bad="urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
)
CLIENT_ASSERTION = Parameter(
    "client_assertion",
    "for a client registered for `private_key_jwt`",
    "a JWS in compact serialization (RFC 7515 §7.1), at most 8192 characters",
    COMPACT_JWS,
    max_length=8192,
    error="invalid_client",
    matches="signed with a registered key of the client; `iss` = `sub` = `client_id`, `aud` the issuer, "
    "`exp` soon, `jti` not used before (RFC 7523 §3; docs/client-authentication.md)",
    mismatch_error="invalid_client",
    bad="not-a-jwt",
    mismatch=FORGED_JWS,
)

#: Client authentication at the back-channel endpoints: ``client_secret_basic`` needs none of these;
#: ``client_secret_post`` the first two, ``private_key_jwt`` (RFC 7523 §2.2) the last two with the id.
CLIENT_AUTHENTICATION = (CLIENT_ID, CLIENT_SECRET, CLIENT_ASSERTION_TYPE, CLIENT_ASSERTION)
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
