"""Settings of the demo when it runs as one node of tests/test_two_nodes.py: the demo's own (DEBUG off,
DATABASE_URL, CACHE_URL, RAR_SIGNING_KEYS_FILE ... from the environment, as `make serve` reads them),
with the lifetimes a key rotation waits for made short enough to run in seconds:
``NODE_TOKEN_LIFETIME`` (JWT_ACCESS_TOKEN_LIFETIME), ``NODE_LEEWAY`` (JWT_LEEWAY) and
``NODE_JWKS_MAX_AGE`` (JWKS_MAX_AGE), all in seconds. DPoP (tests/test_two_nodes_dpop.py): server
nonces are required, and the Payments API names the public origin a load balancer would give both
nodes (``DPOP_ORIGIN``), so that a proof names one URL whichever node serves it.
"""

import os

from demo_site.settings import *  # noqa: F403

RAR_PROVIDER = {
    **RAR_PROVIDER,  # noqa: F405
    "JWT_ACCESS_TOKEN_LIFETIME": int(os.environ.get("NODE_TOKEN_LIFETIME", "600")),
    "JWT_LEEWAY": int(os.environ.get("NODE_LEEWAY", "30")),
    "JWKS_MAX_AGE": int(os.environ.get("NODE_JWKS_MAX_AGE", "300")),
    "DPOP_NONCE_REQUIRED": True,
}
RAR_PROVIDER_RESOURCE_SERVER = {"DPOP_ORIGIN": ISSUER}  # noqa: F405
