"""The grant: what a user approved, and everything issued under it (issue 10).

* :mod:`.lifecycle`: the transitions (pending → approved → code issued → redeemed →
  revoked/expired), one transaction each, rows locked in one documented order;
* :mod:`.reuse`: the ``standard`` consent policy — a stored grant answering a later request;
* :mod:`.projections`: *Your authorizations* and the admin's view of a grant;
* :mod:`.identifiers`: ``grant_id``, the positions of a token's entries in its grant
  (``grant_entries``), one-time entries.

The model is :class:`rar_provider.models.AuthorizationGrant`.
"""

from .identifiers import grant_entries, new_grant_id, only_one_time_entries

__all__ = ["grant_entries", "new_grant_id", "only_one_time_entries"]
