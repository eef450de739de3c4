"""Django system checks. Ids are stable; tests assert them.

- rar_provider.E001  DOT's effective OAUTH2_SERVER_CLASS does not install our pipeline
- rar_provider.E002  OAUTH2_VALIDATOR_CLASS is not (a subclass of) RARValidator
- rar_provider.E003  OIDC is enabled and OIDC_SERVER_CLASS does not install our pipeline
- rar_provider.E004  RAR_PROVIDER has a key we do not know (a typo)
- rar_provider.E005  a RAR_PROVIDER value has the wrong type or is out of range
- rar_provider.E006  RAR_PROVIDER["SIGNING_KEYS"] cannot be read
- rar_provider.E007  RAR_PROVIDER["DETAIL_COMPARATORS"] names something that is not a callable
- rar_provider.E008  DOT's AUTHORIZATION_CODE_EXPIRE_SECONDS is over 60 seconds
- rar_provider.E009  RAR_PROVIDER["CONSENT_HOOKS"] names something that cannot be imported or called
- rar_provider.W001  RAR_PROVIDER["ISSUER"] is not set
- rar_provider.W002  RAR_PROVIDER["SIGNING_KEYS"] names a file that does not exist yet
"""

from __future__ import annotations

import re
from pathlib import Path

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from oauth2_provider.settings import oauth2_settings

from .conf import _BOOL_SETTINGS, _INT_SETTINGS, rar_settings

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
    from .oauth.server import RARServerMixin
    from .oauth.validator import RARValidator

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


@checks.register()
def check_settings(app_configs=None, **kwargs):
    errors = []
    try:
        unknown = rar_settings.unknown_keys()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="rar_provider.E005")]
    for key in unknown:
        errors.append(
            checks.Error(
                f"RAR_PROVIDER has an unknown key {key!r}.",
                hint="See rar_provider.conf.DEFAULTS for the settings there are.",
                id="rar_provider.E004",
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
    lifetime = rar_settings.user_settings.get("PAR_LIFETIME", 60)
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
    if not rar_settings.user_settings.get("ISSUER"):
        errors.append(
            checks.Warning(
                "RAR_PROVIDER['ISSUER'] is not set: the issuer is derived from each request's host.",
                hint="Set it to the https URL clients know this server by (RFC 8414 §2, RFC 9207).",
                id="rar_provider.W001",
            )
        )
    return errors


@checks.register(checks.Tags.security)
def check_tokens(app_configs=None, **kwargs):
    """Signing keys, per-type comparators and the authorization code lifetime."""
    from .keys import signing_keys

    errors = []
    configured = rar_settings.user_settings.get("SIGNING_KEYS")
    if (
        isinstance(configured, str)
        and not configured.lstrip().startswith(("{", "-----"))
        and not Path(configured).exists()
    ):
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
    comparators = rar_settings.user_settings.get("DETAIL_COMPARATORS") or {}
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
@checks.register()
def check_consent_hooks(app_configs=None, **kwargs):
    from .hooks import load_hooks

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


# -- issue 8: DOT's own authorization view routed beside ours (rar_provider.E011) --------------------


def _routed_views(patterns, prefix=""):
    """Yield ``(route, view class)`` for every class-based view reachable from ``patterns``."""
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if hasattr(entry, "url_patterns"):
            yield from _routed_views(entry.url_patterns, route)
        else:
            view_class = getattr(entry.callback, "view_class", None)
            if view_class is not None:
                yield route, view_class


@checks.register(checks.Tags.security, checks.Tags.urls)
def check_dot_authorization_view(app_configs=None, **kwargs):
    """DOT's ``AuthorizationView`` shows scopes only: routed beside ours, it is a second way in.

    Requests carrying ``authorization_details`` are refused there anyway
    (:func:`rar_provider.oauth.pipeline.check_endpoint`); this check says the route should go.
    """
    from django.urls import get_resolver
    from oauth2_provider.views import AuthorizationView as DOTAuthorizationView

    try:
        routed = list(_routed_views(get_resolver().url_patterns))
    except Exception:  # noqa: BLE001 - a broken URLconf is reported by Django's own URL checks
        return []
    return [
        checks.Error(
            f"DOT's AuthorizationView is routed at {route!r} (oauth2_provider.urls?): it shows scopes but "
            "not authorization_details, so it is a second authorization endpoint that bypasses "
            "rar_provider's consent page.",
            hint='Remove path(..., include("oauth2_provider.urls")) and route only rar_provider.urls; '
            "include DOT's other views one by one if you need them.",
            obj=view_class,
            id="rar_provider.E011",
        )
        for route, view_class in routed
        if issubclass(view_class, DOTAuthorizationView)
    ]
