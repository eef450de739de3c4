"""A copy of rar_provider.hashers.ClientSecretSHA256Hasher (the baseline imports nothing of rar_provider).

DOT hashes client secrets with Django's default password hasher (PBKDF2 with
about a million iterations), so every client authentication costs a large
fraction of a second of CPU. That stretching protects low-entropy human
passwords; client secrets are long random strings, for which one salted
SHA-256 is the usual answer (as for API keys). Register it and point DOT at it::

    PASSWORD_HASHERS = [*global_settings.PASSWORD_HASHERS,
                        "rar_provider.hashers.ClientSecretSHA256Hasher"]
    OAUTH2_PROVIDER = {..., "CLIENT_SECRET_HASHER": "client_secret_sha256"}
"""

from __future__ import annotations

import hashlib

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_noop as _


class ClientSecretSHA256Hasher(BasePasswordHasher):
    algorithm = "client_secret_sha256"

    def encode(self, password: str, salt: str) -> str:
        self._check_encode_args(password, salt)
        digest = hashlib.sha256((salt + password).encode()).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict:
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded: str) -> dict:
        decoded = self.decode(encoded)
        return {
            _("algorithm"): decoded["algorithm"],
            _("salt"): mask_hash(decoded["salt"], show=2),
            _("hash"): mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        return False

    def harden_runtime(self, password: str, encoded: str) -> None:
        return None
