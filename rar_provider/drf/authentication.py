"""DRF authentication with the JWT access tokens this server issues (RFC 6750, RFC 9068).

A resource server reads the bearer token from the ``Authorization`` header
(RFC 6750 §2.1), decrypts it first if it is a JWE (RFC 7516; the API's tokens
are encrypted to its own key), and validates it locally (RFC 9068 §4): the
signature with the issuer's published keys, ``typ: at+jwt``, ``iss``, ``aud``
(this API's identifier), ``exp``. No call to the authorization server is made,
so a JWT stays valid until it expires even if it is revoked; opaque tokens
cannot be read here at all and need introspection (RFC 7662). A DPoP-bound token
(``cnf.jkt``, RFC 9449) is accepted only as ``Authorization: DPoP`` with a valid
proof of its key for this request (:mod:`rar_provider.drf.dpop`).

Hardened as RFC 8725 asks: the algorithm is pinned to the key and to the API's
allow-list, ``nbf``/``iat``/``exp`` are checked with a small leeway, a token
living longer than the API's maximum is refused, an API with a decryption key
accepts only encrypted tokens, compressed (``zip``) JWEs are refused unread,
and forged values are echoed cut short in error messages.

Configuration: class attributes (``audience``, ``issuer``, ``realm``), else the
``RAR_PROVIDER_RESOURCE_SERVER`` setting (:mod:`rar_provider.drf.config`), else the API's switches
in admin when it is registered here (:mod:`rar_provider.drf.registered`, one query per request).

With ``REVOCATION_CHECK`` (``"database"`` or ``"introspection"``, :mod:`rar_provider.drf.revocation`)
the guard also asks whether the token is still live before the view runs: a revoked one is ``401
invalid_token``; an unanswered introspection is ``503``, never a pass.

Older import paths still work: ``resource_server_settings``, ``configured_jwks`` ...,
:class:`VerifiedAccessToken`, the refusals and :func:`bearer_challenge`.
"""

from __future__ import annotations

from functools import cached_property

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, ValidationError
from rest_framework.authentication import BaseAuthentication

from .. import access_tokens, keys
from ..adapter import get_adapter
from ..conf import rar_settings
from . import dpop, registered, revocation
from .config import (
    DEFAULT_MAX_LIFETIME,
    REVOCATION_CHECKS,
    SETTING,
    SETTING_KEYS,
    configured_decryption_key,
    configured_jwks,
    resource_server_settings,
)
from .tokens import (
    InvalidBearerRequest,
    InvalidToken,
    RevocationCheckUnavailable,
    VerifiedAccessToken,
    bearer_challenge,
)

__all__ = [
    "DEFAULT_MAX_LIFETIME",
    "REVOCATION_CHECKS",
    "SETTING",
    "SETTING_KEYS",
    "InvalidBearerRequest",
    "InvalidToken",
    "JWTAccessTokenAuthentication",
    "RevocationCheckUnavailable",
    "VerifiedAccessToken",
    "bearer_challenge",
    "configured_decryption_key",
    "configured_jwks",
    "resource_server_settings",
]


