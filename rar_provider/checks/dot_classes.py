"""DOT runs our server and validator classes (RFC 9126, RFC 9396 live there).

- rar_provider.E001  DOT's effective OAUTH2_SERVER_CLASS does not install our pipeline
- rar_provider.E002  OAUTH2_VALIDATOR_CLASS is not (a subclass of) RARValidator
- rar_provider.E003  OIDC is enabled and OIDC_SERVER_CLASS does not install our pipeline
"""

from __future__ import annotations

from django.core import checks
from django.utils.module_loading import import_string
from oauth2_provider.settings import oauth2_settings

SERVER_HINT = (
    'Set OAUTH2_PROVIDER["OAUTH2_SERVER_CLASS"] = "rar_provider.oauth.server.RARServer" and '
    'OAUTH2_PROVIDER["OIDC_SERVER_CLASS"] = "rar_provider.oauth.server.RAROIDCServer".'
)


def _setting_class(name: str):
    """DOT's setting ``name`` as a class, or the import error text when the path is wrong."""
    try:
        value = getattr(oauth2_settings, name)
        return import_string(value) if isinstance(value, str) else value
    except ImportError as exc:
        return f"<cannot be imported: {exc}>"


@checks.register(checks.Tags.security)
def check_dot_integration(app_configs=None, **kwargs):
    """E001/E002/E003: DOT's server classes install our pipeline and its validator is (a subclass of) ours."""
    from ..oauth.server import RARServerMixin
    from ..oauth.validator import RARValidator

    validator_hint = (
        'Set OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"] = "rar_provider.oauth.validator.RARValidator" '
        "(or a subclass of it)."
    )
    wanted = [
        (
            "OAUTH2_SERVER_CLASS",
            RARServerMixin,
            "E001",
            "does not validate authorization_details or pushed requests.",
            SERVER_HINT,
        ),
        (
            "OAUTH2_VALIDATOR_CLASS",
            RARValidator,
            "E002",
            "does not store authorization_details with codes and tokens.",
            validator_hint,
        ),
    ]
    if oauth2_settings.OIDC_ENABLED:
        wanted.append(
            (
                "OIDC_SERVER_CLASS",
                RARServerMixin,
                "E003",
                "does not validate authorization_details (OIDC is enabled).",
                SERVER_HINT,
            )
        )
    errors = []
    for name, base, code, problem, hint in wanted:
        cls = _setting_class(name)
        if not (isinstance(cls, type) and issubclass(cls, base)):
            errors.append(
                checks.Error(f"DOT's {name} {cls!r} {problem}", hint=hint, id=f"rar_provider.{code}")
            )
    return errors
