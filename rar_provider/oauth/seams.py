"""Where rar_provider touches DOT and oauthlib beyond their public hooks — the whole list, in one place.

Everything else goes through public extension points: oauthlib's ``RequestValidator`` methods
(``validate_code``, ``validate_refresh_token``, ``get_code_challenge``, ``confirm_redirect_uri``,
``invalidate_authorization_code``, ``is_pkce_required``, ``get_default_scopes`` …), oauthlib's
custom validators (``pre_auth``, ``post_auth``, ``post_token``), DOT's settings
(``OAUTH2_SERVER_CLASS``, ``OAUTH2_VALIDATOR_CLASS``, ``PKCE_REQUIRED``, the swappable models) and
DOT's views subclassed at their public ``post``.

Each :class:`Seam` names a private (underscore) DOT method we override or call, the signature we
rely on — ``tests/test_dot_seams.py`` compares it with the installed DOT, so an upgrade that changes
one fails a test instead of misbehaving — and why we cannot do without it. The same test checks
that no other underscore method of DOT or oauthlib is used by rar_provider's code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Seam:
    """One private DOT method: ``owner.name`` with ``signature``, used by ``ours`` because ``why``."""

    owner: str
    name: str
    signature: str
    ours: str
    why: str


VALIDATOR = "oauth2_provider.oauth2_validators.OAuth2Validator"

SEAMS: tuple[Seam, ...] = (
    Seam(
        VALIDATOR,
        "_create_authorization_code",
        "(self, request, code, expires=None)",
        "rar_provider.oauth.code_exchange.CodeExchangeMixin._create_authorization_code",
        "The public save_authorization_code returns nothing: the new code's row is needed to point it "
        "at its grant (IssuedCode).",
    ),
    Seam(
        VALIDATOR,
        "_create_access_token",
        "(self, expires, request, token, source_refresh_token=None)",
        "rar_provider.oauth.validator.RARValidator._create_access_token",
        "The new access token's row, to record what it carries and its grant (IssuedAccessToken).",
    ),
    Seam(
        VALIDATOR,
        "_create_refresh_token",
        "(self, request, refresh_token_code, access_token, previous_refresh_token)",
        "rar_provider.oauth.validator.RARValidator._create_refresh_token",
        "The new refresh token's row, to point it at its grant (IssuedRefreshToken).",
    ),
    Seam(
        VALIDATOR,
        "_save_bearer_token",
        "(self, token, request, *args, **kwargs)",
        "rar_provider.oauth.validator.RARValidator._save_bearer_token",
        "DOT's documented place for custom token logic (its save_bearer_token says to override this): "
        "the response's authorization_details, no refresh token for one-time grants, and the refresh "
        "token's rotation in eight statements (rar_provider.oauth.refresh.RefreshMixin.rotate).",
    ),
    Seam(
        VALIDATOR,
        "_validate_resource_uris",
        "(self, request, resources)",
        "rar_provider.oauth.validator.RARValidator._validate_resource_uris",
        "DOT requires a host in RFC 8707 resource URIs, refusing URN API identifiers.",
    ),
    Seam(
        VALIDATOR,
        "_check_and_set_request_resource",
        "(self, request)",
        "rar_provider.oauth.code_exchange.CodeExchangeMixin._check_and_set_request_resource",
        "DOT reads the code's row again for its resource; the row read under the grant's lock is reused. "
        "Our refresh rotation calls it as DOT's _save_bearer_token does (RFC 8707 §2.2 at refresh).",
    ),
    Seam(
        VALIDATOR,
        "_extract_basic_auth",
        "(self, request)",
        "rar_provider.views.client_auth.authenticate_client",
        "The PAR and introspection endpoints authenticate a client exactly as DOT's token endpoint does.",
    ),
    Seam(
        "oauth2_provider.oauth2_backends.OAuthLibCore",
        "_extract_params",
        "(self, request)",
        "rar_provider.views.client_auth.oauthlib_request",
        "The same oauthlib request DOT would build, for that client authentication.",
    ),
)
