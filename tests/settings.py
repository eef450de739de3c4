"""Test settings: the demo's, with a fast password hasher and in-memory SQLite."""

from demo_site.settings import *  # noqa: F403

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
# Users' passwords in tests are hashed fast; the demo fixtures' stretched hashes still verify.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    *PASSWORD_HASHERS,  # noqa: F405
]
# The demo's step-up hook is switched on by the tests about it (fixture ``demo_hooks``), not for all.
RAR_PROVIDER = {**RAR_PROVIDER, "CONSENT_HOOKS": []}  # noqa: F405
