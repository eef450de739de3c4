"""DPoP at the authorization server (RFC 9449 §5, §10): proofs at PAR and token, and what they bind.

* **PAR** (§10.1): a ``DPoP`` proof, or the ``dpop_jkt`` parameter, binds the pushed request to a
  key; with both, they must name the same key. A proof's key is kept as the request's ``dpop_jkt``
  (:func:`bind_pushed_request`), so the authorization endpoint treats both ways alike: the code it
  issues is bound to that key (``IssuedCode.dpop_jkt``).
* **Token** (§5): the token view checks the proof once (:func:`verify_token_request`) and leaves it
  in the request's ``META`` under :data:`PROOF`, which DOT copies into the oauthlib request the
  validator sees (:func:`proof_of`). A bound code needs a proof made with its key
  (:func:`check_code_binding`, §10); so does a refresh token issued with DPoP
  (:func:`check_refresh_binding`, §5). Everything issued with a proof is bound to its key: the
  access token (``cnf.jkt``, ``token_type: DPoP``) and the refresh token.

Errors: a bad proof is ``400 invalid_dpop_proof``; a missing or stale nonce (``DPOP_NONCE_REQUIRED``)
is ``400 use_dpop_nonce`` with a fresh ``DPoP-Nonce`` header (§8); a binding the request does not
satisfy is ``400 invalid_grant``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import JsonResponse
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from ..adapter import get_adapter
from ..conf import rar_settings
from . import nonces
from .proofs import DPoPProblem, VerifiedProof, verify_proof

#: The ``META`` key (copied by DOT into the oauthlib request's headers) of the token request's
#: verified proof. Not an ``HTTP_`` key: no client header can set it.
PROOF = "rar_provider.dpop_proof"
HEADER = "HTTP_DPOP"


def endpoint_uri(request) -> str:
    """The URI a proof for this request must name (``htu``): the issuer's origin and the path."""
    issuer = urlsplit(get_adapter().issuer(request))
    return f"{issuer.scheme}://{issuer.netloc}{request.path}"


def nonce_server() -> str | None:
    """The server whose nonce proofs must carry, or ``None`` when nonces are not required (§8)."""
    return nonces.AUTHORIZATION_SERVER if rar_settings.DPOP_NONCE_REQUIRED else None


def proof_of_request(request, *, required: bool = False) -> VerifiedProof | None:
    """The verified proof of a Django request to PAR or token, ``None`` without a ``DPoP`` header.

    Raises :class:`~.proofs.DPoPProblem` (or ``UseDPoPNonce``); ``required`` refuses a request
    without a proof.
    """
    value = request.META.get(HEADER)
    if value is None:
        if required:
            raise DPoPProblem("a DPoP proof is required: this server issues DPoP-bound tokens only")
        return None
    return verify_proof(value, method=request.method, uri=endpoint_uri(request), nonce_server=nonce_server())


def error_response(problem: DPoPProblem) -> JsonResponse:
    """RFC 9449 §5 / §8: ``400`` with the error, and a fresh ``DPoP-Nonce`` when one is asked for."""
    from ..views.oauth import oauth_error_response

    headers = (
        {"DPoP-Nonce": problem.nonce, "Access-Control-Expose-Headers": "DPoP-Nonce"}
        if problem.nonce
        else None
    )
    return oauth_error_response(problem.error, problem.description, 400, headers)


def bind_pushed_request(request, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """RFC 9449 §10.1: the pushed request's parameters, with ``dpop_jkt`` when a proof was sent.

    A ``dpop_jkt`` parameter and a proof for another key are refused (``invalid_dpop_proof``).
    """
    proof = proof_of_request(request)
    if proof is None:
        return pairs
    sent = dict(pairs).get("dpop_jkt")
    if sent is None:
        return [*pairs, ("dpop_jkt", proof.jkt)]
    if sent != proof.jkt:
        raise DPoPProblem(
            "dpop_jkt is not the thumbprint of the DPoP proof's key: send one key (RFC 9449 §10.1)"
        )
    return pairs


def verify_token_request(request) -> None:
    """Check the token request's proof (``DPOP_REQUIRED``: there must be one) and keep it for the
    validator under :data:`PROOF`. Raises :class:`~.proofs.DPoPProblem`."""
    request.META[PROOF] = proof_of_request(request, required=rar_settings.DPOP_REQUIRED)


def finish_token_response(response) -> None:
    """§8.2: with nonces required, every token response names the nonce to use next."""
    if rar_settings.DPOP_NONCE_REQUIRED and "DPoP-Nonce" not in response:
        response["DPoP-Nonce"] = nonces.new_nonce()
        response["Access-Control-Expose-Headers"] = "DPoP-Nonce"  # §8: readable by browser clients


def proof_of(request) -> VerifiedProof | None:
    """The token request's verified proof, read from the oauthlib ``request`` (or ``None``)."""
    proof = (getattr(request, "headers", None) or {}).get(PROOF)
    return proof if isinstance(proof, VerifiedProof) else None


def bound_key(request) -> str:
    """The ``jkt`` the tokens issued for this oauthlib request are bound to, or ``""``."""
    proof = proof_of(request)
    return proof.jkt if proof is not None else ""


def check_code_binding(jkt: str, request) -> None:
    """RFC 9449 §10: a code bound to a key (``dpop_jkt``) is exchanged with a proof of that key."""
    if not jkt:
        return
    proof = proof_of(request)
    if proof is None:
        raise oauthlib_errors.InvalidGrantError(
            description="This authorization code is bound to a DPoP key (dpop_jkt): send a DPoP proof "
            "made with that key (RFC 9449 §10).",
            request=request,
        )
    if proof.jkt != jkt:
        raise oauthlib_errors.InvalidGrantError(
            description="The DPoP proof's key is not the one this authorization code is bound to "
            "(dpop_jkt, RFC 9449 §10).",
            request=request,
        )


def is_public(client) -> bool:
    return getattr(client, "client_type", None) != getattr(client, "CLIENT_CONFIDENTIAL", "confidential")


def check_refresh_binding(jkt: str, request) -> None:
    """RFC 9449 §5: a refresh token issued with DPoP is used with a proof — of the same key for a
    public client (its refresh token is bound to the key); any key for a confidential client (its
    refresh token is sender-constrained by client authentication), never none (no downgrade)."""
    if not jkt:
        return
    proof = proof_of(request)
    if proof is None:
        raise oauthlib_errors.InvalidGrantError(
            description="This refresh token was issued with DPoP: send a DPoP proof (RFC 9449 §5).",
            request=request,
        )
    if proof.jkt != jkt and is_public(request.client):
        raise oauthlib_errors.InvalidGrantError(
            description="The DPoP proof's key is not the one this refresh token is bound to (RFC 9449 §5).",
            request=request,
        )
