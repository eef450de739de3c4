"""DRF authentication with the JWT access tokens this server issues (RFC 6750, RFC 9068).

A resource server reads the bearer token from the ``Authorization`` header
(RFC 6750 §2.1), decrypts it first if it is a JWE (RFC 7516; the API's tokens
are encrypted to its own key), and validates it locally (RFC 9068 §4): the
signature with the issuer's published keys, ``typ: at+jwt``, ``iss``, ``aud``
(this API's identifier), ``exp``. No call to the authorization server is made,
so a JWT stays valid until it expires even if it is revoked; opaque tokens
cannot be read here at all and need introspection (RFC 7662).

Hardened as RFC 8725 asks: the algorithm is pinned to the key and to the API's
allow-list, ``nbf``/``iat``/``exp`` are checked with a small leeway, a token
living longer than the API's maximum is refused, an API with a decryption key
accepts only encrypted tokens, compressed (``zip``) JWEs are refused unread,
and forged values are echoed cut short in error messages.

Configuration: class attributes (``audience``, ``issuer``, ``realm``), else the
``RAR_PROVIDER_RESOURCE_SERVER`` setting, read on every request::

    RAR_PROVIDER_RESOURCE_SERVER = {
        "AUDIENCE": "urn:example:payments",   # required (or the class attribute)
        "ISSUER": "https://auth.example.com", # default: RAR_PROVIDER["ISSUER"]
        "JWKS": None,            # default: this project's RAR_PROVIDER["SIGNING_KEYS"]
        "DECRYPTION_KEY": None,  # for JWE APIs: the API's private key
        "REALM": None,           # default: the audience
        "LEEWAY": None,          # default: RAR_PROVIDER["JWT_LEEWAY"]
        "MAX_LIFETIME": 3600,    # seconds; a token whose exp - iat is longer is refused
        "ALGORITHMS": None,      # signature algorithms accepted; default: all of keys.SIGNING_ALGS
        "REQUIRE_ENCRYPTION": None,  # default: True when DECRYPTION_KEY is set (a JWE API)
        "REVOCATION_CHECK": None,    # None, "database" (same project) or "introspection"
        "INTROSPECTION": None,       # {"URL": ..., "CLIENT_ID": ..., "CLIENT_SECRET": ...}
        "REVOCATION_CACHE_SECONDS": 0,  # how long a "still live" answer is reused
    }

With ``REVOCATION_CHECK`` the guard also asks whether the token is still live before the view
runs (a JWT is otherwise valid until ``exp`` even after its grant is revoked): ``"database"``
looks the token up in this project's DOT tables (the API runs beside the authorization server);
``"introspection"`` asks the authorization server (RFC 7662) with the API's own credentials. A
revoked token — its consent revoked, RFC 7009 revocation, its code replayed, its API deleted — is
``401 invalid_token``; an unanswered introspection is ``503``, never a pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, ValidationError
from jwcrypto import jwk
from jwcrypto.common import JWException
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .. import access_tokens, keys
from ..conf import rar_settings

SETTING = "RAR_PROVIDER_RESOURCE_SERVER"
SETTING_KEYS = (
    "AUDIENCE",
    "ISSUER",
    "JWKS",
    "DECRYPTION_KEY",
    "REALM",
    "LEEWAY",
    "MAX_LIFETIME",
    "ALGORITHMS",
    "REQUIRE_ENCRYPTION",
    "REVOCATION_CHECK",
    "INTROSPECTION",
    "REVOCATION_CACHE_SECONDS",
)
REVOCATION_CHECKS = (None, "database", "introspection")
#: Default ``MAX_LIFETIME``: an access token for an API lives at most this long, in seconds.
DEFAULT_MAX_LIFETIME = 3600
#: Longest ``error_description`` put in a challenge, in characters (RFC 6750 §3).
_MAX_DESCRIPTION = 300

#: RFC 6750 §2.1: ``b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="``
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
#: RFC 6750 §3: characters allowed in a quoted ``error_description`` (no ``"`` and no ``\``).
_NOT_ALLOWED_IN_CHALLENGE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
_CHALLENGE_ATTRIBUTE = "_rar_bearer_challenge"


# --- settings -------------------------------------------------------------------------------------


def resource_server_settings() -> dict[str, Any]:
    """``settings.RAR_PROVIDER_RESOURCE_SERVER``, read now (so ``override_settings`` works)."""
    value = getattr(settings, SETTING, None) or {}
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"The {SETTING} setting must be a dict.")
    unknown = sorted(set(value) - set(SETTING_KEYS))
    if unknown:
        raise ImproperlyConfigured(
            f"{SETTING} has unknown keys {', '.join(unknown)}; known: {', '.join(SETTING_KEYS)}."
        )
    return value


def _text_of(value: Any, name: str) -> str:
    """A setting given inline (dict, JSON or PEM text) or as a file path: its text."""
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str) and value.lstrip().startswith(("{", "-----")):
        return value
    if isinstance(value, str | os.PathLike):
        path = Path(value)
        try:
            return _read_file(str(path), path.stat().st_mtime_ns)
        except OSError as exc:
            raise ImproperlyConfigured(f"{SETTING}[{name!r}] names {path}, which cannot be read") from exc
    raise ImproperlyConfigured(f"{SETTING}[{name!r}] must be a dict, JSON or PEM text, or a file path")


@lru_cache(maxsize=16)
def _read_file(path: str, mtime_ns: int) -> str:
    """A key file's text, read again only when the file changes (key rotation)."""
    return Path(path).read_text()


