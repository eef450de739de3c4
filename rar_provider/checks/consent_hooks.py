"""The hooks before consent (:mod:`rar_provider.hooks`) can be imported and called.

- rar_provider.E009  RAR_PROVIDER["CONSENT_HOOKS"] names something that cannot be imported or called
"""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .settings import configured_settings


@checks.register()
def check_consent_hooks(app_configs=None, **kwargs):
    """E009: every ``CONSENT_HOOKS`` entry imports and is callable (:func:`rar_provider.hooks.load_hooks`)."""
    from ..hooks import load_hooks

    if configured_settings() is None:
        return []  # reported by check_settings (E005)
    try:
        load_hooks()
    except ImproperlyConfigured as exc:
        return [
            checks.Error(
                str(exc),
                hint="List dotted paths of callables (request, user, client, resource_server, details, "
                "scopes) -> Allow | Refuse | StepUp; see rar_provider.hooks.",
                id="rar_provider.E009",
            )
        ]
    return []
