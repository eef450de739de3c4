"""E050–E057: the FAPI 2.0 Security Profile mode (:mod:`rar_provider.fapi`): what the configuration
and the registered clients must be for the profile, each error naming its clause.

They apply when ``RAR_PROVIDER["FAPI_2_0"]`` is on or an API has the *FAPI 2.0 Security Profile*
flag. The registered clients are read from the database, so their check (E057) is tagged
``database``: ``manage.py check --database default`` (and ``migrate``) runs it.
"""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from oauth2_provider.settings import oauth2_settings

from ..conf import rar_settings
from ..fapi import FAPI_ALGS, applies, clause, redirect_uri_allowed, uses_private_key_jwt
from .settings import configured_settings


def _fapi_apis():
    from ..models import ResourceServer

    return ResourceServer.objects.filter(fapi_2_0=True)


def _in_use(databases) -> bool:
    """Globally on, or (when the database may be read) some API has the flag."""
    try:
        if applies():
            return True
    except ImproperlyConfigured:
        return False  # a FAPI_2_0 that is not a bool: E005 reports it
    if not databases:
        return False
    try:
        return _fapi_apis().exists()
    except DatabaseError:
        return False


def _error(message: str, section: str, number: int | None, code: int, hint: str = "") -> checks.Error:
    return checks.Error(
        f"{message} ({clause(section, number)}).", hint=hint or None, id=f"rar_provider.E{code:03d}"
    )


def _key_problems() -> list[checks.Error]:
    from ..keys import signing_keys

    try:
        keys = signing_keys()
    except ImproperlyConfigured:
        return []  # E006 reports it
    errors = []
    for key in keys:
        if key.alg not in FAPI_ALGS:
            errors.append(
                _error(
                    f"Signing key {key.kid!r} signs with {key.alg}; only {', '.join(FAPI_ALGS)} may",
                    "5.4",
                    1,
                    53,
                    'Give the key "alg": "PS256" (RSA) or create an EC P-256 / Ed25519 key.',
                )
            )
        size = key.key.get("n")
        if key.key.get("kty") == "RSA" and size and len(size) * 6 < 2048:
            errors.append(_error(f"Signing key {key.kid!r} is an RSA key under 2048 bits", "5.4", 2, 53))
    return errors


@checks.register()
def check_fapi_settings(app_configs=None, databases=None, **kwargs):
    """E050–E056: PAR on, codes ≤ 60 s, request_uri < 600 s, PKCE S256 only, FAPI algorithms."""
    if configured_settings() is None or not _in_use(databases):
        return []
    errors = []
    if not rar_settings.PAR_ENABLED:
        errors.append(
            _error("PAR_ENABLED is off; the profile requires pushed authorization requests", "5.3.2.2", 2, 50)
        )
    code_lifetime = oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS
    if code_lifetime > 60:
        errors.append(
            _error(
                f"Authorization codes live {code_lifetime} s; at most 60 s",
                "5.3.2.1",
                11,
                51,
                'OAUTH2_PROVIDER["AUTHORIZATION_CODE_EXPIRE_SECONDS"] = 60',
            )
        )
    if rar_settings.PAR_LIFETIME >= 600:
        errors.append(_error("PAR_LIFETIME must be under 600 seconds", "5.3.2.2", 12, 52))
    errors.extend(_key_problems())
    for name in ("CLIENT_ASSERTION_SIGNING_ALGS", "REQUEST_OBJECT_SIGNING_ALGS", "DPOP_SIGNING_ALGS"):
        others = [alg for alg in getattr(rar_settings, name) or () if alg not in FAPI_ALGS]
        if others:
            errors.append(
                _error(
                    f"{name} allows {', '.join(others)}; only {', '.join(FAPI_ALGS)} may be used",
                    "5.4",
                    1,
                    54,
                )
            )
    if not rar_settings.PKCE_S256_ONLY:
        errors.append(_error("PKCE_S256_ONLY is off; PKCE must use S256", "5.3.2.2", 5, 55))
    return errors


def _clients_of_fapi_apis():
    """Every client if the profile is global; else the clients that may request a FAPI API's types."""
    from oauth2_provider.models import get_application_model

    from ..models import AccessPolicy

    applications = get_application_model().objects.select_related("rar_policy")
    if applies():
        return applications.all()
    apis = list(_fapi_apis())
    if any(api.user_access_policy == AccessPolicy.ALLOW_ALL for api in apis):
        return applications.all()
    return applications.filter(rar_policy__grants__resource_server__in=apis).distinct()


@checks.register(checks.Tags.database)
def check_fapi_clients(app_configs=None, databases=None, **kwargs):
    """E057: each client that may use a FAPI API: confidential, private_key_jwt, https redirect URIs,
    authorization code (or client credentials) only."""
    if not databases or configured_settings() is None or not _in_use(databases):
        return []
    errors = []
    try:
        clients = list(_clients_of_fapi_apis())
    except DatabaseError:
        return []
    for client in clients:
        name = f"Client {client.client_id!r}"
        if not uses_private_key_jwt(client):
            errors.append(
                _error(
                    f"{name} is not a confidential client using private_key_jwt",
                    "5.3.2.1",
                    6,
                    57,
                    "Admin → Client policies: token endpoint authentication method private_key_jwt, "
                    "with the client's public keys.",
                )
            )
        bad = [uri for uri in (client.redirect_uris or "").split() if not redirect_uri_allowed(uri)]
        if bad:
            errors.append(
                _error(f"{name} has redirect URIs that are not https: {', '.join(bad)}", "5.3.2.2", 8, 57)
            )
        if client.authorization_grant_type not in ("authorization-code", "client-credentials"):
            errors.append(
                _error(f"{name} uses the {client.authorization_grant_type} grant", "5.3.2.1", 2, 57)
            )
    return errors
