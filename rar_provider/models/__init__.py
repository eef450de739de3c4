"""Models, one module per subject:

* :mod:`.apis`: APIs (resource servers) and their policies;
* :mod:`.detail_types`: the ``authorization_details`` types they register (RFC 9396 §2) and the
  fields the consent page shows;
* :mod:`.clients`: per-client options (PAR required, client authentication, public keys, signed
  request objects, client grants);
* :mod:`.pushed_requests`: pushed authorization requests (RFC 9126 §2);
* :mod:`.grants`: the grant (what a user approved) and its lifecycle states;
* :mod:`.issued`: the codes and tokens issued under a grant, and redeemed codes.

DOT models are referenced through DOT's swappable settings
(``oauth2_settings.APPLICATION_MODEL`` …), as DOT's own migrations do.
"""

from .apis import ACCESS_POLICY_HELP, AccessPolicy, AccessTokenFormat, ConsentPolicy, ResourceServer
from .clients import ClientGrant, ClientGrantType, ClientPolicy, TokenEndpointAuthMethod
from .detail_types import AuthorizationDetailType, DisplayField
from .grants import TRANSITIONS, USABLE, AuthorizationGrant, GrantState, new_grant_id
from .issued import CodeRedemption, IssuedAccessToken, IssuedCode, IssuedRefreshToken
from .pushed_requests import PushedAuthorizationRequest, hash_reference, sha256_hex

__all__ = [
    "ACCESS_POLICY_HELP",
    "TRANSITIONS",
    "USABLE",
    "AccessPolicy",
    "AccessTokenFormat",
    "AuthorizationDetailType",
    "AuthorizationGrant",
    "ClientGrant",
    "ClientGrantType",
    "ClientPolicy",
    "CodeRedemption",
    "ConsentPolicy",
    "DisplayField",
    "GrantState",
    "IssuedAccessToken",
    "IssuedCode",
    "IssuedRefreshToken",
    "PushedAuthorizationRequest",
    "ResourceServer",
    "TokenEndpointAuthMethod",
    "hash_reference",
    "new_grant_id",
    "sha256_hex",
]
