"""Signals project code can listen to.

- ``par_pushed(sender, request, pushed_request)``: a request was accepted at the
  PAR endpoint (RFC 9126 §2.2).
- ``authorization_requested(sender, request, user, client, authorization_details,
  resource_server)``: a validated request is about to be shown for consent
  (RFC 9396 §3); listeners see the requested details before the user does.
- ``details_granted(sender, request, user, client, authorization_details,
  resource_server)``: the user approved; a code carrying these details is issued.
- ``authorization_denied(sender, request, user, client)``: the user said no.
- ``consent_revoked(sender, request, grant)``: a grant (:class:`.models.AuthorizationGrant`) and
  the codes and tokens issued under it were revoked (by the user, or ``request`` None from admin
  code or a replay).
- ``consent_shown(sender, request, user, client, authorization_details, resource_server)``:
  the consent page is rendered (no hook refused it, no stored consent covered it).
- ``step_up_required(sender, request, user, client, authorization_details)``: a consent hook
  sent the user to a step-up page first (rar_provider.hooks.StepUp).
- ``code_replayed(sender, redemption)``: an authorization code came back after it was
  redeemed (RFC 6749 §4.1.2); the tokens issued with it are revoked.
- ``token_revocation_requested(sender, request)``: the revocation endpoint answered 200
  (RFC 7009 §2.2: also for an unknown token).
"""

from django.dispatch import Signal

par_pushed = Signal()
authorization_requested = Signal()
details_granted = Signal()
authorization_denied = Signal()
consent_revoked = Signal()
consent_shown = Signal()
step_up_required = Signal()
code_replayed = Signal()
token_revocation_requested = Signal()
