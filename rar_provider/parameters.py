"""Every parameter of every endpoint: the one table the code, the docs and the tests share.

For each endpoint (PAR, authorization, token per grant, introspection,
revocation) :data:`ENDPOINTS` lists the parameters the server understands:
whether each is required, whether it may repeat, its syntax (with the RFC
section that defines it), where it must match an earlier value, and the exact
error for each violation. Everything else a client sends is ignored
(RFC 6749 §3.1, §3.2) and never stored.

- :func:`check` enforces the single-value and syntax rules (and unconditional
  presence) of a table; the endpoints call it (PAR and authorization through
  :mod:`rar_provider.oauth.pipeline`, the other endpoints through
  :mod:`rar_provider.views.endpoint`). Must-match rules are enforced where the
  earlier value lives (oauthlib and :mod:`rar_provider.oauth.validator`).
- :func:`render_markdown` renders the tables into ``docs/protocol.md``;
  ``python -m rar_provider.parameters`` prints them, and a test fails when the
  document and this module disagree.
- ``tests/test_parameters.py`` walks every row through the real endpoints:
  missing, repeated, malformed (``bad``) and mismatching (``mismatch``) values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from .form import RequestProblem, shown

REQUIRED = "required"
OPTIONAL = "optional"
NEVER = "never"

VSCHAR = r"[\x20-\x7e]"
#: RFC 6749 Appendix A: most values are printable ASCII.
VSCHARS = rf"{VSCHAR}+"
URI = r"[\x21-\x7e]+"
SCOPE = r"[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*"
UNRESERVED_43_128 = r"[A-Za-z0-9._~-]{43,128}"
PROMPT_VALUE = r"(?:login|consent|select_account)"


@dataclass(frozen=True)
class Parameter:
    """One row: a request parameter of one endpoint.

    ``required`` is :data:`REQUIRED`, :data:`OPTIONAL` or the condition under
    which it is required (enforced elsewhere). ``pattern`` (a full match) and
    ``max_length`` are the syntax :func:`check` enforces; ``syntax`` says it in
    words. ``error`` is the error for a malformed value (missing and repeated
    values are always ``invalid_request``), ``mismatch_error`` the error when
    the value does not match ``matches``. ``example`` is a valid value, ``bad``
    a malformed one and ``mismatch`` a well-formed one that breaks ``matches``
    (the tests send them; ``None``: the test's request supplies it).
    """

    name: str
    required: str
    syntax: str
    pattern: str | None = None
    max_length: int | None = None
    error: str = "invalid_request"
    matches: str = ""
    mismatch_error: str = ""
    repeatable: bool = False
    example: str | None = None
    bad: str | None = None
    mismatch: str | None = None

    @cached_property
    def regex(self) -> re.Pattern[str] | None:
        return re.compile(self.pattern) if self.pattern else None

    def problem(self, value: str) -> RequestProblem | None:
        """The error for ``value`` if it breaks this row's syntax, else ``None``."""
        if self.max_length is not None and len(value) > self.max_length:
            return RequestProblem(
                f"{self.name} is {len(value)} characters long; at most {self.max_length} are allowed.",
                error=self.error,
            )
        if self.regex is not None and not self.regex.fullmatch(value):
            if self.required == NEVER:
                description = f"{self.name} must not be sent: {self.syntax}."
            else:
                description = f"{self.name} {shown(value)} is refused: it must be {self.syntax}."
            return RequestProblem(description, error=self.error)
        return None


@dataclass(frozen=True)
class Endpoint:
    """The parameters of one endpoint (or one grant of the token endpoint)."""

    key: str
    title: str
    parameters: tuple[Parameter, ...]

    def __getitem__(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(name)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(parameter.name for parameter in self.parameters)

    @property
    def repeatable(self) -> frozenset[str]:
        return frozenset(parameter.name for parameter in self.parameters if parameter.repeatable)


def check(endpoint: Endpoint, pairs: Iterable[tuple[str, str]], *, presence: bool = True) -> None:
    """Enforce ``endpoint``'s single-value, syntax and (``presence``) unconditional-presence rules.

    Parameters not in the table are ignored (RFC 6749 §3.1). Raises
    :class:`~rar_provider.form.RequestProblem` for the first violation.
    """
    seen: set[str] = set()
    for name, value in pairs:
        if name not in endpoint.names:
            continue
        parameter = endpoint[name]
        if name in seen and not parameter.repeatable:
            raise RequestProblem(f"{name} was sent more than once (RFC 6749 §3.1).")
        seen.add(name)
        problem = parameter.problem(value)
        if problem is not None:
            raise problem
    if presence:
        for parameter in endpoint.parameters:
            if parameter.required == REQUIRED and parameter.name not in seen:
                raise RequestProblem(f"{parameter.name} is required.")


# -- the rows -----------------------------------------------------------------------------------------------

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
        CLIENT_ID,
        CLIENT_SECRET,
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
        CLIENT_ID,
        CLIENT_SECRET,
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
        CLIENT_ID,
        CLIENT_SECRET,
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

TOKEN_TYPE_HINTS = ("access_token", "refresh_token")
TOKEN = Parameter(
    "token",
    REQUIRED,
    "printable ASCII (RFC 7662 §2.1, RFC 7009 §2.1)",
    VSCHARS,
    bad="a\tb",
)

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
        CLIENT_ID,
        CLIENT_SECRET,
    ),
)

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
        CLIENT_ID,
        CLIENT_SECRET,
    ),
)

