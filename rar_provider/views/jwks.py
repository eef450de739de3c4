"""The JWK Set of the keys that sign access tokens (RFC 7517 §5, RFC 8414 ``jwks_uri``)."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from oauth2_provider.compat import login_not_required

from ..conf import rar_settings
from ..keys import public_jwks


@method_decorator(login_not_required, name="dispatch")
class JWKSView(View):
    """Public keys only: ``kty``, key material, ``kid``, ``alg`` and ``use: sig``.

    Every configured key: the one that signs, keys published ahead of a rotation (they sign nothing
    yet) and older keys whose tokens may still be live. Cacheable for ``JWKS_MAX_AGE`` seconds.
    """

    http_method_names = ["get", "head"]

    def get(self, request, *args, **kwargs):
        response = JsonResponse(public_jwks())
        response["Content-Type"] = "application/jwk-set+json"
        # Resource servers cache the set; a rotation publishes a new key at least this long before
        # any node signs with it (docs/deploy.md, Rotating the signing key).
        response["Cache-Control"] = f"public, max-age={rar_settings.JWKS_MAX_AGE}"
        response["Access-Control-Allow-Origin"] = "*"
        return response
