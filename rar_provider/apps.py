from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RarProviderConfig(AppConfig):
    name = "rar_provider"
    verbose_name = _("Rich authorization requests")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401  (registers the system checks)
            events,  # noqa: F401  (connects the protocol-event log receivers)
        )
        from .lifecycles import connect

        connect()  # ends what was issued under a deleted or disabled API, type, client grant or user
