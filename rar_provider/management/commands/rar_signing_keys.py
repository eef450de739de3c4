"""List, promote and retire the signing keys of a JWK Set file (docs/deploy.md, *Rotating the signing key*).

    manage.py rar_signing_keys                   # each key: kid, alg, state
    manage.py rar_signing_keys promote --kid=KID  # KID signs from now on; the key that signed stops
    manage.py rar_signing_keys retire --kid=KID   # remove an old key once its tokens have expired
    manage.py rar_signing_keys retire --kid=KID --force

A kid may start with "-" (an RFC 7638 thumbprint is base64url): ``--kid=KID`` always works; the
positional ``KID`` is kept for kids that do not.

The file is ``--jwks-file``, else ``RAR_PROVIDER["SIGNING_KEYS"]`` when it names a file. Each change
is written atomically (mode 0600); copy the file to every node, one at a time, before the next step.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rar_provider import key_rotation
from rar_provider.conf import rar_settings
from rar_provider.keys import looks_like_path


class Command(BaseCommand):
    help = "List, promote or retire the signing keys of a JWK Set file (key rotation)."
    # A half-rotated file (every key published only) must still be repairable.
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="?", choices=["list", "promote", "retire"], default="list")
        parser.add_argument("kid", nargs="?", help="the key to promote or retire")
        parser.add_argument("--kid", dest="kid_option", help="the same, safe for a kid that starts with '-'")
        parser.add_argument("--jwks-file", help="default: RAR_PROVIDER['SIGNING_KEYS'] if it is a file path")
        parser.add_argument(
            "--force",
            action="store_true",
            help="retire: even though tokens the key signed may still be valid (they will be rejected)",
        )

    def handle(self, *args, action, kid, jwks_file, force, kid_option=None, **options):
        path = self.key_file(jwks_file)
        kid = kid_option or kid
        if action != "list" and not kid:
            raise CommandError(f"{action} needs the kid of a key (manage.py rar_signing_keys lists them).")
        try:
            entries = key_rotation.read_key_file(path)
            if not entries:
                raise CommandError(f"{path} holds no key; create one: rar_generate_key --jwks-file {path}")
            now = int(time.time())
            if action == "list":
                for row in key_rotation.describe(entries):
                    self.stdout.write("  ".join(row))
                return
            if action == "promote":
                changed = key_rotation.promote(entries, kid, now=now)
                if changed == entries:
                    self.stdout.write(f"{kid} signs already; {path} is unchanged.")
                    return
                message = f"{kid} now signs new tokens (on each node as soon as it has {path})."
            else:
                longest = rar_settings.JWT_ACCESS_TOKEN_LIFETIME + rar_settings.JWT_LEEWAY
                changed = key_rotation.retire(entries, kid, now=now, longest_lifetime=longest, force=force)
                message = f"{kid} removed from {path}: tokens it signed no longer verify."
            key_rotation.write_key_file(path, changed)
        except key_rotation.KeyFileError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        self.stdout.write(message)

    @staticmethod
    def key_file(jwks_file: str | None) -> Path:
        if jwks_file:
            return Path(jwks_file)
        configured = rar_settings.SIGNING_KEYS
        if not looks_like_path(configured):
            raise CommandError(
                "RAR_PROVIDER['SIGNING_KEYS'] is not a file; name one with --jwks-file (keys listed in the "
                'settings are rotated by editing them: add "use_for_signing": false, then remove it).'
            )
        return Path(configured)
