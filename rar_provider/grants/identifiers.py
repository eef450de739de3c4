"""The grant's identifier, the positions of a token's entries in it, and one-time entries.

A grant (:class:`rar_provider.models.AuthorizationGrant`) has a ``grant_id`` (a random,
URL-safe string); every token minted under it, refreshed ones included, carries the same
``grant_id`` and, for each of its ``authorization_details`` entries, the entry's position in the
grant (``grant_entries``; narrowing, RFC 9396 §6, keeps a subset). A resource server that records
what it executed per ``(grant_id, grant entry)`` executes a one-time entry once per approval,
however many tokens are minted (issue 13; FAPI Grant Management names the identifier ``grant_id``).

Every entry is spent per ``(grant_id, grant entry)`` at a resource server that records it, so a
refreshed token cannot execute an approved payment again. A type the operator marks *one-time*
(``AuthorizationDetailType.one_time``) goes further: a grant of one-time entries only gets no
refresh token at all, since there is nothing it could be used for again.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..details.compare import Comparator, covering_entries
from ..models import AuthorizationDetailType, new_grant_id

__all__ = ["grant_entries", "new_grant_id", "only_one_time_entries"]


def grant_entries(
    details: list[dict], granted: list[dict], comparators: Mapping[str, Comparator] | None = None
) -> list[int]:
    """For each of ``details`` (a token's, a subset of the grant), its position in ``granted``.

    Each granted entry is the position of one token entry at most
    (:func:`rar_provider.details.compare.covering_entries`): an entry equal to a granted one is
    that one; a narrower entry (RFC 9396 §6.1) is a granted entry that covers it. Raises
    ``ValueError`` for an entry not from this grant (narrowing refuses those before a token is made).
    """
    positions = covering_entries(details, granted, comparators)
    if None in positions:
        raise ValueError("a token entry that no granted entry of its own covers")
    return positions


def only_one_time_entries(details: list[dict], detail_types: Mapping[str, AuthorizationDetailType]) -> bool:
    """True when ``details`` is not empty and every entry's type is marked one-time.

    ``detail_types``: the request's validated catalogue (type name → registered type), so no query.
    """
    if not details:
        return False
    return all(
        getattr(detail_types.get(detail.get("type")), "one_time", False)
        for detail in details
        if isinstance(detail, dict)
    )
