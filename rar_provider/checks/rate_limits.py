"""Rate limits (issue 11): the setting's syntax, and a cache that all processes share.

- rar_provider.E020  RAR_PROVIDER["RATE_LIMITS"] is not {"par"|"token": "count/period" or None}
- rar_provider.W020  (deploy) rate limits count in a cache that is not shared between processes
"""

from __future__ import annotations

import re

from django.core import checks

from ..conf import rar_settings
from .settings import configured_settings

#: django-ratelimit's rate syntax: a count, "/", an optional multiplier and a unit (s, m, h, d).
RATE = re.compile(r"\d+/\d*[smhd]", re.IGNORECASE)
RATE_LIMITED_ENDPOINTS = ("par", "token")
#: Cache backends whose counters are per process (or not atomic): limits would not hold across workers.
UNSHARED_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
    "django.core.cache.backends.db.DatabaseCache",
)


@checks.register()
def check_rate_limits(app_configs=None, **kwargs):
    """E020: ``RATE_LIMITS`` is None or a dict of limited endpoints to django-ratelimit rates (or None)."""
    if configured_settings() is None:  # reported by check_settings (E005)
        return []
    value = rar_settings.RATE_LIMITS
    hint = 'e.g. {"par": "3000/m", "token": "6000/m"}; None (or leaving a key out) turns a limit off.'
    if value is None:
        return []
    if not isinstance(value, dict):
        message = "RAR_PROVIDER['RATE_LIMITS'] must be a dict."
        return [checks.Error(message, hint=hint, id="rar_provider.E020")]
    errors = []
    for endpoint, rate in value.items():
        if endpoint not in RATE_LIMITED_ENDPOINTS:
            errors.append(
                checks.Error(
                    f"RAR_PROVIDER['RATE_LIMITS'] names {endpoint!r}; the limited endpoints are "
                    f"{', '.join(RATE_LIMITED_ENDPOINTS)}.",
                    hint=hint,
                    id="rar_provider.E020",
                )
            )
        elif rate is not None and not (isinstance(rate, str) and RATE.fullmatch(rate)):
            errors.append(
                checks.Error(
                    f"RAR_PROVIDER['RATE_LIMITS'][{endpoint!r}] must be a rate such as '600/m' or '10/5s', "
                    f"not {rate!r}.",
                    hint=hint,
                    id="rar_provider.E020",
                )
            )
    return errors


@checks.register(checks.Tags.security, deploy=True)
def check_rate_limit_cache(app_configs=None, **kwargs):
    """W020 (deploy): with a limit on, the counting cache is shared between processes."""
    from django.conf import settings

    if configured_settings() is None or not isinstance(rar_settings.RATE_LIMITS, dict | None):
        return []  # reported by check_settings (E005) or check_rate_limits (E020)
    if not any((rar_settings.RATE_LIMITS or {}).values()):
        return []
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    if backend in UNSHARED_CACHES:
        return [
            checks.Warning(
                f"Rate limits count in the {alias!r} cache, a {backend.rsplit('.', 1)[-1]}: each worker "
                "process counts on its own, so a client gets the limit once per process and node.",
                hint="Use a shared cache with atomic increments, e.g. CACHES['default'] = Django's "
                "RedisCache (docs/deploy.md).",
                id="rar_provider.W020",
            )
        ]
    return []