TOKEN_GRANTS = {
    "authorization_code": TOKEN_AUTHORIZATION_CODE,
    "refresh_token": TOKEN_REFRESH_TOKEN,
    "client_credentials": TOKEN_CLIENT_CREDENTIALS,
}
#: RFC 8414 ``grant_types_supported``: the token endpoint refuses every other grant_type.
GRANT_TYPES_SUPPORTED = tuple(TOKEN_GRANTS)
#: RFC 8414 ``response_types_supported`` / ``response_modes_supported``.
RESPONSE_TYPES_SUPPORTED = ("code",)
RESPONSE_MODES_SUPPORTED = ("query",)

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

#: What a pushed request keeps: the authorization request's parameters, nothing else.
AUTHORIZATION_PARAMETERS = frozenset(parameter.name for parameter in AUTHORIZATION_REQUEST)


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


# -- the document -------------------------------------------------------------------------------------------

BEGIN = "<!-- parameters: generated by `python -m rar_provider.parameters`; do not edit by hand -->"
END = "<!-- parameters: end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _errors(parameter: Parameter) -> str:
    parts = []
    if parameter.required == REQUIRED:
        parts.append("missing: `invalid_request`")
    if not parameter.repeatable:
        parts.append("repeated: `invalid_request`")
    if parameter.bad is not None or parameter.pattern:
        parts.append(f"malformed: `{parameter.error}`")
    if parameter.matches:
        parts.append(f"no match: `{parameter.mismatch_error}`")
    return "; ".join(part + (" (401)" if "invalid_client" in part else "") for part in parts)


def render_markdown() -> str:
    """The parameter tables of ``docs/protocol.md``, between :data:`BEGIN` and :data:`END`."""
    lines = [
        BEGIN,
        "",
        "Every error is `400` (a JSON body; at the authorization endpoint a redirect or a page) unless",
        'marked `(401)`. "missing", "repeated" and "malformed" descriptions name the parameter.',
        "",
    ]
    for endpoint in ENDPOINTS.values():
        lines += [
            f"#### {endpoint.title}",
            "",
            "| parameter | required | once | syntax | must match | errors |",
            "|---|---|---|---|---|---|",
        ]
        for p in endpoint.parameters:
            lines.append(
                f"| `{p.name}` | {_cell(p.required)} | {'may repeat' if p.repeatable else 'once'} "
                f"| {_cell(p.syntax)} | {_cell(p.matches) or '—'} | {_errors(p)} |"
            )
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def document_section(text: str) -> str:
    """The generated part of a document (``BEGIN`` … ``END``), or ``""``."""
    start, end = text.find(BEGIN), text.find(END)
    return text[start : end + len(END)] if start != -1 and end != -1 else ""


if __name__ == "__main__":  # pragma: no cover - a developer's tool
    print(render_markdown())
