"""Test settings: the demo's, with a fast password hasher and in-memory SQLite."""

from demo_site.settings import *  # noqa: F403

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
# Users' passwords in tests are hashed fast; the demo fixtures' stretched hashes still verify.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    *PASSWORD_HASHERS,  # noqa: F405
]
RAR_PROVIDER = {**RAR_PROVIDER}  # noqa: F405
