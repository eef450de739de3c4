"""What the guard learns when its API is registered in this project (rar_provider installed beside it).

A resource server in another project has no such registry: its class attributes and
``RAR_PROVIDER_RESOURCE_SERVER`` decide alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps


@dataclass(frozen=True)
class RegisteredAPI:
    """The admin switches of the guard's API: *refuse revoked tokens at once* and the FAPI 2.0 flag
    (FAPI 2.0 §5.3.2.1 clause 4: then only sender-constrained, DPoP-bound, tokens)."""

    check_revocation: bool = False
    fapi_2_0: bool = False


def api_switches(audience: str) -> RegisteredAPI:
    """The switches of the API ``audience`` as registered here, in one query; all off when it is not
    registered (or rar_provider is not installed). ``RAR_PROVIDER["FAPI_2_0"]`` turns FAPI on too."""
    if not apps.is_installed("rar_provider"):
        return RegisteredAPI()
    from .. import fapi
    from ..models import ResourceServer

    row = (
        ResourceServer.objects.filter(identifier=audience).values("check_revocation", "fapi_2_0").first()
        or {}
    )
    return RegisteredAPI(
        check_revocation=bool(row.get("check_revocation")),
        fapi_2_0=fapi.applies() or bool(row.get("fapi_2_0")),
    )
