"""Refuse to start the demo twice: fail with a clear message if its address is already in use.

``make demo`` runs it before migrating or loading anything, so a second ``make demo`` changes nothing.
"""

from __future__ import annotations

import socket

from django.core.management.base import BaseCommand, CommandError


def in_use(host: str, port: int) -> bool:
    """True if something listens on ``host:port`` (a bind as runserver does it, SO_REUSEADDR, fails)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


class Command(BaseCommand):
    help = "Exit with an error if the demo's address (default 127.0.0.1:8000) is already in use."
    # Runs before the signing key and the database exist: the system checks would fail for that.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("address", nargs="?", default="127.0.0.1:8000", help="host:port")

    def handle(self, *args, address: str, **options):
        host, _, port = address.rpartition(":")
        if in_use(host or "127.0.0.1", int(port)):
            raise CommandError(
                f"The demo is already running at http://{address}/ (something listens on {address}). "
                "Open it in your browser, or stop the other one first (Ctrl+C in its terminal)."
            )
        self.stdout.write(f"{address} is free.")
