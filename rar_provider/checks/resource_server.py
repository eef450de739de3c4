"""The resource-server setting of :mod:`rar_provider.drf` (issue 8).

- rar_provider.E012  RAR_PROVIDER_RESOURCE_SERVER is not a dict of known keys, or DRF is not installed
- rar_provider.W012  DPOP_NONCE_REQUIRED is on but DRF's EXCEPTION_HANDLER cannot send DPoP-Nonce
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register()
def check_resource_server_setting(app_configs=None, **kwargs):
    """``RAR_PROVIDER_RESOURCE_SERVER`` (rar_provider.drf): a dict of known keys, and DRF installed.

    Without this check a wrong value surfaced only as an error on the API's first request.
    """
    if getattr(settings, "RAR_PROVIDER_RESOURCE_SERVER", None) is None:
        return []
    try:
        from ..drf.authentication import resource_server_settings
    except ImportError as exc:
        return [checks.Error(f"RAR_PROVIDER_RESOURCE_SERVER is set but {exc}", id="rar_provider.E012")]
    try:
        configured = resource_server_settings()
    except ImproperlyConfigured as exc:
        return [
            checks.Error(str(exc), hint="See docs/resource-server.md for its keys.", id="rar_provider.E012")
        ]
    if configured.get("DPOP_NONCE_REQUIRED"):
        from rest_framework.settings import api_settings

        from ..drf.dpop import exception_handler

        if api_settings.EXCEPTION_HANDLER is not exception_handler:
            return [
                checks.Warning(
                    "RAR_PROVIDER_RESOURCE_SERVER['DPOP_NONCE_REQUIRED'] is on, but DRF's EXCEPTION_HANDLER "
                    "is not rar_provider.drf.exception_handler: use_dpop_nonce answers will lack the "
                    "DPoP-Nonce header clients need (RFC 9449 §9).",
                    hint='REST_FRAMEWORK["EXCEPTION_HANDLER"] = "rar_provider.drf.exception_handler" '
                    "(or call it from yours).",
                    id="rar_provider.W012",
                )
            ]
    return []
