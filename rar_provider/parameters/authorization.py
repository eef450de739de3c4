"""The authorization request (RFC 6749 §4.1.1, with RFC 7636 PKCE, RFC 9396 and RFC 8707) and the
authorization endpoint's table (``GET /oauth/authorize``, RFC 9126 §4 for ``request_uri``)."""

from __future__ import annotations

from .shared import AUTHORIZATION_DETAILS, RESOURCE
from .table import (
    DPOP_JKT,
    NEVER,
    OPTIONAL,
    PROMPT_VALUE,
    REQUIRED,
    SCOPE,
    UNRESERVED_43_128,
    URI,
    VSCHARS,
    Endpoint,
    Parameter,
)

#: The authorization request, pushed (RFC 9126 §2.1) or at the authorization endpoint (RFC 6749 §4.1.1).
AUTHORIZATION_REQUEST = (
    Parameter(
        "response_type",
        REQUIRED,
        "`code`, the only `response_types_supported` (RFC 6749 §3.1.1)",
        r"code",
        error="unsupported_response_type",
        example="code",
        bad="token",
    ),
    Parameter(
        "client_id",
        REQUIRED,
        "the `client_id` of a registered client, printable ASCII (RFC 6749 §2.2, A.1)",
        VSCHARS,
        example="demo-client",
        bad="demo\tclient",
    ),
    Parameter(
        "redirect_uri",
        REQUIRED,
        "a URI (RFC 6749 §3.1.2, A.6)",
        URI,
        matches="a registered redirect URI, compared as exact strings (RFC 9700 §4.1.3)",
        mismatch_error="invalid_request",
        example="http://127.0.0.1:8000/demo/callback/",
        bad="http://127.0.0.1:8000/demo/callback/ x",
        mismatch="http://127.0.0.1:8000/demo/callback/other",
    ),
    Parameter(
        "scope",
        OPTIONAL,
        "space-separated scope tokens (RFC 6749 §3.3, A.4)",
        SCOPE,
        error="invalid_scope",
        example="profile",
        bad="profile  accounts",
        matches="scopes the server offers and the client may request",
        mismatch_error="invalid_scope",
        mismatch="no-such-scope",
    ),
    Parameter(
        "state",
        OPTIONAL,
        "printable ASCII (RFC 6749 §4.1.1, A.5), at most 1024 characters",
        VSCHARS,
        max_length=1024,
        example="xyz-1",
        bad="a\tb",
    ),
    Parameter(
        "code_challenge",
        "for public clients (RFC 9700 §2.1.1)",
        "43 to 128 unreserved characters; for S256 the BASE64URL of a SHA-256 (RFC 7636 §4.2)",
        UNRESERVED_43_128,
        example="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        bad="too-short",
    ),
    Parameter(
        "code_challenge_method",
        "with code_challenge",
        "`S256` (RFC 7636 §4.3; `plain` is refused, RFC 9700 §2.1.1)",
        r"S256",
        example="S256",
        bad="plain",
    ),
    Parameter(
        "dpop_jkt",
        OPTIONAL,
        "the base64url SHA-256 JWK thumbprint of the client's DPoP key, 43 characters (RFC 9449 §10, "
        "RFC 7638); at PAR it must name the key of a `DPoP` proof sent with it (§10.1)",
        DPOP_JKT,
        example="0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
        bad="0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4",
    ),
    AUTHORIZATION_DETAILS,
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
    Parameter(
        "prompt",
        OPTIONAL,
        "`none`, or space-separated `login`, `consent`, `select_account` (OIDC Core §3.1.2.1)",
        rf"none|{PROMPT_VALUE}(?: {PROMPT_VALUE})*",
        example="consent",
        bad="consent none",
    ),
    Parameter(
        "nonce",
        OPTIONAL,
        "printable ASCII, at most 255 characters (OIDC Core §3.1.2.1)",
        VSCHARS,
        max_length=255,
        example="n-0S6_WzA2Mj",
        bad="n" * 256,
    ),
    Parameter(
        "response_mode",
        OPTIONAL,
        "`query`, the only `response_modes_supported` (OAuth 2.0 Multiple Response Types §2.1)",
        r"query",
        example="query",
        bad="fragment",
    ),
    Parameter(
        "request",
        NEVER,
        "request objects are not supported (RFC 9101)",
        r"(?!)",
        error="request_not_supported",
        bad="eyJhbGciOiJub25lIn0.e30.",
    ),
)


AUTHORIZE = Endpoint(
    "authorize",
    "`GET /oauth/authorize` (RFC 6749 §4.1.1); with `request_uri` only `client_id` and `request_uri` count",
    (
        *AUTHORIZATION_REQUEST,
        Parameter(
            "request_uri",
            OPTIONAL,
            "`urn:ietf:params:oauth:request_uri:` and the reference (RFC 9126 §2.2)",
            URI,
            error="invalid_request_uri",
            matches="a live pushed request of this client, used once (RFC 9126 §4)",
            mismatch_error="invalid_request_uri",
            bad="urn:ietf:params:oauth:request_uri:a b",
            mismatch="urn:ietf:params:oauth:request_uri:unknown",
        ),
    ),
)

#: RFC 8414 ``response_types_supported`` / ``response_modes_supported``.
RESPONSE_TYPES_SUPPORTED = ("code",)
RESPONSE_MODES_SUPPORTED = ("query",)

#: What a pushed request keeps: the authorization request's parameters, nothing else.
AUTHORIZATION_PARAMETERS = frozenset(parameter.name for parameter in AUTHORIZATION_REQUEST)
