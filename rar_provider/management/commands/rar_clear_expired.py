"""Delete pushed authorization requests that can no longer be used.

Run it from cron (or a scheduler) next to DOT's ``cleartokens``::

    python manage.py rar_clear_expired

A request is deleted once it has expired and the longest consent window that
may still be open for it (``CONSENT_MAX_AGE``) has passed too, whether it was
used or not (RFC 9126 §2.2: a request_uri is short-lived).
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from rar_provider.conf import rar_settings
from rar_provider.models import PushedAuthorizationRequest


class Command(BaseCommand):
    help = "Delete expired pushed authorization requests."

    def handle(self, *args, **options):
        cutoff = timezone.now() - timedelta(seconds=rar_settings.CONSENT_MAX_AGE)
        deleted, _ = PushedAuthorizationRequest.objects.filter(expires_at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {deleted} expired pushed authorization request(s).")
