"""The introspection endpoint's table: ``POST /oauth/introspect`` (RFC 7662 §2.1)."""

from __future__ import annotations

from .shared import CLIENT_AUTHENTICATION, TOKEN, TOKEN_TYPE_HINTS
from .table import OPTIONAL, Endpoint, Parameter

INTROSPECT = Endpoint(
    "introspect",
    "`POST /oauth/introspect` (RFC 7662 §2.1)",
    (
        TOKEN,
        Parameter(
            "token_type_hint",
            OPTIONAL,
            "`access_token` or `refresh_token` (RFC 7662 §2.1)",
            "|".join(TOKEN_TYPE_HINTS),
            example="access_token",
            bad="id_token",
        ),
        *CLIENT_AUTHENTICATION,
    ),
)
