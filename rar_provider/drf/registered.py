"""What the guard learns when its API is registered in this project (rar_provider installed beside it).

A resource server in another project has no such registry: its class attributes and
``RAR_PROVIDER_RESOURCE_SERVER`` decide alone.
"""

from __future__ import annotations

from django.apps import apps


def _resource_servers():
    if not apps.is_installed("rar_provider"):
        return None
    from ..models import ResourceServer

    return ResourceServer.objects


def with_revocation_check(audience: str) -> bool:
    """The API ``audience`` is registered here with *refuse revoked tokens at once*."""
    servers = _resource_servers()
    return servers is not None and servers.filter(identifier=audience, check_revocation=True).exists()


def under_fapi(audience: str) -> bool:
    """The API ``audience`` follows the FAPI 2.0 Security Profile here (globally, or its own flag):
    it accepts only sender-constrained (DPoP-bound) tokens (FAPI 2.0 §5.3.2.1 clause 4)."""
    servers = _resource_servers()
    if servers is None:
        return False
    from .. import fapi

    return fapi.applies() or servers.filter(identifier=audience, fapi_2_0=True).exists()
