"""Answering a request from a stored grant: the ``standard`` consent policy (RFC 9396 §3, §6.1).

A resource server's consent policy decides what happens next time:

* ``standard``: a live grant (usable, not revoked, not past ``expires``) of the same user, client
  and API that covers the new request — every scope, and every detail by the comparison used for
  narrowing (RFC 9396 §6.1, :func:`rar_provider.details.details_are_covered`) — answers it without
  a prompt; the new code is issued under that same grant (same ``grant_id``);
* ``transactional``: every request is consented afresh; its grant is kept for the user's list and
  for revocation, and never reused.
"""

from __future__ import annotations

from ..details import details_are_covered
from ..models import AuthorizationGrant, ConsentPolicy
from ..policy import detail_comparators


def find_covering_grant(user, application, resource_server, details: list[dict], scopes: list[str]):
    """The newest live, reusable grant that covers ``details`` and ``scopes``, or None.

    Only for an API with the ``standard`` consent policy; details are compared as for narrowing
    (RFC 9396 §6.1, ``DETAIL_COMPARATORS`` included: :func:`rar_provider.policy.detail_comparators`).
    """
    if resource_server is None or resource_server.consent_policy != ConsentPolicy.STANDARD:
        return None
    candidates = AuthorizationGrant.objects.live().filter(
        user=user, application=application, resource_server=resource_server, reusable=True
    )
    wanted = {scope for scope in scopes if scope}
    comparators = detail_comparators()
    for grant in candidates.order_by("-created", "-pk"):
        if wanted <= set(grant.scopes) and details_are_covered(
            details, grant.authorization_details, comparators
        ):
            return grant
    return None
