"""Every table by key, in the order ``docs/protocol.md`` shows them."""

from __future__ import annotations

from .authorization import AUTHORIZE
from .introspection import INTROSPECT
from .par import PAR
from .revocation import REVOKE
from .table import Endpoint
from .token import TOKEN_AUTHORIZATION_CODE, TOKEN_CLIENT_CREDENTIALS, TOKEN_REFRESH_TOKEN

ENDPOINTS: dict[str, Endpoint] = {
    endpoint.key: endpoint
    for endpoint in (
        PAR,
        AUTHORIZE,
        TOKEN_AUTHORIZATION_CODE,
        TOKEN_REFRESH_TOKEN,
        TOKEN_CLIENT_CREDENTIALS,
        INTROSPECT,
        REVOKE,
    )
}
