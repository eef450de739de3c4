"""Generate a signing key for JWT access tokens (RFC 9068), for a new installation or a rotation.

    manage.py rar_generate_key                       # print a private JWK (put it in SIGNING_KEYS)
    manage.py rar_generate_key --jwks-file keys.json # append a key to a JWK Set file (created 0600)
    manage.py rar_generate_key --jwks-file keys.json --if-missing   # only when the file has no key

The newest key (the last one) signs; older keys stay published in the JWKS
so tokens they signed still verify until they expire. Remove an old key from
the file once its tokens have expired.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

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

    def handle(self, *args, kty, size, crv, jwks_file, if_missing, **options):
        if kty == "RSA" and size < 2048:
            raise CommandError("RSA keys must be at least 2048 bits (RFC 7518 §3.3).")
        if not jwks_file:
            if if_missing:
                raise CommandError("--if-missing needs --jwks-file.")
            self.stdout.write(json.dumps(generate_signing_key(kty, size, crv), indent=2))
            return
        path = Path(jwks_file)
        keys = self.read(path)
        if keys and if_missing:
            self.stdout.write(f"{path} already holds {len(keys)} key(s); nothing to do.")
            return
        key = generate_signing_key(kty, size, crv)
        keys.append(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp: a new file (O_EXCL), mode 0600 whatever the umask or a stale temp file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump({"keys": keys}, handle, indent=2)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)  # never a half-written key file
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.stdout.write(f"Added key {key['kid']} ({key['alg']}) to {path}; it now signs new tokens.")

    def read(self, path: Path) -> list:
        if not path.exists():
            return []
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            raise CommandError(f"{path} cannot be read ({exc.strerror}); not touching it.") from exc
        except ValueError as exc:
            raise CommandError(f"{path} is not a JWK Set (invalid JSON: {exc}); not touching it.") from exc
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise CommandError(f'{path} is not a JWK Set ({{"keys": [...]}}); not touching it.')
        return data["keys"]
