"""The signal handlers: whatever makes the change (admin, shell, code), what it ends is ended now."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from ..models import (
    AuthorizationDetailType,
    AuthorizationGrant,
    ClientGrant,
    ClientGrantType,
    ClientPolicy,
    IssuedAccessToken,
    PushedAuthorizationRequest,
    ResourceServer,
)
from .plan import Issued, end, issued_to_user, issued_under, no_longer_allowed

_WATCHED = {
    ResourceServer: ("user_access_policy", "client_access_policy"),
    AuthorizationDetailType: ("enabled", "type", "resource_server_id"),
    ClientGrant: ("resource_server_id",),
}


def _remember_watched(sender, instance, raw=False, **kwargs) -> None:
    """pre_save: the watched fields as stored, to tell after the save whether they changed."""
    if raw or instance.pk is None:
        return
    names = _WATCHED[sender]
    instance._rar_stored = sender.objects.filter(pk=instance.pk).values(*names).first()


def _recheck_after_save(sender, instance, created=False, raw=False, **kwargs) -> None:
    stored = getattr(instance, "_rar_stored", None)
    instance._rar_stored = None
    if raw or created or not stored:
        return
    if all(stored[name] == getattr(instance, name) for name in stored):
        return
    if sender is ResourceServer:
        _end_now(lambda: no_longer_allowed(instance))
    elif sender is ClientGrant:  # moved to another API: the old API's grants of this client are re-checked
        old_api = ResourceServer.objects.filter(pk=stored["resource_server_id"]).first()
        if old_api is not None:
            _end_now(lambda: no_longer_allowed(old_api, instance.policy.application_id))
    else:
        api_ids = {stored["resource_server_id"], instance.resource_server_id}
        for api in ResourceServer.objects.filter(pk__in=api_ids):
            _end_now(lambda api=api: no_longer_allowed(api))


def _api_deleted(sender, instance, **kwargs) -> None:
    """pre_delete of an API: the links from grants and issued tokens still point at it here.

    The API's row is locked first, so a token being issued for it meanwhile either committed
    before (and is found and ended here) or fails its foreign key check after the deletion. Every
    link is then cleared here, including rows added since admin collected what to update.
    """
    ResourceServer.objects.select_for_update().filter(pk=instance.pk).first()
    end(issued_under(instance))
    for model in (AuthorizationGrant, IssuedAccessToken, PushedAuthorizationRequest):
        model.objects.filter(resource_server=instance).update(resource_server=None)


def _type_or_grant_deleted(sender, instance, **kwargs) -> None:
    api = ResourceServer.objects.filter(pk=instance.resource_server_id).first()
    if api is None:  # the API itself is being deleted: _api_deleted ended everything
        return
    if sender is ClientGrant:
        application_id = (
            ClientPolicy.objects.filter(pk=instance.policy_id)
            .values_list("application_id", flat=True)
            .first()
        )
        _end_now(lambda: no_longer_allowed(api, application_id))
    else:
        _end_now(lambda: no_longer_allowed(api))


def _grant_types_changed(sender, instance, action, reverse, pk_set=None, **kwargs) -> None:
    """m2m_changed on ClientGrant.detail_types: a type taken out of a grant."""
    if action not in ("post_remove", "post_clear"):
        return
    if reverse:  # type.client_grants.remove(grant)
        api = instance.resource_server
        _end_now(lambda: no_longer_allowed(api))
    else:
        grant = instance
        _end_now(lambda: no_longer_allowed(grant.resource_server, grant.policy.application_id))


def _user_saved(sender, instance, raw=False, **kwargs) -> None:
    if raw or getattr(instance, "is_active", True):
        return
    end(issued_to_user(instance))


def _end_now(plan: Callable[[], Issued]) -> None:
    """Plan and end now, inside the change's transaction, so nothing is used in between."""
    end(plan())


def connect() -> None:
    """Connect the handlers (``AppConfig.ready``). Each is connected once (``dispatch_uid``)."""
    from django.apps import apps

    for model in _WATCHED:
        pre_save.connect(_remember_watched, sender=model, dispatch_uid=f"rar-lifecycle-pre-{model.__name__}")
        post_save.connect(
            _recheck_after_save, sender=model, dispatch_uid=f"rar-lifecycle-post-{model.__name__}"
        )
    pre_delete.connect(_api_deleted, sender=ResourceServer, dispatch_uid="rar-lifecycle-api-deleted")
    for model in (AuthorizationDetailType, ClientGrant):
        post_delete.connect(
            _type_or_grant_deleted, sender=model, dispatch_uid=f"rar-lifecycle-deleted-{model.__name__}"
        )
    m2m_changed.connect(
        _grant_types_changed, sender=ClientGrantType, dispatch_uid="rar-lifecycle-grant-types"
    )
    post_save.connect(
        _user_saved, sender=apps.get_model(settings.AUTH_USER_MODEL), dispatch_uid="rar-lifecycle-user"
    )
