"""Every parameter of every endpoint: the one table the code, the docs and the tests share.

For each endpoint (PAR, authorization, token per grant, introspection,
revocation) :data:`ENDPOINTS` lists the parameters the server understands:
whether each is required, whether it may repeat, its syntax (with the RFC
section that defines it), where it must match an earlier value, and the exact
error for each violation. Everything else a client sends is ignored
(RFC 6749 §3.1, §3.2) and never stored.

One module per table, named for the RFC section it follows:

- :mod:`.table`: :class:`Parameter`, :class:`Endpoint` and :func:`check`, which
  enforces the single-value and syntax rules (and unconditional presence) of a
  table; the endpoints call it (PAR and authorization through
  :mod:`rar_provider.oauth.pipeline`, the other endpoints through
  :mod:`rar_provider.views.endpoint`). Must-match rules are enforced where the
  earlier value lives (oauthlib and :mod:`rar_provider.oauth.validator`).
- :mod:`.shared`: rows several tables use (client authentication, RFC 6749 §2.3, RFC 7523 §2.2;
  ``authorization_details``; ``resource``; the ``token`` of RFC 7662/7009).
- :mod:`.authorization`: the authorization request (RFC 6749 §4.1.1, RFC 7636,
  RFC 9396 §2, RFC 8707) and ``GET /oauth/authorize``.
- :mod:`.par`: ``POST /oauth/par`` (RFC 9126 §2.1; a signed request object, §3 and RFC 9101).
- :mod:`.token`: ``POST /oauth/token`` per grant (RFC 6749 §4.1.3, §6, §4.4).
- :mod:`.introspection` (RFC 7662 §2.1) and :mod:`.revocation` (RFC 7009 §2.1).
- :mod:`.endpoints`: :data:`ENDPOINTS`, every table by key.
- :mod:`.markdown`: :func:`render_markdown` renders the tables into
  ``docs/protocol.md``; ``python -m rar_provider.parameters`` prints them, and a
  test fails when the document and these modules disagree.

``tests/test_parameters.py`` walks every row through the real endpoints:
missing, repeated, malformed (``bad``) and mismatching (``mismatch``) values.
"""

from .authorization import (
    AUTHORIZATION_PARAMETERS,
    AUTHORIZATION_REQUEST,
    AUTHORIZE,
    RESPONSE_MODES_SUPPORTED,
    RESPONSE_TYPES_SUPPORTED,
)
from .endpoints import ENDPOINTS
from .introspection import INTROSPECT
from .markdown import BEGIN, END, document_section, render_markdown
from .par import PAR, PAR_CLIENT_ID, PAR_REQUEST
from .revocation import REVOKE
from .shared import (
    AUTHORIZATION_DETAILS,
    CLIENT_ASSERTION,
    CLIENT_ASSERTION_TYPE,
    CLIENT_ID,
    CLIENT_SECRET,
    JWT_BEARER_ASSERTION,
    RESOURCE,
    TOKEN,
    TOKEN_TYPE_HINTS,
)
from .table import (
    NEVER,
    OPTIONAL,
    PROMPT_VALUE,
    REQUIRED,
    SCOPE,
    UNRESERVED_43_128,
    URI,
    VSCHAR,
    VSCHARS,
    Endpoint,
    Parameter,
    check,
)
from .token import (
    CLIENT_DETAILS,
    GRANT_RESOURCE,
    GRANT_TYPE_SYNTAX,
    GRANT_TYPES_SUPPORTED,
    NARROWING_DETAILS,
    TOKEN_AUTHORIZATION_CODE,
    TOKEN_CLIENT_CREDENTIALS,
    TOKEN_GRANTS,
    TOKEN_REFRESH_TOKEN,
    token_endpoint,
)

__all__ = [
    "AUTHORIZATION_DETAILS",
    "AUTHORIZATION_PARAMETERS",
    "AUTHORIZATION_REQUEST",
    "AUTHORIZE",
    "BEGIN",
    "CLIENT_ASSERTION",
    "CLIENT_ASSERTION_TYPE",
    "CLIENT_DETAILS",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "END",
    "ENDPOINTS",
    "GRANT_RESOURCE",
    "GRANT_TYPES_SUPPORTED",
    "GRANT_TYPE_SYNTAX",
    "INTROSPECT",
    "JWT_BEARER_ASSERTION",
    "NARROWING_DETAILS",
    "NEVER",
    "OPTIONAL",
    "PAR",
    "PAR_CLIENT_ID",
    "PAR_REQUEST",
    "PROMPT_VALUE",
    "REQUIRED",
    "RESOURCE",
    "RESPONSE_MODES_SUPPORTED",
    "RESPONSE_TYPES_SUPPORTED",
    "REVOKE",
    "SCOPE",
    "TOKEN",
    "TOKEN_AUTHORIZATION_CODE",
    "TOKEN_CLIENT_CREDENTIALS",
    "TOKEN_GRANTS",
    "TOKEN_REFRESH_TOKEN",
    "TOKEN_TYPE_HINTS",
    "UNRESERVED_43_128",
    "URI",
    "VSCHAR",
    "VSCHARS",
    "Endpoint",
    "Parameter",
    "check",
    "document_section",
    "render_markdown",
    "token_endpoint",
]
