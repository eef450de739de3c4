"""Django system checks, one module per subject. Ids are stable; tests assert them.

Importing this package registers every check (``RarProviderConfig.ready`` does).

- :mod:`.dot_classes`      E001, E002, E003: DOT runs our server and validator classes
- :mod:`.settings`         E005, W003 (E004 retired): the ``RAR_PROVIDER`` dict, its keys, types, ranges
- :mod:`.issuer`           W001, E010: the issuer identifier (RFC 8414 §2, RFC 9207)
- :mod:`.tokens`           E006, W002, E007, E008, E030: signing keys, detail comparators, code lifetime
- :mod:`.consent_hooks`    E009: the hooks before consent
- :mod:`.rate_limits`      E020, W020 (deploy): the rate-limit setting and a shared cache
- :mod:`.dot_views`        E011: DOT's own authorization view routed beside ours
- :mod:`.resource_server`  E012: ``RAR_PROVIDER_RESOURCE_SERVER`` (rar_provider.drf)
- :mod:`.client_auth`      E040, W040 (deploy): private_key_jwt and request object settings, the replay cache
- :mod:`.fapi`             E050–E057: the FAPI 2.0 Security Profile mode (E057, clients: ``--database``)
"""

from .client_auth import check_client_auth_settings, check_replay_cache
from .consent_hooks import check_consent_hooks
from .dot_classes import SERVER_HINT, check_dot_integration
from .dot_views import check_dot_authorization_view
from .fapi import check_fapi_clients, check_fapi_settings
from .rate_limits import (
    RATE,
    RATE_LIMITED_ENDPOINTS,
    UNSHARED_CACHES,
    check_rate_limit_cache,
    check_rate_limits,
)
from .resource_server import check_resource_server_setting
from .settings import check_settings, configured_settings
from .tokens import check_a_key_signs, check_tokens

__all__ = [
    "RATE",
    "RATE_LIMITED_ENDPOINTS",
    "SERVER_HINT",
    "UNSHARED_CACHES",
    "check_client_auth_settings",
    "check_consent_hooks",
    "check_dot_authorization_view",
    "check_dot_integration",
    "check_fapi_clients",
    "check_fapi_settings",
    "check_rate_limit_cache",
    "check_rate_limits",
    "check_replay_cache",
    "check_resource_server_setting",
    "check_settings",
    "check_a_key_signs",
    "check_tokens",
    "configured_settings",
]
