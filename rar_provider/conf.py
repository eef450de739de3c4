"""Live, typed settings for rar_provider.

A host project sets one dict, ``RAR_PROVIDER``, in its Django settings. Every
key has a default. Values are read from ``django.conf.settings`` on every
access, so ``override_settings(RAR_PROVIDER={...})`` works in tests with no
reload machinery (the django-cors-headers pattern).

    RAR_PROVIDER = {
        "ISSUER": "https://auth.example.com",
        "PAR_REQUIRED": True,
    }
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from .details.limits import Limits

DEFAULTS: dict[str, Any] = {
    # RFC 8414 / RFC 9207: the issuer identifier. None: derived from the request
    # (scheme and host), which is right only behind a correctly configured proxy.
    "ISSUER": None,
    # RFC 9126: offer the PAR endpoint, and require it for every client.
    "PAR_ENABLED": True,
    "PAR_REQUIRED": False,
    # RFC 9126 §2.2: lifetime of a request_uri, in seconds (1 to 599).
    "PAR_LIFETIME": 60,
    # How long a consent page may stay open before the user's decision, in seconds.
    "CONSENT_MAX_AGE": 600,
    # How long a stored consent lasts, in seconds (standard consent policy: reused until then).
    "CONSENT_LIFETIME": 90 * 24 * 3600,
    # Dotted paths of callables run before consent: allow, refuse or require step-up
    # (see rar_provider.hooks).
    "CONSENT_HOOKS": [],
    # The API (ResourceServer.identifier) used when a request names none.
    # None: the only API, if exactly one is registered.
    "DEFAULT_RESOURCE_SERVER": None,
    # RFC 7636: accept only the S256 code_challenge_method.
    "PKCE_S256_ONLY": True,
    # RFC 9700 §4.1.3: compare redirect URIs as exact strings (False: DOT's matching,
    # which lets loopback URIs vary their port as RFC 8252 §7.3 allows native apps).
    "EXACT_REDIRECT_URI": True,
    # Limits on authorization_details (RFC 9396 leaves them to the server).
    "MAX_DETAILS_BYTES": 5120,
    "MAX_DETAILS_ENTRIES": 5,
    "MAX_DETAIL_PROPERTIES": 10,
    "MAX_PROPERTY_NAME_LENGTH": 255,
    "MAX_STRING_LENGTH": 255,
    "MAX_NESTING_DEPTH": 5,
    "PROPERTY_NAME_PATTERN": r"^[A-Za-z0-9_.-]+$",
    # RFC 9068: keys that sign JWT access tokens, oldest first (the last one not marked
    # "use_for_signing": false signs; every one is published): a list of private JWKs / PEM texts,
    # or the path of a JWK Set file (rar_generate_key, rar_signing_keys).
    "SIGNING_KEYS": None,
    # Seconds resource servers may cache /oauth/jwks (its Cache-Control max-age): a rotation waits
    # this long after the last node publishes a new key before any node signs with it.
    "JWKS_MAX_AGE": 300,
    # RFC 9396 §6: per-type comparison used for narrowing (and consent reuse):
    # {"type name": "dotted.path.to.callable(requested, granted) -> bool"}.
    "DETAIL_COMPARATORS": {},
    # Clock skew a resource server tolerates on exp/iat/nbf, in seconds.
    "JWT_LEEWAY": 30,
    # Longest lifetime of a JWT or JWE access token, in seconds (RFC 9068): the API verifies it on
    # its own until it expires, so it is capped at minutes whatever DOT's ACCESS_TOKEN_EXPIRE_SECONDS.
    "JWT_ACCESS_TOKEN_LIFETIME": 600,
    # Per-client request rates (django-ratelimit syntax "count/period", e.g. "600/m"), counted in
    # Django's cache (RATELIMIT_USE_CACHE, default "default"): {"par": ..., "token": ...}; None or a
    # missing key: that endpoint is not limited. Over the rate: 429 too_many_requests with Retry-After.
    "RATE_LIMITS": {"par": "3000/m", "token": "6000/m"},
    # A bearer token that opens the Prometheus metrics view (rar_provider.observability.urls) to
    # remote scrapers. None: only loopback callers that came through no proxy may read it.
    "METRICS_TOKEN": None,
    # Housekeeping (manage.py rar_clear_expired, see rar_provider.housekeeping), in seconds: how long
    # ended codes and tokens are kept so a replay is still recognized, and ended consents kept for
    # the user's list.
    "REPLAY_WINDOW": 24 * 3600,
    "CONSENT_RETENTION": 30 * 24 * 3600,
    # Largest request body, in bytes, the PAR, token, introspection and revocation endpoints read;
    # a larger one is refused with 413 (keep it above 3 x MAX_DETAILS_BYTES: percent-encoding).
    "MAX_REQUEST_BYTES": 65536,
    # The dotted path of the project's rar_provider.adapter.ProviderAdapter subclass: issuer, subjects,
    # extra JWT claims and introspection members (docs/settings.md).
    "ADAPTER": "rar_provider.adapter.ProviderAdapter",
    # The FAPI 2.0 Security Profile for every request (rar_provider.fapi, docs/fapi.md); per API: the
    # API's "FAPI 2.0 Security Profile" flag in admin.
    "FAPI_2_0": False,
    # RFC 9449 (DPoP, rar_provider.dpop): the algorithms a DPoP proof may be signed with (asymmetric
    # only; "none" and HS* are refused by rar_provider.E005), advertised as
    # dpop_signing_alg_values_supported.
    "DPOP_SIGNING_ALGS": ["ES256", "PS256", "EdDSA"],
    # Seconds after its iat a DPoP proof is accepted (plus JWT_LEEWAY either side); its jti is
    # remembered that long in Django's cache, so a proof is used once.
    "DPOP_PROOF_MAX_AGE": 60,
    # RFC 9449 §8: require a server nonce in DPoP proofs at PAR and token (use_dpop_nonce); nonces
    # are HMACs of a time slot of DPOP_NONCE_LIFETIME seconds, valid for that slot and the next.
    "DPOP_NONCE_REQUIRED": False,
    "DPOP_NONCE_LIFETIME": 300,
    # Refuse token requests that carry no DPoP proof (only DPoP-bound tokens are issued).
    "DPOP_REQUIRED": False,
    # Client authentication with private_key_jwt (RFC 7523 §2.2, §3) and signed request objects at
    # PAR (RFC 9101, RFC 9126 §3), verified with the client's registered public keys (ClientPolicy.jwks).
    # The algorithms accepted (never "none", never HMAC); published in the metadata.
    "CLIENT_ASSERTION_SIGNING_ALGS": ["PS256", "ES256", "EdDSA"],
    "REQUEST_OBJECT_SIGNING_ALGS": ["PS256", "ES256", "EdDSA"],
    # Longest lifetime, in seconds, of a client assertion / request object (exp - now, exp - iat,
    # exp - nbf), JWT_LEEWAY added. At most 3600.
    "CLIENT_ASSERTION_MAX_LIFETIME": 300,
    "REQUEST_OBJECT_MAX_LIFETIME": 300,
    # The aud a client assertion may carry: "issuer" (FAPI 2.0: the issuer identifier only) or
    # "issuer_or_endpoint" (also the token endpoint's or the called endpoint's URL, OIDC Core §9).
    "CLIENT_ASSERTION_AUDIENCES": "issuer",
    # RFC 9101 §10.5 require_signed_request_object: every client's PAR must carry a request object.
    "REQUIRE_SIGNED_REQUEST_OBJECT": False,
    # The Django cache alias that remembers the jti of used client assertions and request objects
    # until they expire (single use); shared by every process and node (e.g. Redis) in production.
    "REPLAY_CACHE": "default",
}

#: Values CLIENT_ASSERTION_AUDIENCES may take.
CLIENT_ASSERTION_AUDIENCE_MODES = ("issuer", "issuer_or_endpoint")

_INT_SETTINGS = (
    "PAR_LIFETIME",
    "CONSENT_MAX_AGE",
    "CONSENT_LIFETIME",
    "MAX_DETAILS_BYTES",
    "MAX_DETAILS_ENTRIES",
    "MAX_DETAIL_PROPERTIES",
    "MAX_PROPERTY_NAME_LENGTH",
    "MAX_STRING_LENGTH",
    "MAX_NESTING_DEPTH",
    "JWT_LEEWAY",
    "JWT_ACCESS_TOKEN_LIFETIME",
    "JWKS_MAX_AGE",
    "REPLAY_WINDOW",
    "CONSENT_RETENTION",
    "MAX_REQUEST_BYTES",
    "DPOP_PROOF_MAX_AGE",
    "DPOP_NONCE_LIFETIME",
    "CLIENT_ASSERTION_MAX_LIFETIME",
    "REQUEST_OBJECT_MAX_LIFETIME",
)
_BOOL_SETTINGS = (
    "PAR_ENABLED",
    "PAR_REQUIRED",
    "PKCE_S256_ONLY",
    "EXACT_REDIRECT_URI",
    "DPOP_NONCE_REQUIRED",
    "DPOP_REQUIRED",
    "REQUIRE_SIGNED_REQUEST_OBJECT",
    "FAPI_2_0",
)


class Settings:
    """Reads ``settings.RAR_PROVIDER`` on every attribute access."""

    @property
    def user_settings(self) -> dict[str, Any]:
        value = getattr(settings, "RAR_PROVIDER", {})
        if not isinstance(value, dict):
            raise ImproperlyConfigured("The RAR_PROVIDER setting must be a dict.")
        return value

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"rar_provider has no setting named {name!r}.")
        value = self.user_settings.get(name, DEFAULTS[name])
        if name in _INT_SETTINGS and (isinstance(value, bool) or not isinstance(value, int)):
            raise ImproperlyConfigured(f"RAR_PROVIDER[{name!r}] must be a whole number, not {value!r}.")
        if name in _BOOL_SETTINGS and not isinstance(value, bool):
            raise ImproperlyConfigured(f"RAR_PROVIDER[{name!r}] must be True or False, not {value!r}.")
        return value

    def unknown_keys(self) -> list[str]:
        return sorted(set(self.user_settings) - set(DEFAULTS))

    @property
    def limits(self) -> Limits:
        return Limits(
            max_bytes=self.MAX_DETAILS_BYTES,
            max_entries=self.MAX_DETAILS_ENTRIES,
            max_properties=self.MAX_DETAIL_PROPERTIES,
            max_name_length=self.MAX_PROPERTY_NAME_LENGTH,
            max_string_length=self.MAX_STRING_LENGTH,
            max_depth=self.MAX_NESTING_DEPTH,
            name_pattern=self.PROPERTY_NAME_PATTERN,
        )

    def issuer(self, request=None) -> str:
        """The issuer identifier (RFC 8414 §2), without a trailing slash: the one source of it.

        ``ISSUER`` when set; else the origin of ``request`` (scheme and host), which
        may be a Django ``HttpRequest`` or the oauthlib ``Request`` DOT builds from one
        (the token endpoint), so that metadata, authorization responses, JWT ``iss``
        and introspection all say the same. Raises ``ImproperlyConfigured`` when
        ``ISSUER`` is unset and there is no request.
        """
        if self.ISSUER:
            return str(self.ISSUER).rstrip("/")
        if request is None:
            raise ImproperlyConfigured(
                "RAR_PROVIDER['ISSUER'] is not set and there is no request to derive it."
            )
        if not isinstance(request, HttpRequest):
            request = _HttpRequestFromHeaders(request.headers)
        return request.build_absolute_uri("/").rstrip("/")


class _HttpRequestFromHeaders(HttpRequest):
    """A Django request rebuilt from the ``META`` DOT copies into an oauthlib request's headers.

    Host validation (``ALLOWED_HOSTS``, ``USE_X_FORWARDED_HOST``) and
    ``SECURE_PROXY_SSL_HEADER`` then apply exactly as for the original request;
    DOT marks a request that ``is_secure()`` with ``X_DJANGO_OAUTH_TOOLKIT_SECURE``.
    """

    def __init__(self, headers):
        super().__init__()
        self.META = dict(headers or {})
        secure = self.META.get("X_DJANGO_OAUTH_TOOLKIT_SECURE") or self.META.get("wsgi.url_scheme") == "https"
        self._scheme = "https" if secure else "http"

    def _get_scheme(self) -> str:
        return self._scheme


#: Hosts for which an ``http`` issuer is accepted (development on this machine).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def issuer_problem(value: Any) -> str | None:
    """Why ``value`` cannot be an issuer identifier (RFC 8414 §2), or None if it can.

    An issuer is an absolute ``https`` URL with a host and no query or fragment;
    ``http`` is accepted for a loopback host only.
    """
    if not isinstance(value, str):
        return f"must be a URL string, not {type(value).__name__}"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute URL with scheme and host, such as https://auth.example.com"
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        return "must have no query or fragment (RFC 8414 §2)"
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return "must use https (RFC 8414 §2); http is accepted only for localhost / 127.0.0.1"
    return None


rar_settings = Settings()
