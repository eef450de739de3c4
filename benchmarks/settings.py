"""Settings of the in-process benchmarks (queries.py, cpu_profile.py): the demo's, DEBUG off.

In-memory SQLite by default; ``BENCH_DATABASE_URL`` (e.g. ``postgres://postgres@127.0.0.1:5432/rar_bench``)
runs them on that server instead (a ``test_`` database is created and dropped). A signing key made
for the run; rate limits high enough never to answer 429; the demo's consent hook stays on.
"""

import environ

from demo_site.settings import *  # noqa: F403
from rar_provider.keys import generate_signing_key

DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
DATABASES = {"default": environ.Env().db("BENCH_DATABASE_URL", default="sqlite://:memory:")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
RAR_PROVIDER = {  # noqa: F405
    **RAR_PROVIDER,  # noqa: F405
    "SIGNING_KEYS": [generate_signing_key("RSA")],
    "RATE_LIMITS": {"par": "1000000/m", "token": "1000000/m"},
}
# The access log of the test client is nobody's: keep the protocol-event log off the terminal.
LOGGING = {**LOGGING, "loggers": {**LOGGING["loggers"], "rar_provider.events": {"level": "CRITICAL"}}}  # noqa: F405
