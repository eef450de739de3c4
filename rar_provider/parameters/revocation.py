"""The revocation endpoint's table: ``POST /oauth/revoke`` (RFC 7009 §2.1)."""

from __future__ import annotations

from .shared import CLIENT_AUTHENTICATION, TOKEN, TOKEN_TYPE_HINTS
from .table import OPTIONAL, Endpoint, Parameter

REVOKE = Endpoint(
    "revoke",
    "`POST /oauth/revoke` (RFC 7009 §2.1)",
    (
        TOKEN,
        Parameter(
            "token_type_hint",
            OPTIONAL,
            "`access_token` or `refresh_token` (RFC 7009 §2.1)",
            "|".join(TOKEN_TYPE_HINTS),
            error="unsupported_token_type",
            example="access_token",
            bad="id_token",
        ),
        *CLIENT_AUTHENTICATION,
    ),
)