@lru_cache(maxsize=16)
def _key_set(text: str, name: str) -> jwk.JWKSet:
    try:
        if text.lstrip().startswith("-----"):
            key_set = jwk.JWKSet()
            key_set.add(jwk.JWK.from_pem(text.encode()))
            return key_set
        data = json.loads(text)
        if isinstance(data, dict) and "keys" not in data:
            data = {"keys": [data]}  # a single JWK
        return jwk.JWKSet.from_json(json.dumps(data))
    except (JWException, ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"{SETTING}[{name!r}] is not a readable JWK, JWK Set or PEM: {exc}"
        ) from exc


def configured_jwks() -> jwk.JWKSet:
    """The keys that verify signatures: ``JWKS`` if set, else this server's published keys."""
    value = resource_server_settings().get("JWKS")
    if value is None:
        return keys.public_key_set()
    return _key_set(_text_of(value, "JWKS"), "JWKS")


def configured_decryption_key() -> jwk.JWK | jwk.JWKSet | None:
    """The API's private key for JWE tokens; a JWK Set (old and new keys, chosen by ``kid``) in a rotation."""
    value = resource_server_settings().get("DECRYPTION_KEY")
    if value is None:
        return None
    key_set = _key_set(_text_of(value, "DECRYPTION_KEY"), "DECRYPTION_KEY")
    if not all(key.has_private for key in key_set):
        raise ImproperlyConfigured(f"{SETTING}['DECRYPTION_KEY'] must be a private key")
    keys_ = list(key_set)
    # One key is used whatever the token's kid (a PEM key has no kid of its own).
    return keys_[0] if len(keys_) == 1 else key_set


# --- the verified token ---------------------------------------------------------------------------


@dataclass(repr=False)
class VerifiedAccessToken:
    """``request.auth`` after a successful authentication: the claims of a valid access token.

    ``matching_details`` is filled by :class:`~rar_provider.drf.permissions.HasAuthorizationDetail`:
    the entries of ``authorization_details`` that satisfied the view's permissions.
    """

    claims: dict[str, Any]
    encrypted: bool = False
    matching_details: list[dict[str, Any]] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return self.claims["sub"]

    @property
    def client_id(self) -> str:
        return self.claims["client_id"]

    @property
    def jti(self) -> str:
        return self.claims["jti"]

    @property
    def scope(self) -> str:
        return self.claims.get("scope") or ""

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())

    @property
    def authorization_details(self) -> list[dict[str, Any]]:
        """RFC 9396 §9.1: the granted details, in full."""
        return list(self.claims.get("authorization_details") or [])

    @property
    def is_client_token(self) -> bool:
        """A client acting for itself (client credentials): the token says so with
        ``gty: "client_credentials"`` (its ``sub`` is then its client_id, RFC 9068 §2.2).

        Never decided by comparing ``sub`` with ``client_id``: a client registered as ``"1"`` would
        otherwise read user 1's tokens as its own.
        """
        return self.claims.get("gty") == access_tokens.CLIENT_CREDENTIALS

    @property
    def grant_id(self) -> str:
        """The approval this token comes from (the ``grant_id`` claim; :mod:`rar_provider.grants`).

        Every token minted from one approval — refreshed or narrowed — has the same one. A token
        without the claim (a client's own token) is its own approval: ``"jti:<jti>"``.
        """
        return self.claims.get("grant_id") or f"jti:{self.jti}"

    def grant_entry(self, index: int) -> int:
        """The position in the approval of entry ``index`` of :attr:`authorization_details`.

        Record what an entry executed under ``(grant_id, grant_entry(index))``, unique: the entry
        is then executed once per approval, however many tokens carry it (issue 13).
        """
        entries = self.claims.get("grant_entries")
        return entries[index] if isinstance(entries, list) else index

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.claims["exp"], tz=UTC)

    def __repr__(self) -> str:
        return f"<VerifiedAccessToken sub={self.subject!r} client_id={self.client_id!r} jti={self.jti!r}>"


# --- errors ---------------------------------------------------------------------------------------


