"""Delete everything that has ended: codes and tokens, pushed requests, redeemed-code records, consents.

Run it from cron (or a scheduler) on any node, as often as you like; several nodes may run it at
once::

    python manage.py rar_clear_expired [--batch-size 1000]

It applies DOT's ``cleartokens`` rules too (with the ``REPLAY_WINDOW``), so it replaces that command.
What is deleted when: :mod:`rar_provider.housekeeping`.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from rar_provider.housekeeping import DEFAULT_BATCH_SIZE, prune


class Command(BaseCommand):
    help = (
        "Delete ended codes and tokens, expired pushed authorization requests, redeemed-code records "
        "with no live token, and ended consents past their retention period, in batches."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Rows deleted per transaction (default {DEFAULT_BATCH_SIZE}).",
        )

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        for line in prune(batch_size=batch_size).lines():
            self.stdout.write(line)
