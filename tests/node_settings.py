"""Settings of the demo when it runs as one node of tests/test_two_nodes.py: the demo's own (DEBUG off,
DATABASE_URL, CACHE_URL, RAR_SIGNING_KEYS_FILE ... from the environment, as `make serve` reads them),
with the lifetimes a key rotation waits for made short enough to run in seconds:
``NODE_TOKEN_LIFETIME`` (JWT_ACCESS_TOKEN_LIFETIME), ``NODE_LEEWAY`` (JWT_LEEWAY) and
``NODE_JWKS_MAX_AGE`` (JWKS_MAX_AGE), all in seconds.
"""

import os

from demo_site.settings import *  # noqa: F403

RAR_PROVIDER = {
    **RAR_PROVIDER,  # noqa: F405
    "JWT_ACCESS_TOKEN_LIFETIME": int(os.environ.get("NODE_TOKEN_LIFETIME", "600")),
    "JWT_LEEWAY": int(os.environ.get("NODE_LEEWAY", "30")),
    "JWKS_MAX_AGE": int(os.environ.get("NODE_JWKS_MAX_AGE", "300")),
}
