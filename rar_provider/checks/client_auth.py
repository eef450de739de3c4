"""Client authentication and request objects (issue 12): private_key_jwt (RFC 7523), JAR (RFC 9101).

- rar_provider.E040  a setting of private_key_jwt / request objects is out of range: an algorithm
                     list that is empty or names anything but an asymmetric signature algorithm
                     (never ``none``, never HMAC), an unknown ``CLIENT_ASSERTION_AUDIENCES``, a
                     lifetime over 3600 seconds, a ``REPLAY_CACHE`` not in ``CACHES``, or
                     ``REQUIRE_SIGNED_REQUEST_OBJECT`` with the PAR endpoint off
- rar_provider.W040  (deploy) the replay cache is not shared between processes: a client assertion
                     or request object could be used once per worker
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from ..client_keys import SUPPORTED_ALGS
from ..conf import CLIENT_ASSERTION_AUDIENCE_MODES
from .rate_limits import UNSHARED_CACHES
from .settings import configured_settings

ALG_SETTINGS = ("CLIENT_ASSERTION_SIGNING_ALGS", "REQUEST_OBJECT_SIGNING_ALGS")
LIFETIME_SETTINGS = ("CLIENT_ASSERTION_MAX_LIFETIME", "REQUEST_OBJECT_MAX_LIFETIME")
#: Longest lifetime a client assertion or request object may be given (FAPI 2.0 Message Signing: 60 minutes).
MAX_LIFETIME = 3600


def _error(message: str, hint: str = "") -> checks.Error:
    return checks.Error(message, hint=hint or None, id="rar_provider.E040")


@checks.register()
def check_client_auth_settings(app_configs=None, **kwargs):
    """E040: the settings of :mod:`rar_provider.client_assertions` and :mod:`rar_provider.request_objects`."""
    configured = configured_settings()
    if configured is None:
        return []  # reported by check_settings (E005)
    errors = []
    for name in ALG_SETTINGS:
        value = configured.get(name, ["PS256", "ES256", "EdDSA"])
        wrong = (
            [value] if not isinstance(value, list) else [alg for alg in value if alg not in SUPPORTED_ALGS]
        )
        if not isinstance(value, list) or not value or wrong:
            errors.append(
                _error(
                    f"RAR_PROVIDER[{name!r}] must be a non-empty list of asymmetric signature algorithms; "
                    + (f"{wrong[0]!r} is not one." if wrong else "it is empty."),
                    f"Choose from {', '.join(SUPPORTED_ALGS)} (never none or HS256: RFC 8725 §3.1).",
                )
            )
    mode = configured.get("CLIENT_ASSERTION_AUDIENCES", "issuer")
    if mode not in CLIENT_ASSERTION_AUDIENCE_MODES:
        errors.append(
            _error(
                f"RAR_PROVIDER['CLIENT_ASSERTION_AUDIENCES'] is {mode!r}; it must be "
                + " or ".join(repr(value) for value in CLIENT_ASSERTION_AUDIENCE_MODES)
                + "."
            )
        )
    for name in LIFETIME_SETTINGS:
        value = configured.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_LIFETIME:
            errors.append(
                _error(f"RAR_PROVIDER[{name!r}] is {value} seconds; at most {MAX_LIFETIME} are allowed.")
            )
    alias = configured.get("REPLAY_CACHE", "default")
    if isinstance(alias, str) and alias not in getattr(settings, "CACHES", {}):
        errors.append(_error(f"RAR_PROVIDER['REPLAY_CACHE'] names {alias!r}, which is not in CACHES."))
    if configured.get("REQUIRE_SIGNED_REQUEST_OBJECT") is True and configured.get("PAR_ENABLED") is False:
        errors.append(
            _error(
                "RAR_PROVIDER['REQUIRE_SIGNED_REQUEST_OBJECT'] is on and the PAR endpoint is off: request "
                "objects are taken at the PAR endpoint only, so no request could be made."
            )
        )
    return errors


@checks.register(checks.Tags.security, deploy=True)
def check_replay_cache(app_configs=None, **kwargs):
    """W040 (deploy): the cache that makes assertions and request objects single-use is shared."""
    configured = configured_settings()
    if configured is None:
        return []
    alias = configured.get("REPLAY_CACHE", "default")
    if not isinstance(alias, str):
        return []  # reported by check_settings (E005)
    backend = getattr(settings, "CACHES", {}).get(alias, {}).get("BACKEND", "")
    if backend in UNSHARED_CACHES:
        return [
            checks.Warning(
                f"Used client assertions and request objects are remembered in the {alias!r} cache, a "
                f"{backend.rsplit('.', 1)[-1]}: each worker process remembers its own, so one could be "
                "replayed once per process and node.",
                hint="Use a shared cache with an atomic add, e.g. Django's RedisCache "
                "(RAR_PROVIDER['REPLAY_CACHE']).",
                id="rar_provider.W040",
            )
        ]
    return []
