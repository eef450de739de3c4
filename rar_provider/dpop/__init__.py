"""DPoP (RFC 9449): sender-constrained access and refresh tokens, and codes bound to a key.

* :mod:`.proofs` checks one ``DPoP`` proof (§4.3) and names its key (``jkt``, RFC 7638);
* :mod:`.nonces` makes and checks the stateless server nonces of §8 and §9;
* :mod:`.binding` is the authorization server's side: proofs at PAR (§10.1) and at the token
  endpoint (§5), and the bindings of codes and refresh tokens (imports Django views lazily);
* the resource server's side is in :mod:`rar_provider.drf` (§7).

See docs/dpop.md.
"""

from .nonces import is_valid as is_valid_nonce
from .nonces import new_nonce
from .proofs import (
    KEY_TYPES,
    DPoPProblem,
    UseDPoPNonce,
    VerifiedProof,
    access_token_hash,
    configured_algorithms,
    verify_proof,
)

__all__ = [
    "KEY_TYPES",
    "DPoPProblem",
    "UseDPoPNonce",
    "VerifiedProof",
    "access_token_hash",
    "configured_algorithms",
    "is_valid_nonce",
    "new_nonce",
    "verify_proof",
]
