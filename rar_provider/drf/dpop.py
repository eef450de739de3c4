"""DPoP at the resource server (RFC 9449 §7): a DPoP-bound token is used only with its proof.

A token whose claims carry ``cnf: {"jkt": …}`` (§6.1) is accepted only as ``Authorization: DPoP
<token>`` (§7.1) together with a ``DPoP`` proof (§4.3) for this very request — ``htm`` its method,
``htu`` its URL without query — whose ``ath`` is the token's hash, whose ``iat`` is fresh, whose
``jti`` was never used, and whose key is the one the token names. Sent as ``Bearer`` it is refused
(§7.2). A token without ``cnf`` stays a bearer token, and sent with the DPoP scheme is refused.

Refusals are ``401`` with a ``WWW-Authenticate: DPoP`` challenge naming the error
(``invalid_token``, ``invalid_dpop_proof`` or ``use_dpop_nonce``) and the accepted ``algs``. With
``DPOP_NONCE_REQUIRED`` (§9) the ``DPoP-Nonce`` header of a ``use_dpop_nonce`` answer needs
:func:`exception_handler` as DRF's ``EXCEPTION_HANDLER`` (DRF's own adds no other header).

Settings, in ``RAR_PROVIDER_RESOURCE_SERVER``: ``DPOP_ORIGIN`` (this API's public
``scheme://host[:port]``, for ``htu``; default: the request's, as Django builds it) and
``DPOP_NONCE_REQUIRED`` (default ``False``). The algorithms are ``RAR_PROVIDER["DPOP_SIGNING_ALGS"]``.
"""

from __future__ import annotations

import re

from rest_framework.authentication import get_authorization_header
from rest_framework.views import exception_handler as drf_exception_handler

from ..dpop import DPoPProblem, UseDPoPNonce, configured_algorithms, verify_proof
from .config import resource_server_settings
from .tokens import InvalidBearerRequest, InvalidToken, VerifiedAccessToken, challenge

BEARER, DPOP = "Bearer", "DPoP"
#: RFC 6750 §2.1 ``b64token`` / RFC 9449 §7.1 ``token68``.
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
#: Where the scheme and error of a refusal are kept on the request, for the challenge.
CHALLENGE_ATTRIBUTE = "_rar_bearer_challenge"


class DPoPRefusal(InvalidToken):
    """A refusal answered with a ``DPoP`` challenge (RFC 9449 §7.1): 401, ``error`` as given."""

    scheme = DPOP

    def __init__(self, description: str, error: str = "invalid_token", nonce: str | None = None):
        self.error = error
        #: RFC 9449 §9: the nonce to send back in ``DPoP-Nonce`` (with ``use_dpop_nonce``).
        self.dpop_nonce = nonce
        super().__init__(description)


def presented_token(request) -> tuple[str, str] | None:
    """``(scheme, token)`` of an ``Authorization: Bearer`` or ``DPoP`` header; ``None`` for others.

    A header of either scheme that is not exactly one token68 is ``400 invalid_request``.
    """
    scheme, _, credentials = get_authorization_header(request).partition(b" ")
    name = {b"bearer": BEARER, b"dpop": DPOP}.get(scheme.lower())
    if name is None:
        return None
    try:
        token = credentials.decode("ascii").strip(" ")
    except UnicodeDecodeError:
        token = None
    if not token or not _TOKEN68.fullmatch(token):
        error = InvalidBearerRequest(
            f"the Authorization header must be '{name}' and one token (RFC 6750 §2.1, RFC 9449 §7.1)"
        )
        setattr(request, CHALLENGE_ATTRIBUTE, (name, error.error, error.description))
        raise error
    return name, token


def request_uri(request) -> str:
    """The ``htu`` a proof for ``request`` names: ``DPOP_ORIGIN`` (else the request's) and the path."""
    origin = resource_server_settings().get("DPOP_ORIGIN")
    django_request = getattr(request, "_request", request)
    if origin:
        return str(origin).rstrip("/") + django_request.path
    return django_request.build_absolute_uri(django_request.path)


def check_sender(
    scheme: str,
    token: str,
    verified: VerifiedAccessToken,
    request,
    nonce_server: str,
    leeway: int | None = None,
) -> None:
    """RFC 9449 §7: a DPoP-bound token comes with the DPoP scheme and a valid proof of its key;
    an unbound one with the Bearer scheme. ``nonce_server``: whose nonces proofs carry (the API's
    identifier); ``leeway``: clock skew in seconds on the proof's ``iat``. Raises
    :class:`DPoPRefusal` saying what was wrong."""
    jkt = verified.dpop_jkt
    if not jkt:
        if scheme == DPOP:
            raise DPoPRefusal("the token is not DPoP-bound: send it with Authorization: Bearer")
        return
    if scheme != DPOP:
        raise DPoPRefusal(
            "the token is DPoP-bound: send it with Authorization: DPoP and a DPoP proof (RFC 9449 §7.1)"
        )
    django_request = getattr(request, "_request", request)
    value = django_request.META.get("HTTP_DPOP")
    if value is None:
        raise DPoPRefusal("the request has no DPoP proof (the DPoP header)", "invalid_dpop_proof")
    required = resource_server_settings().get("DPOP_NONCE_REQUIRED")
    try:
        proof = verify_proof(
            value,
            method=django_request.method,
            uri=request_uri(request),
            access_token=token,
            nonce_server=nonce_server if required else None,
            leeway=leeway,
        )
    except UseDPoPNonce as problem:
        raise DPoPRefusal(problem.description, problem.error, problem.nonce) from problem
    except DPoPProblem as problem:
        raise DPoPRefusal(problem.description, problem.error) from problem
    if proof.jkt != jkt:
        raise DPoPRefusal("the DPoP proof's key is not the one the token is bound to (cnf.jkt)")
    verified.dpop_proof = proof


def dpop_challenge(realm: str | None, error: str | None = None, description: str | None = None) -> str:
    """RFC 9449 §7.1: ``DPoP realm="…", error="…", error_description="…", algs="ES256 …"``."""
    try:
        algs = " ".join(configured_algorithms())
    except Exception:  # noqa: BLE001 - a bad setting must not hide the refusal (rar_provider.E005 says)
        algs = ""
    return challenge(DPOP, realm, error, description, algs=algs)


def exception_handler(exc, context):
    """DRF's exception handler, plus the ``DPoP-Nonce`` of a ``use_dpop_nonce`` refusal (RFC 9449 §9).

    Set ``REST_FRAMEWORK["EXCEPTION_HANDLER"] = "rar_provider.drf.exception_handler"`` when the API
    requires DPoP nonces (``DPOP_NONCE_REQUIRED``).
    """
    response = drf_exception_handler(exc, context)
    nonce = getattr(exc, "dpop_nonce", None)
    if response is not None and nonce:
        response["DPoP-Nonce"] = nonce
        response["Access-Control-Expose-Headers"] = "WWW-Authenticate, DPoP-Nonce"  # §7.1, §9 (CORS)
    return response
