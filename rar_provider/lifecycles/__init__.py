"""What happens to live authorizations when an operator removes what they were issued under.

One rule, applied by signal handlers whatever makes the change (admin, shell, code): **nothing
issued under a thing that no longer exists, or no longer allows it, stays usable.** When an API
(:class:`.models.ResourceServer`), one of its types, a client grant or a user goes away or is
switched off, every live thing issued under it is ended at once, in the same transaction:

* grants are revoked (:func:`rar_provider.grants.lifecycle.revoke`: the ``consent_revoked`` signal is sent);
* unused authorization codes are deleted (a later exchange is ``invalid_grant``);
* access tokens are deleted (introspection answers ``{"active": false}``, RFC 7662 §2.2);
* refresh tokens are revoked (a refresh is ``invalid_grant``, RFC 6749 §5.2);
* pending pushed requests expire (their ``request_uri`` is refused at /authorize, RFC 9126 §4).

Deleting an API ends everything issued for it. A type deleted, disabled, renamed or moved, a
client grant deleted or narrowed, or an API's access policies changed: everything of that API
is checked against the current catalogue (:func:`.policy.type_catalogue`) and what carries a
type no longer allowed is ended. Disabling a user (``is_active`` False) ends everything issued
to them. Deleting a user or a DOT application needs nothing here: DOT's tokens and codes, our
grants and pushed requests reference them with ``on_delete=CASCADE`` and go with them.

Nothing is restored when the thing comes back: the client asks again. The table is in
``docs/lifecycles.md``.
"""

from .handlers import connect
from .plan import Issued, describe, end, issued_to_user, issued_under, no_longer_allowed, what_deleting_ends

__all__ = [
    "Issued",
    "connect",
    "describe",
    "end",
    "issued_to_user",
    "issued_under",
    "no_longer_allowed",
    "what_deleting_ends",
]
