"""Admin screens an operator uses to register APIs and types, set client policy, and look at pushed
requests, grants and what codes and tokens carry. One module per subject; importing this package
registers them all (Django's admin autodiscovery imports ``rar_provider.admin``)."""

from . import apis, clients, grants, issued  # noqa: F401  (registers the ModelAdmins)
from .clients import _refuse_subject_like_client_ids

_refuse_subject_like_client_ids()
