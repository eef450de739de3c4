"""Signals project code can listen to.

- ``par_pushed(sender, request, pushed_request)``: a request was accepted at the
  PAR endpoint (RFC 9126 §2.2).
- ``authorization_requested(sender, request, user, client, authorization_details,
  resource_server)``: a validated request is about to be shown for consent
  (RFC 9396 §3); listeners see the requested details before the user does.
- ``details_granted(sender, request, user, client, authorization_details,
  resource_server)``: the user approved; a code carrying these details is issued.
- ``authorization_denied(sender, request, user, client)``: the user said no.
- ``consent_revoked(sender, request, consent)``: a stored consent and the codes and
  tokens issued under it were revoked (by the user, or ``request`` None from admin code).
"""

from django.dispatch import Signal

par_pushed = Signal()
authorization_requested = Signal()
details_granted = Signal()
authorization_denied = Signal()
consent_revoked = Signal()
