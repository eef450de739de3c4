"""Django system checks. Ids are stable; tests assert them.

- rar_provider.E001  DOT's effective OAUTH2_SERVER_CLASS does not install our pipeline
- rar_provider.E002  OAUTH2_VALIDATOR_CLASS is not (a subclass of) RARValidator
- rar_provider.E003  OIDC is enabled and OIDC_SERVER_CLASS does not install our pipeline
- rar_provider.E004  (retired: an unknown key is now the warning W003)
- rar_provider.E005  a RAR_PROVIDER value has the wrong type or is out of range
- rar_provider.E006  RAR_PROVIDER["SIGNING_KEYS"] cannot be read
- rar_provider.E007  RAR_PROVIDER["DETAIL_COMPARATORS"] names something that is not a callable
- rar_provider.E008  DOT's AUTHORIZATION_CODE_EXPIRE_SECONDS is over 60 seconds
- rar_provider.E009  RAR_PROVIDER["CONSENT_HOOKS"] names something that cannot be imported or called
- rar_provider.E010  RAR_PROVIDER["ISSUER"] is not an issuer identifier (absolute https URL, no query), or
                     DOT's OIDC_ISS_ENDPOINT names another issuer
- rar_provider.E011  DOT's own AuthorizationView (oauth2_provider.urls) is routed beside ours
- rar_provider.E012  RAR_PROVIDER_RESOURCE_SERVER is not a dict of known keys, or DRF is not installed
- rar_provider.W001  RAR_PROVIDER["ISSUER"] is not set
- rar_provider.W002  RAR_PROVIDER["SIGNING_KEYS"] names a file that does not exist yet
- rar_provider.E020  RAR_PROVIDER["RATE_LIMITS"] is not {"par"|"token": "count/period" or None}
- rar_provider.W020  (deploy) rate limits count in a cache that is not shared between processes
- rar_provider.W003  RAR_PROVIDER has a key we do not know (a typo; the closest known key is named)
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from oauth2_provider.settings import oauth2_settings

from .conf import _BOOL_SETTINGS, _INT_SETTINGS, DEFAULTS, issuer_problem, rar_settings

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


def _configured() -> dict | None:
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
}


def _type_name(value) -> str:
    return type(value).__name__


@checks.register()
def check_settings(app_configs=None, **kwargs):
    """Every ``RAR_PROVIDER`` key: known (W003), of the right type and range (E005), a valid issuer (E010)."""
    configured = _configured()
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
    errors.extend(_issuer_messages(configured.get("ISSUER")))
    return errors


def _issuer_messages(issuer) -> list:
    """W001 (unset) or E010 (not an issuer identifier, or DOT's OIDC_ISS_ENDPOINT says another)."""
    if issuer is None or issuer == "":
        return [
            checks.Warning(
                "RAR_PROVIDER['ISSUER'] is not set: the issuer is derived from each request's host.",
                hint="Set it to the https URL clients know this server by (RFC 8414 §2, RFC 9207).",
                id="rar_provider.W001",
            )
        ]
    problem = issuer_problem(issuer)
    if problem:
        return [
            checks.Error(
                f"RAR_PROVIDER['ISSUER'] is {issuer!r}: it {problem}.",
                hint="The issuer identifier goes into every authorization response, token and metadata URL.",
                id="rar_provider.E010",
            )
        ]
    dot_issuer = oauth2_settings.OIDC_ISS_ENDPOINT
    if dot_issuer and str(dot_issuer).rstrip("/") != issuer.rstrip("/"):
        return [
            checks.Error(
                f"DOT's OIDC_ISS_ENDPOINT {dot_issuer!r} is not RAR_PROVIDER['ISSUER'] {issuer!r}: "
                "the server would name itself two ways.",
                hint='Set OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"] to the same value, or leave it out.',
                id="rar_provider.E010",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def check_tokens(app_configs=None, **kwargs):
    """Signing keys, per-type comparators and the authorization code lifetime."""
    from .keys import looks_like_path, signing_keys

    settings_dict = _configured()
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


@checks.register()
def check_consent_hooks(app_configs=None, **kwargs):
    from .hooks import load_hooks

    if _configured() is None:
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


# -- limits (issue 11) ------------------------------------------------------------------------------------
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
    if _configured() is None:  # reported by check_settings (E005)
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
    from django.conf import settings

    if _configured() is None or not isinstance(rar_settings.RATE_LIMITS, dict | None):
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


# -- issue 8: the resource-server setting (rar_provider.E012) -----------------------------------------


@checks.register()
def check_resource_server_setting(app_configs=None, **kwargs):
    """``RAR_PROVIDER_RESOURCE_SERVER`` (rar_provider.drf): a dict of known keys, and DRF installed.

    Without this check a wrong value surfaced only as an error on the API's first request.
    """
    if getattr(settings, "RAR_PROVIDER_RESOURCE_SERVER", None) is None:
        return []
    try:
        from .drf.authentication import resource_server_settings
    except ImportError as exc:
        return [checks.Error(f"RAR_PROVIDER_RESOURCE_SERVER is set but {exc}", id="rar_provider.E012")]
    try:
        resource_server_settings()
    except ImproperlyConfigured as exc:
        return [
            checks.Error(str(exc), hint="See docs/resource-server.md for its keys.", id="rar_provider.E012")
        ]
    return []
