"""The pushed authorization request's table: ``POST /oauth/par`` (RFC 9126 §2.1, §3)."""

from __future__ import annotations

from .authorization import AUTHORIZATION_REQUEST
from .shared import CLIENT_ASSERTION, CLIENT_ASSERTION_TYPE, CLIENT_SECRET, COMPACT_JWS, FORGED_JWS
from .table import NEVER, OPTIONAL, VSCHARS, Endpoint, Parameter

#: RFC 9126 §2.1: the authorization request plus client authentication; never a request_uri.
PAR_CLIENT_ID = Parameter(
    "client_id",
    "unless a request object carries it (RFC 9126 §3)",
    "the `client_id` of a registered client, printable ASCII (RFC 6749 §2.2, A.1)",
    VSCHARS,
    matches="the authenticated client (RFC 9126 §2.1)",
    mismatch_error="invalid_request",
    example="demo-client",
    bad="demo\tclient",
    mismatch="demo-public",
)

#: RFC 9126 §3, RFC 9101: the authorization request as a signed request object (JAR).
PAR_REQUEST = Parameter(
    "request",
    OPTIONAL,
    "a request object: a JWS in compact serialization (RFC 9101 §4; encrypted ones are refused), "
    "sent with nothing but `client_id` and client authentication beside it (RFC 9126 §3)",
    COMPACT_JWS,
    error="invalid_request_object",
    matches="signed with a registered key of the client; `iss` and `client_id` = the client, `aud` the "
    "issuer, `exp` soon, used once; its claims are the request (RFC 9101 §6.3; "
    "docs/client-authentication.md)",
    mismatch_error="invalid_request_object",
    example=FORGED_JWS,
    bad="eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d",
    mismatch=FORGED_JWS,
)

PAR = Endpoint(
    "par",
    "`POST /oauth/par` (RFC 9126 §2.1, §3)",
    (
        *(
            {"client_id": PAR_CLIENT_ID, "request": PAR_REQUEST}.get(parameter.name, parameter)
            for parameter in AUTHORIZATION_REQUEST
        ),
        CLIENT_SECRET,
        CLIENT_ASSERTION_TYPE,
        CLIENT_ASSERTION,
        Parameter(
            "request_uri",
            NEVER,
            "a pushed request cannot refer to another (RFC 9126 §2.1)",
            r"(?!)",
            bad="urn:ietf:params:oauth:request_uri:abc",
        ),
    ),
)
