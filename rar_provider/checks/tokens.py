"""What signs and compares tokens, and how long a code lives.

- rar_provider.E006  RAR_PROVIDER["SIGNING_KEYS"] cannot be read
- rar_provider.W002  RAR_PROVIDER["SIGNING_KEYS"] names a file that does not exist yet
- rar_provider.E007  RAR_PROVIDER["DETAIL_COMPARATORS"] names something that is not a callable
- rar_provider.E008  DOT's AUTHORIZATION_CODE_EXPIRE_SECONDS is over 60 seconds (RFC 9700 §4.5)
- rar_provider.E030  keys are configured, but every one is published only (none can sign)
"""

from __future__ import annotations

from pathlib import Path

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from oauth2_provider.settings import oauth2_settings

from .settings import configured_settings


@checks.register(checks.Tags.security)
def check_tokens(app_configs=None, **kwargs):
    """Signing keys, per-type comparators and the authorization code lifetime."""
    from ..keys import looks_like_path, signing_keys

    settings_dict = configured_settings()
    if settings_dict is None:
        return []  # reported by check_settings (E005)
    errors = []
    configured = settings_dict.get("SIGNING_KEYS")
    if looks_like_path(configured) and not Path(configured).exists():
        errors.append(
            checks.Warning(
                f"RAR_PROVIDER['SIGNING_KEYS'] names {configured}, which does not exist yet: "
                "APIs that issue JWT access tokens will fail.",
                hint=f"Create it with: manage.py rar_generate_key --jwks-file {configured}",
                id="rar_provider.W002",
            )
        )
    else:
        try:
            signing_keys()
        except ImproperlyConfigured as exc:
            errors.append(checks.Error(str(exc), id="rar_provider.E006"))
    comparators = settings_dict.get("DETAIL_COMPARATORS") or {}
    if not isinstance(comparators, dict):
        errors.append(
            checks.Error("RAR_PROVIDER['DETAIL_COMPARATORS'] must be a dict.", id="rar_provider.E007")
        )
        comparators = {}
    for name, path in comparators.items():
        try:
            target = import_string(path) if isinstance(path, str) else path
        except ImportError as exc:
            target = exc
        if not callable(target):
            errors.append(
                checks.Error(
                    f"RAR_PROVIDER['DETAIL_COMPARATORS'][{name!r}] is not an importable callable: {target}",
                    id="rar_provider.E007",
                )
            )
    code_lifetime = oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS
    if code_lifetime > 60:
        errors.append(
            checks.Error(
                f"OAUTH2_PROVIDER['AUTHORIZATION_CODE_EXPIRE_SECONDS'] is {code_lifetime}; authorization "
                "codes must live 60 seconds at most (RFC 9700 §4.5, FAPI 2.0).",
                id="rar_provider.E008",
            )
        )
    return errors


@checks.register(checks.Tags.security)
def check_a_key_signs(app_configs=None, **kwargs):
    """``rar_provider.E030``: keys are configured, but every one is published only (none can sign)."""
    from ..keys import no_signer_message, signing_keys

    try:
        keys = signing_keys()
    except ImproperlyConfigured:
        return []  # reported by rar_provider.E006 (or E005)
    if keys and not any(key.use_for_signing for key in keys):
        return [
            checks.Error(
                no_signer_message(keys),
                hint="docs/deploy.md, Rotating the signing key: a key is added published only, then promoted",
                id="rar_provider.E030",
            )
        ]
    return []
