"""Test settings: the demo's, with a fast password hasher and in-memory SQLite.

``TEST_DATABASE_URL`` (a django-environ URL such as ``postgres://postgres@127.0.0.1:5432/rar``) runs
the suite on that database instead; pytest-django creates ``test_<name>`` and drops it afterwards.
"""

from pathlib import Path

import environ

from demo_site.settings import *  # noqa: F403
from rar_provider.keys import generate_signing_key

DATABASES = {"default": environ.Env().db("TEST_DATABASE_URL", default="sqlite://:memory:")}
# Users' passwords in tests are hashed fast; the demo fixtures' stretched hashes still verify.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    *PASSWORD_HASHERS,  # noqa: F405
]
# Signing keys made for this test run (RSA, as RFC 9068 §4 requires RS256): never a file on disk.
# The demo's step-up hook is switched on by the tests about it (fixture ``demo_hooks``), not for all.
RAR_PROVIDER = {**RAR_PROVIDER, "SIGNING_KEYS": [generate_signing_key("RSA")], "CONSENT_HOOKS": []}  # noqa: F405
# The cache (rate limits, lockouts) is the test run's own: TEST_CACHE_URL (e.g. redis://127.0.0.1:6379/3),
# else per-process memory; never the environment's CACHE_URL, because every test starts by clearing it.
CACHES = {"default": environ.Env().cache_url("TEST_CACHE_URL", default="locmemcache://")}

# The demo FAPI client's private key: never the checkout's var/ (tests that need one make their own).
DEMO_FAPI_KEY_FILE = str(Path(__file__).resolve().parent / "no-such-dir" / "demo-fapi-key.json")
