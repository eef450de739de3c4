"""Delete pushed authorization requests and code redemptions that can no longer matter.

Run it from cron (or a scheduler) after DOT's ``cleartokens``::

    python manage.py rar_clear_expired

* A pushed request is deleted once it has expired and the longest consent
  window that may still be open for it (``CONSENT_MAX_AGE``) has passed too,
  whether it was used or not (RFC 9126 §2.2: a request_uri is short-lived).
* A redeemed code's record is kept while a token issued from it may still be
  used (its access token exists, or its refresh-token family has a live
  token), so that a replay of the code can revoke them (RFC 6749 §4.1.2); and
  at least as long as the code itself could have lived.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db.models import Exists, OuterRef
from django.utils import timezone
from oauth2_provider.models import get_refresh_token_model
from oauth2_provider.settings import oauth2_settings

from rar_provider.conf import rar_settings
from rar_provider.models import CodeRedemption, ConsentDecision, PushedAuthorizationRequest


class Command(BaseCommand):
    help = "Delete expired pushed authorization requests and code redemptions with no live token."

    def handle(self, *args, **options):
        now = timezone.now()
        cutoff = now - timedelta(seconds=rar_settings.CONSENT_MAX_AGE)
        deleted, _ = PushedAuthorizationRequest.objects.filter(expires_at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {deleted} expired pushed authorization request(s).")
        # A consent page older than CONSENT_MAX_AGE cannot be posted any more (its signature expired).
        deleted, _ = ConsentDecision.objects.filter(decided_at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {deleted} consent decision record(s) past CONSENT_MAX_AGE.")

        live_refresh = get_refresh_token_model().objects.filter(
            token_family=OuterRef("token_family"), revoked__isnull=True
        )
        code_cutoff = now - timedelta(seconds=oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS)
        stale = CodeRedemption.objects.filter(access_token__isnull=True, redeemed_at__lt=code_cutoff).exclude(
            Exists(live_refresh)
        )
        deleted, _ = stale.delete()
        self.stdout.write(f"Deleted {deleted} code redemption record(s) with no live token.")
