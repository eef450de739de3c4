"""The ``RAR_PROVIDER`` setting itself: a dict of known keys, each of the right type and range.

- rar_provider.E005  a RAR_PROVIDER value has the wrong type or is out of range (PAR_LIFETIME under
                     600 seconds, RFC 9126 §2.2; DPOP_SIGNING_ALGS asymmetric, RFC 9449 §11.6)
- rar_provider.W003  RAR_PROVIDER has a key we do not know (a typo; the closest known key is named)
- rar_provider.E004  (retired: an unknown key is now the warning W003)

:func:`check_settings` also reports the issuer (:mod:`.issuer`). :func:`configured_settings` lets
the other checks stay silent when the setting is not a dict.
"""

from __future__ import annotations

import difflib
import re

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from ..conf import _BOOL_SETTINGS, _INT_SETTINGS, DEFAULTS, rar_settings
from .issuer import issuer_messages


def configured_settings() -> dict | None:
    """``settings.RAR_PROVIDER`` if it is a dict (absent: ``{}``); None when it is not a dict.

    Only :func:`check_settings` reports a value that is not a dict (E005); the
    other checks then stay silent instead of failing with a traceback.
    """
    value = getattr(settings, "RAR_PROVIDER", {})
    return value if isinstance(value, dict) else None


#: Settings with a check of their own (E005 below, E006, E007, E009, E010).
_CHECKED_ELSEWHERE = {
    *_BOOL_SETTINGS,
    *_INT_SETTINGS,
    "ISSUER",
    "SIGNING_KEYS",
    "DETAIL_COMPARATORS",
    "CONSENT_HOOKS",
    "PROPERTY_NAME_PATTERN",
    "RATE_LIMITS",
    "DPOP_SIGNING_ALGS",
}


def _type_name(value) -> str:
    return type(value).__name__


@checks.register()
def check_settings(app_configs=None, **kwargs):
    """Every ``RAR_PROVIDER`` key: known (W003), of the right type and range (E005), a valid issuer (E010)."""
    configured = configured_settings()
    if configured is None:
        value = getattr(settings, "RAR_PROVIDER", None)
        return [
            checks.Error(
                f"The RAR_PROVIDER setting must be a dict, not {_type_name(value)}.",
                hint='RAR_PROVIDER = {"ISSUER": "https://auth.example.com", ...}',
                id="rar_provider.E005",
            )
        ]
    errors = []
    for key in sorted(set(configured) - set(DEFAULTS), key=str):
        close = difflib.get_close_matches(str(key).upper(), list(DEFAULTS), n=1, cutoff=0.6)
        errors.append(
            checks.Warning(
                f"RAR_PROVIDER has an unknown key {key!r}; it is ignored."
                + (f" Did you mean {close[0]!r}?" if close else ""),
                hint="The settings there are: docs/settings.md (rar_provider.conf.DEFAULTS).",
                id="rar_provider.W003",
            )
        )
    for name in (*_BOOL_SETTINGS, *_INT_SETTINGS):
        try:
            value = getattr(rar_settings, name)
        except ImproperlyConfigured as exc:
            errors.append(checks.Error(str(exc), id="rar_provider.E005"))
            continue
        if name in _INT_SETTINGS and value < 1:
            errors.append(checks.Error(f"RAR_PROVIDER[{name!r}] must be at least 1.", id="rar_provider.E005"))
    lifetime = configured.get("PAR_LIFETIME", 60)
    if isinstance(lifetime, int) and not isinstance(lifetime, bool) and lifetime >= 600:
        errors.append(
            checks.Error(
                f"RAR_PROVIDER['PAR_LIFETIME'] is {lifetime} seconds; a request_uri must expire in less than "
                "600 seconds (RFC 9126 §2.2, FAPI 2.0).",
                id="rar_provider.E005",
            )
        )
    try:
        re.compile(rar_settings.PROPERTY_NAME_PATTERN)
    except (re.error, TypeError) as exc:
        errors.append(
            checks.Error(
                f"RAR_PROVIDER['PROPERTY_NAME_PATTERN'] is not a regular expression: {exc}",
                id="rar_provider.E005",
            )
        )
    for name, default in DEFAULTS.items():
        if name in _CHECKED_ELSEWHERE or name not in configured:
            continue
        value = configured[name]
        # A default of None stands for "unset"; such settings otherwise take text (an identifier).
        wanted = (str, type(None)) if default is None else type(default)
        if isinstance(value, bool) and wanted is not bool or not isinstance(value, wanted):
            expected = "text or None" if default is None else _type_name(default)
            errors.append(
                checks.Error(
                    f"RAR_PROVIDER[{name!r}] must be {expected}, not {_type_name(value)} ({value!r}).",
                    id="rar_provider.E005",
                )
            )
    if isinstance(configured.get("ADAPTER"), str):
        from ..adapter import _adapter_class

        try:
            _adapter_class(configured["ADAPTER"])
        except (ImportError, ImproperlyConfigured) as exc:
            errors.append(
                checks.Error(
                    f"RAR_PROVIDER['ADAPTER'] cannot be used: {exc}",
                    hint="A dotted path to a subclass of rar_provider.adapter.ProviderAdapter.",
                    id="rar_provider.E005",
                )
            )
    from ..dpop import configured_algorithms

    try:
        configured_algorithms()  # RFC 9449 §11.6: asymmetric only, never none or HS*
    except ImproperlyConfigured as exc:
        errors.append(checks.Error(str(exc), id="rar_provider.E005"))
    errors.extend(issuer_messages(configured.get("ISSUER")))
    return errors
