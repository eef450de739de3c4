"""The issuer identifier (RFC 8414 §2, RFC 9207): set, well formed, and the one DOT names.

- rar_provider.W001  RAR_PROVIDER["ISSUER"] is not set
- rar_provider.E010  RAR_PROVIDER["ISSUER"] is not an issuer identifier (absolute https URL, no query), or
                     DOT's OIDC_ISS_ENDPOINT names another issuer

Reported by :func:`rar_provider.checks.settings.check_settings`.
"""

from __future__ import annotations

from django.core import checks
from oauth2_provider.settings import oauth2_settings

from ..conf import issuer_problem


def issuer_messages(issuer) -> list:
    """W001 (unset) or E010 (not an issuer identifier, or DOT's OIDC_ISS_ENDPOINT says another)."""
    if issuer is None or issuer == "":
        return [
            checks.Warning(
                "RAR_PROVIDER['ISSUER'] is not set: the issuer is derived from each request's host.",
                hint="Set it to the https URL clients know this server by (RFC 8414 §2, RFC 9207).",
                id="rar_provider.W001",
            )
        ]
    problem = issuer_problem(issuer)
    if problem:
        return [
            checks.Error(
                f"RAR_PROVIDER['ISSUER'] is {issuer!r}: it {problem}.",
                hint="The issuer identifier goes into every authorization response, token and metadata URL.",
                id="rar_provider.E010",
            )
        ]
    dot_issuer = oauth2_settings.OIDC_ISS_ENDPOINT
    if dot_issuer and str(dot_issuer).rstrip("/") != issuer.rstrip("/"):
        return [
            checks.Error(
                f"DOT's OIDC_ISS_ENDPOINT {dot_issuer!r} is not RAR_PROVIDER['ISSUER'] {issuer!r}: "
                "the server would name itself two ways.",
                hint='Set OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"] to the same value, or leave it out.',
                id="rar_provider.E010",
            )
        ]
    return []
