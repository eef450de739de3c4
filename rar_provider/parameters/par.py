"""The pushed authorization request's table: ``POST /oauth/par`` (RFC 9126 §2.1)."""

from __future__ import annotations

from .authorization import AUTHORIZATION_REQUEST
from .shared import CLIENT_SECRET
from .table import NEVER, REQUIRED, VSCHARS, Endpoint, Parameter

#: RFC 9126 §2.1: the authorization request plus client authentication; never a request_uri.
PAR_CLIENT_ID = Parameter(
    "client_id",
    REQUIRED,
    "the `client_id` of a registered client, printable ASCII (RFC 6749 §2.2, A.1)",
    VSCHARS,
    matches="the authenticated client (RFC 9126 §2.1)",
    mismatch_error="invalid_request",
    example="demo-client",
    bad="demo\tclient",
    mismatch="demo-public",
)

PAR = Endpoint(
    "par",
    "`POST /oauth/par` (RFC 9126 §2.1)",
    (
        *(
            PAR_CLIENT_ID if parameter.name == "client_id" else parameter
            for parameter in AUTHORIZATION_REQUEST
        ),
        CLIENT_SECRET,
        Parameter(
            "request_uri",
            NEVER,
            "a pushed request cannot refer to another (RFC 9126 §2.1)",
            r"(?!)",
            bad="urn:ietf:params:oauth:request_uri:abc",
        ),
    ),
)
