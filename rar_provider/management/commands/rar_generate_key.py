"""Generate a signing key for JWT access tokens (RFC 9068), for a new installation or a rotation.

    manage.py rar_generate_key                       # print a private JWK (put it in SIGNING_KEYS)
    manage.py rar_generate_key --jwks-file keys.json # append a key to a JWK Set file (created 0600)
    manage.py rar_generate_key --jwks-file keys.json --if-missing    # only when the file has no key
    manage.py rar_generate_key --jwks-file keys.json --publish-only  # rotation on several nodes

The newest key (the last one) signs; older keys stay published in the JWKS so tokens they signed
still verify until they expire. With ``--publish-only`` the new key is published but does not sign
until ``manage.py rar_signing_keys promote KID``: on several nodes, every node gets it first
(docs/deploy.md, *Rotating the signing key*). ``rar_signing_keys retire KID`` removes an old key
once its tokens have expired.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rar_provider.key_rotation import KeyFileError, add_key, read_key_file, write_key_file
from rar_provider.keys import generate_signing_key


class Command(BaseCommand):
    help = "Generate a private signing key (JWK) for JWT access tokens."
    # Runs before a key exists, so before checks that might want one.
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("--kty", choices=["RSA", "EC", "OKP"], default="RSA", help="key type")
        parser.add_argument("--size", type=int, default=2048, help="RSA modulus bits (≥ 2048)")
        parser.add_argument("--crv", choices=["P-256", "P-384", "P-521"], default="P-256", help="EC curve")
        parser.add_argument("--jwks-file", help="append the key to this JWK Set file instead of printing it")
        parser.add_argument(
            "--if-missing", action="store_true", help="with --jwks-file: do nothing if it already holds a key"
        )
        parser.add_argument(
            "--publish-only",
            action="store_true",
            help="with --jwks-file: publish the key without signing with it (promote it later with "
            "rar_signing_keys promote KID)",
        )

    def handle(self, *args, kty, size, crv, jwks_file, if_missing, publish_only, **options):
        if kty == "RSA" and size < 2048:
            raise CommandError("RSA keys must be at least 2048 bits (RFC 7518 §3.3).")
        if not jwks_file:
            if if_missing or publish_only:
                raise CommandError(f"--{'if-missing' if if_missing else 'publish-only'} needs --jwks-file.")
            self.stdout.write(json.dumps(generate_signing_key(kty, size, crv), indent=2))
            return
        path = Path(jwks_file)
        try:
            entries = read_key_file(path)
            if entries and if_missing:
                self.stdout.write(f"{path} already holds {len(entries)} key(s); nothing to do.")
                return
            key = generate_signing_key(kty, size, crv)
            entries = add_key(entries, key, publish_only=publish_only, now=int(time.time()))
            write_key_file(path, entries)
        except KeyFileError as exc:
            raise CommandError(str(exc)) from exc
        if publish_only:
            self.stdout.write(
                f"Added key {key['kid']} ({key['alg']}) to {path}, published only: it signs nothing until "
                f"every node has this file and `manage.py rar_signing_keys promote --kid={key['kid']}`."
            )
        else:
            self.stdout.write(f"Added key {key['kid']} ({key['alg']}) to {path}; it now signs new tokens.")