def bearer_challenge(realm: str | None, error: str | None = None, description: str | None = None) -> str:
    """RFC 6750 §3: a ``WWW-Authenticate: Bearer`` challenge; values are made safe to quote."""
    parts = []
    if description and len(description) > _MAX_DESCRIPTION:
        description = description[: _MAX_DESCRIPTION - 1] + "…"
    for name, value in (("realm", realm), ("error", error), ("error_description", description)):
        if value:
            parts.append(f'{name}="{_NOT_ALLOWED_IN_CHALLENGE.sub("?", str(value))}"')
    return "Bearer " + ", ".join(parts) if parts else "Bearer"


class InvalidToken(exceptions.AuthenticationFailed):
    """RFC 6750 §3.1 ``invalid_token``: 401; the challenge says why."""

    error = "invalid_token"

    def __init__(self, description: str):
        self.description = description
        super().__init__({"detail": description, "error": self.error})


class RevocationCheckUnavailable(exceptions.APIException):
    """503: the authorization server did not say whether the token is still live (fail closed)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "the authorization server could not confirm that the token is still valid"
    default_code = "temporarily_unavailable"


class InvalidBearerRequest(InvalidToken):
    """RFC 6750 §3.1 ``invalid_request``: a malformed ``Authorization: Bearer`` header, 400."""

    error = "invalid_request"
    status_code = status.HTTP_400_BAD_REQUEST


# --- the authentication class ---------------------------------------------------------------------


class JWTAccessTokenAuthentication(BaseAuthentication):
    """Authenticates ``Authorization: Bearer <JWT>`` requests to one API (RFC 6750 §2.1, RFC 9068 §4).

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
        return rar_settings.issuer(getattr(request, "_request", request))

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
        token = self.bearer_token(request)
        if token is None:
            return None
        try:
            verified = self.verify_token(token, request)
            self.check_not_revoked(token)
            user = self.get_user(verified)
        except InvalidToken as exc:
            setattr(request, _CHALLENGE_ATTRIBUTE, (exc.error, exc.description))
            raise
        return user, verified

    def authenticate_header(self, request) -> str:
        """The 401 challenge (RFC 6750 §3): bare when no token was sent, else with the error."""
        error, description = getattr(request, _CHALLENGE_ATTRIBUTE, None) or (None, None)
        return bearer_challenge(self.get_realm(), error, description)

    # steps --------------------------------------------------------------------------------------

    def bearer_token(self, request) -> str | None:
        """RFC 6750 §2.1: the b64token of an ``Authorization: Bearer`` header; None for other schemes."""
        header = get_authorization_header(request)
        scheme, _, credentials = header.partition(b" ")
        if scheme.lower() != b"bearer":
            return None
        try:
            token = credentials.decode("ascii").strip(" ")
        except UnicodeDecodeError:
            token = None
        if not token or not _B64TOKEN.fullmatch(token):
            error = InvalidBearerRequest("the Authorization header must be 'Bearer' and one token (RFC 6750)")
            setattr(request, _CHALLENGE_ATTRIBUTE, (error.error, error.description))
            raise error
        return token

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
        if check is None and self._registered_here_with_revocation_check():
            return "database"
        return check

    def _registered_here_with_revocation_check(self) -> bool:
        from django.apps import apps

        if not apps.is_installed("rar_provider"):
            return False
        from ..models import ResourceServer

        return ResourceServer.objects.filter(identifier=self.get_audience(), check_revocation=True).exists()

    def check_not_revoked(self, token: str) -> None:
        """RFC 7009 / RFC 7662: refuse a token the authorization server no longer considers live.

        Raises :class:`InvalidToken` for a revoked token and :class:`RevocationCheckUnavailable`
        when introspection does not answer. A "live" answer is reused for
        ``REVOCATION_CACHE_SECONDS`` (default 0: asked on every request).
        """
        check = self.get_revocation_check()
        if check is None:
            return
        checksum = hashlib.sha256(token.encode()).hexdigest()  # DOT's token_checksum
        key = "rar_provider:token-live:" + checksum
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
        from django.utils import timezone
        from oauth2_provider.models import get_access_token_model

        return (
            get_access_token_model()
            .objects.filter(token_checksum=checksum, expires__gt=timezone.now())
            .exists()
        )

    @staticmethod
    def _live_by_introspection(token: str) -> bool:
        import requests

        config = resource_server_settings().get("INTROSPECTION") or {}
        if not isinstance(config, dict) or not all(
            config.get(k) for k in ("URL", "CLIENT_ID", "CLIENT_SECRET")
        ):
            raise ImproperlyConfigured(
                f"{SETTING}['INTROSPECTION'] needs URL, CLIENT_ID and CLIENT_SECRET for REVOCATION_CHECK "
                "'introspection'"
            )
        try:
            response = requests.post(
                config["URL"],
                data={"token": token, "token_type_hint": "access_token"},
                auth=(config["CLIENT_ID"], config["CLIENT_SECRET"]),
                timeout=float(config.get("TIMEOUT", 5)),
            )
            response.raise_for_status()
            return response.json().get("active") is True
        except (requests.RequestException, ValueError, AttributeError) as exc:
            raise RevocationCheckUnavailable() from exc

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
