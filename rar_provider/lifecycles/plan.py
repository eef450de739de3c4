"""Plans: what is live under an API, a client grant or a user, and ending it (one transaction).

Nothing here runs by itself; :mod:`.handlers` calls it from signal handlers, admin asks it what a
deletion would end (:func:`what_deleting_ends`) and how to say so (:func:`describe`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from ..models import (
    AuthorizationDetailType,
    AuthorizationGrant,
    ClientGrant,
    ClientPolicy,
    IssuedAccessToken,
    IssuedCode,
    IssuedRefreshToken,
    PushedAuthorizationRequest,
    ResourceServer,
)
from ..models.grants import TRANSITIONS

#: ``keep(types, application_id, on_behalf_of_user) -> bool``: may this still be used?
#: Grants in a final state have nothing left to end.
_FINAL = [state for state, moves in TRANSITIONS.items() if not moves]
Keep = Callable[[list[str], int, bool], bool]


@dataclass
class Issued:
    """Live things issued under something, by primary key (a plan: nothing is ended yet)."""

    grants: set[int] = field(default_factory=set)
    codes: set[int] = field(default_factory=set)
    access_tokens: set[int] = field(default_factory=set)
    refresh_tokens: set[int] = field(default_factory=set)
    pushed_requests: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return any(self.counts().values())

    def __or__(self, other: Issued) -> Issued:
        return Issued(
            self.grants | other.grants,
            self.codes | other.codes,
            self.access_tokens | other.access_tokens,
            self.refresh_tokens | other.refresh_tokens,
            self.pushed_requests | other.pushed_requests,
        )

    def counts(self) -> dict[str, int]:
        return {
            "grants": len(self.grants),
            "codes": len(self.codes),
            "access_tokens": len(self.access_tokens),
            "refresh_tokens": len(self.refresh_tokens),
            "pushed_requests": len(self.pushed_requests),
        }

    def summary(self) -> list[str]:
        """Plain-English lines, one per kind that is not empty ("2 grants are revoked")."""
        counts = self.counts()
        texts = {
            "grants": ngettext(
                "%(count)d grant is revoked", "%(count)d grants are revoked", counts["grants"]
            ),
            "codes": ngettext(
                "%(count)d unused authorization code is deleted",
                "%(count)d unused authorization codes are deleted",
                counts["codes"],
            ),
            "access_tokens": ngettext(
                "%(count)d access token is revoked",
                "%(count)d access tokens are revoked",
                counts["access_tokens"],
            ),
            "refresh_tokens": ngettext(
                "%(count)d refresh token is revoked",
                "%(count)d refresh tokens are revoked",
                counts["refresh_tokens"],
            ),
            "pushed_requests": ngettext(
                "%(count)d pending pushed request is refused",
                "%(count)d pending pushed requests are refused",
                counts["pushed_requests"],
            ),
        }
        return [texts[kind] % {"count": count} for kind, count in counts.items() if count]


def _types(details) -> list[str]:
    return [str(d.get("type")) for d in details or [] if isinstance(d, dict)]


def issued_under(resource_server: ResourceServer, keep: Keep | None = None, application_id=None) -> Issued:
    """The live grants, codes, tokens and pushed requests of ``resource_server`` that ``keep`` refuses.

    ``keep`` None: all of them (the API itself goes). ``application_id`` limits it to one client.
    Details are read in Python (JSON containment is not portable across databases).
    """
    now = timezone.now()
    found = Issued()

    def refused(types, application_id_, on_behalf_of_user) -> bool:
        return keep is None or not keep(types, application_id_, on_behalf_of_user)

    def mine(queryset, path):
        if application_id is not None:
            queryset = queryset.filter(**{path: application_id})
        return queryset

    grants = mine(
        AuthorizationGrant.objects.filter(resource_server=resource_server, revoked__isnull=True).exclude(
            state__in=_FINAL
        ),
        "application_id",
    )
    for pk, application, details in grants.values_list("pk", "application_id", "authorization_details"):
        if refused(_types(details), application, True):
            found.grants.add(pk)
    codes = mine(IssuedCode.objects.filter(grant__resource_server=resource_server), "code__application_id")
    for pk, application, details in codes.values_list(
        "code_id", "code__application_id", "grant__authorization_details"
    ):
        if refused(_types(details), application, True):
            found.codes.add(pk)
    access = mine(  # live only: one a refresh replaced has expired, and is dead already
        IssuedAccessToken.objects.filter(resource_server=resource_server, access_token__expires__gt=now),
        "access_token__application_id",
    )
    for pk, application, user, details in access.values_list(
        "access_token_id", "access_token__application_id", "access_token__user_id", "authorization_details"
    ):
        if refused(_types(details), application, user is not None):
            found.access_tokens.add(pk)
    refresh = mine(
        IssuedRefreshToken.objects.filter(
            grant__resource_server=resource_server, refresh_token__revoked__isnull=True
        ),
        "refresh_token__application_id",
    )
    for pk, application, user, details in refresh.values_list(
        "refresh_token_id",
        "refresh_token__application_id",
        "refresh_token__user_id",
        "grant__authorization_details",
    ):
        if refused(_types(details), application, user is not None):
            found.refresh_tokens.add(pk)
    pending = mine(
        PushedAuthorizationRequest.objects.filter(
            resource_server=resource_server, consumed_at__isnull=True, expires_at__gt=now
        ),
        "application_id",
    )
    for pk, application, details in pending.values_list("pk", "application_id", "authorization_details"):
        if refused(_types(details), application, True):
            found.pushed_requests.add(pk)
    return found


def no_longer_allowed(resource_server: ResourceServer, application_id=None) -> Issued:
    """What of ``resource_server`` carries a type the current catalogue no longer allows its client."""
    from oauth2_provider.models import get_application_model

    from ..policy import type_catalogue

    catalogues: dict[tuple[int, bool], frozenset[str]] = {}
    applications = get_application_model().objects

    def keep(types: list[str], application_id_: int, on_behalf_of_user: bool) -> bool:
        key = (application_id_, on_behalf_of_user)
        if key not in catalogues:
            application = applications.filter(pk=application_id_).first()
            catalogues[key] = (
                type_catalogue(resource_server, application, on_behalf_of_user=on_behalf_of_user).allowed
                if application is not None
                else frozenset()
            )
        return all(name in catalogues[key] for name in types)

    return issued_under(resource_server, keep, application_id)


def issued_to_user(user) -> Issued:
    """Every live grant, code, access token and refresh token of ``user`` (any API, any client)."""
    now = timezone.now()
    live_grants = AuthorizationGrant.objects.filter(user=user, revoked__isnull=True).exclude(state__in=_FINAL)
    return Issued(
        grants=set(live_grants.values_list("pk", flat=True)),
        codes=set(get_grant_model().objects.filter(user=user, expires__gt=now).values_list("pk", flat=True)),
        access_tokens=set(
            get_access_token_model().objects.filter(user=user, expires__gt=now).values_list("pk", flat=True)
        ),
        refresh_tokens=set(
            get_refresh_token_model()
            .objects.filter(user=user, revoked__isnull=True)
            .values_list("pk", flat=True)
        ),
    )


@transaction.atomic
def end(issued: Issued, request=None) -> Issued:
    """End everything in ``issued`` (see the module docstring); returns it. Idempotent."""
    from ..grants.lifecycle import revoke

    for grant in AuthorizationGrant.objects.filter(pk__in=issued.grants, revoked__isnull=True):
        revoke(grant, request=request)  # and every code and token issued under it
    for refresh_token in get_refresh_token_model().objects.filter(pk__in=issued.refresh_tokens):
        refresh_token.revoke()  # DOT: marks it revoked and deletes its access token
    get_access_token_model().objects.filter(pk__in=issued.access_tokens).delete()
    get_grant_model().objects.filter(pk__in=issued.codes).delete()
    PushedAuthorizationRequest.objects.filter(pk__in=issued.pushed_requests, consumed_at__isnull=True).update(
        expires_at=timezone.now()
    )
    return issued


def what_deleting_ends(objects: Iterable) -> Issued:
    """For admin's delete confirmation: what deleting ``objects`` (APIs, types, client policies) ends."""
    found = Issued()
    for obj in objects:
        if isinstance(obj, ResourceServer):
            found |= issued_under(obj)
        elif isinstance(obj, AuthorizationDetailType):
            found |= issued_under(obj.resource_server, lambda types, *_, name=obj.type: name not in types)
        elif isinstance(obj, ClientGrant):
            found |= issued_under(obj.resource_server, _keep_without_grant(obj), obj.policy.application_id)
        elif isinstance(obj, ClientPolicy):
            for grant in obj.grants.select_related("resource_server"):
                found |= what_deleting_ends([grant])
    return found


def _keep_without_grant(grant: ClientGrant) -> Keep:
    """Keep only what the API allows the client without any client grant (its policy)."""
    from ..models import AccessPolicy

    api = grant.resource_server

    def keep(types, application_id, on_behalf_of_user):
        policy = api.user_access_policy if on_behalf_of_user else api.client_access_policy
        return policy == AccessPolicy.ALLOW_ALL or not types

    return keep


def describe(issued: Issued) -> str:
    """One sentence for an admin message: "Ended: 2 grants are revoked, …" (or nothing to end)."""
    lines = issued.summary()
    if not lines:
        return _("Nothing issued under it was live.")
    return _("Ended what was issued under it: %(what)s.") % {"what": "; ".join(lines)}