class JWTAccessTokenAuthentication(BaseAuthentication):
    """Authenticates ``Authorization: Bearer <JWT>`` requests to one API (RFC 6750 §2.1, RFC 9068 §4),
    and ``Authorization: DPoP <JWT>`` with a ``DPoP`` proof for DPoP-bound tokens (RFC 9449 §7).

    Returns ``(user, token)``: ``user`` is the Django user whose primary key is
    ``sub``, or an ``AnonymousUser`` for a client acting for itself (``sub`` is
    its ``client_id``, RFC 9068 §2.2); ``token`` is a :class:`VerifiedAccessToken`.
    A request with no bearer token is left to the next authentication class
    (and answered 401 with a bare challenge if nothing authenticates it).

    Put this class first in ``authentication_classes``: DRF takes the
    ``WWW-Authenticate`` header of a 401 from the first class.
    """

    #: The API identifier that must be in ``aud``; default: the setting's ``AUDIENCE``.
    audience: str | None = None
    #: The expected ``iss``; default: the setting's ``ISSUER``, else ``RAR_PROVIDER["ISSUER"]``.
    issuer: str | None = None
    #: The ``realm`` of the challenge; default: the setting's ``REALM``, else the audience.
    realm: str | None = None
    #: Longest accepted token lifetime (``exp - iat``), in seconds; default: the setting's
    #: ``MAX_LIFETIME``, else 3600.
    max_lifetime: int | None = None
    #: Accepted signature algorithms; default: the setting's ``ALGORITHMS``, else every one the
    #: authorization server can sign with. The key's own ``alg`` narrows it further.
    algorithms: tuple[str, ...] | None = None
    #: Ask whether the token is still live: None, "database" or "introspection"; default: the
    #: setting's ``REVOCATION_CHECK``. Set it on an API whose actions must honour revocation at once.
    revocation_check: str | None = None
    #: Accept only DPoP-bound tokens (RFC 9449); default: when this API is registered in this project
    #: under the FAPI 2.0 Security Profile (``RAR_PROVIDER["FAPI_2_0"]`` or the API's flag).
    sender_constrained_only: bool | None = None

    # configuration ------------------------------------------------------------------------------

    def get_audience(self) -> str:
        audience = self.audience or resource_server_settings().get("AUDIENCE")
        if not audience:
            raise ImproperlyConfigured(
                f"{type(self).__name__} needs the API identifier: set its audience attribute "
                f"or {SETTING}['AUDIENCE']."
            )
        return str(audience)

    def get_issuer(self, request) -> str:
        issuer = self.issuer or resource_server_settings().get("ISSUER")
        if issuer:
            return str(issuer).rstrip("/")
        return get_adapter().issuer(getattr(request, "_request", request))

    def get_realm(self) -> str:
        return str(self.realm or resource_server_settings().get("REALM") or self.get_audience())

    def get_leeway(self) -> int:
        leeway = resource_server_settings().get("LEEWAY")
        return rar_settings.JWT_LEEWAY if leeway is None else int(leeway)

    def get_max_lifetime(self) -> int:
        if self.max_lifetime is not None:
            return int(self.max_lifetime)
        return int(resource_server_settings().get("MAX_LIFETIME") or DEFAULT_MAX_LIFETIME)

    def get_algorithms(self) -> tuple[str, ...]:
        algorithms = self.algorithms or resource_server_settings().get("ALGORITHMS") or keys.SIGNING_ALGS
        if isinstance(algorithms, str):
            raise ImproperlyConfigured(f"{SETTING}['ALGORITHMS'] must be a list of algorithm names")
        return tuple(algorithms)

    def requires_encryption(self) -> bool:
        """RFC 7516: a JWE API refuses a bare signed token (it would have been readable in transit)."""
        required = resource_server_settings().get("REQUIRE_ENCRYPTION")
        if required is None:
            return resource_server_settings().get("DECRYPTION_KEY") is not None
        return bool(required)

    # DRF's interface ----------------------------------------------------------------------------

    def authenticate(self, request):
        presented = dpop.presented_token(request)
        if presented is None:
            return None
        scheme, token = presented
        try:
            verified = self.verify_token(token, request)
            if not verified.dpop_jkt and self.requires_sender_constrained_tokens():
                raise dpop.DPoPRefusal(
                    "this API accepts only DPoP-bound access tokens "
                    "(FAPI 2.0 Security Profile 5.3.2.1 clause 4): get a token with a DPoP proof"
                )
            dpop.check_sender(
                scheme, token, verified, request, nonce_server=self.get_audience(), leeway=self.get_leeway()
            )
            self.check_not_revoked(token)
            user = self.get_user(verified)
        except InvalidToken as exc:
            chosen = getattr(exc, "scheme", None) or scheme  # a DPoP refusal is answered with DPoP
            setattr(request, dpop.CHALLENGE_ATTRIBUTE, (chosen, exc.error, exc.description))
            raise
        return user, verified

    def authenticate_header(self, request) -> str:
        """The 401 challenge (RFC 6750 §3, RFC 9449 §7.1) of the scheme the request used, with the
        error; with no token at all, a bare challenge of both schemes (RFC 9449 §7.2)."""
        scheme, error, description = getattr(request, dpop.CHALLENGE_ATTRIBUTE, None) or (None, None, None)
        if scheme == dpop.DPOP:
            return dpop.dpop_challenge(self.get_realm(), error, description)
        if scheme == dpop.BEARER:
            return bearer_challenge(self.get_realm(), error, description)
        return f"{bearer_challenge(self.get_realm())}, {dpop.dpop_challenge(self.get_realm())}"

    # steps --------------------------------------------------------------------------------------

    def bearer_token(self, request) -> str | None:
        """RFC 6750 §2.1: the b64token of an ``Authorization: Bearer`` header; None for other schemes."""
        presented = dpop.presented_token(request)
        return presented[1] if presented is not None and presented[0] == dpop.BEARER else None

    def verify_token(self, token: str, request) -> VerifiedAccessToken:
        """Decrypt (JWE) and verify (JWS) the token, then check the RFC 9068 §2.2 claims we rely on."""
        if len(token) > access_tokens.MAX_TOKEN_LENGTH:
            raise InvalidToken(f"the token is longer than {access_tokens.MAX_TOKEN_LENGTH} characters")
        encrypted = token.count(".") == 4  # RFC 7516 §7.1: five parts
        if encrypted:
            private_key = configured_decryption_key()
            if private_key is None:
                raise InvalidToken("the token is encrypted (JWE) and this API has no decryption key")
            try:
                token = access_tokens.decrypt(token, private_key)
            except access_tokens.InvalidAccessToken as exc:
                raise InvalidToken(str(exc)) from exc
        elif token.count(".") != 2:
            raise InvalidToken("the token is not a JWT (an opaque token must be introspected, RFC 7662)")
        elif self.requires_encryption():
            raise InvalidToken("this API accepts only encrypted access tokens (JWE)")
        try:
            claims = access_tokens.verify(
                token,
                configured_jwks(),
                issuer=self.get_issuer(request),
                audience=self.get_audience(),
                leeway=self.get_leeway(),
                max_lifetime=self.get_max_lifetime(),
                algorithms=self.get_algorithms(),
            )
        except access_tokens.InvalidAccessToken as exc:
            raise InvalidToken(str(exc)) from exc
        return VerifiedAccessToken(claims=claims, encrypted=encrypted)

    def get_revocation_check(self) -> str | None:
        """The class attribute, else the setting, else — when the API is registered in this project
        with *refuse revoked tokens at once* ticked in admin — ``"database"``."""
        check = self.revocation_check or resource_server_settings().get("REVOCATION_CHECK")
        if check not in REVOCATION_CHECKS:
            raise ImproperlyConfigured(f"{SETTING}['REVOCATION_CHECK'] must be one of {REVOCATION_CHECKS}")
        if check is None and self.registered_api.check_revocation:
            return "database"
        return check

    def requires_sender_constrained_tokens(self) -> bool:
        """The class attribute, else FAPI 2.0 mode for this API when it is registered in this project."""
        if self.sender_constrained_only is not None:
            return self.sender_constrained_only
        return self.registered_api.fapi_2_0

    @cached_property
    def registered_api(self) -> registered.RegisteredAPI:
        """The API's admin switches, read once per request (DRF makes an instance per request)."""
        return registered.api_switches(self.get_audience())

    def check_not_revoked(self, token: str) -> None:
        """RFC 7009 / RFC 7662: refuse a token the authorization server no longer considers live.

        Raises :class:`InvalidToken` for a revoked token and :class:`RevocationCheckUnavailable`
        when introspection does not answer. A "live" answer is reused for
        ``REVOCATION_CACHE_SECONDS`` (default 0: asked on every request).
        """
        check = self.get_revocation_check()
        if check is None:
            return
        checksum = revocation.token_checksum(token)  # DOT's token_checksum
        key = revocation.CACHE_PREFIX + checksum
        seconds = int(resource_server_settings().get("REVOCATION_CACHE_SECONDS") or 0)
        if seconds and cache.get(key):
            return
        live = self._live_in_database(checksum) if check == "database" else self._live_by_introspection(token)
        if not live:
            raise InvalidToken("the token has been revoked (or its grant has)")
        if seconds:
            cache.set(key, True, seconds)

    @staticmethod
    def _live_in_database(checksum: str) -> bool:
        """:func:`rar_provider.drf.revocation.live_in_database` (override to look elsewhere)."""
        return revocation.live_in_database(checksum)

    @staticmethod
    def _live_by_introspection(token: str) -> bool:
        """:func:`rar_provider.drf.revocation.live_by_introspection` (override to ask elsewhere)."""
        return revocation.live_by_introspection(token)

    def get_user(self, token: VerifiedAccessToken):
        """The active user whose primary key is ``sub``; AnonymousUser for a client's own token.

        Override this when users live elsewhere (an API in another project).
        """
        if token.is_client_token:
            return AnonymousUser()
        user_model = get_user_model()
        try:
            pk = user_model._meta.pk.to_python(token.subject)
            # Exact: " 1" and "01" are not the subject "1" (the server writes str(pk)).
            if str(pk) != token.subject:
                raise ValueError(token.subject)
            user = user_model._default_manager.get(pk=pk)
        except (ValidationError, ValueError, user_model.DoesNotExist) as exc:
            raise InvalidToken("the token's subject is not a user of this site") from exc
        if not user.is_active:
            raise InvalidToken("the token's user is inactive")
        return user
