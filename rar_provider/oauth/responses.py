"""Building authorization responses (RFC 6749 §4.1.2, RFC 9207)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse


def add_query_params(uri: str, params: dict[str, str | None]) -> str:
    """Add ``params`` to ``uri``'s query, replacing any of the same name (None values are skipped)."""
    parts = urlparse(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunparse(parts._replace(query=urlencode(query)))


def with_issuer(uri: str, issuer: str) -> str:
    """RFC 9207 §2: every authorization response carries ``iss``."""
    return add_query_params(uri, {"iss": issuer})


def error_redirect_uri(
    redirect_uri: str, error: str, description: str | None, state: str | None, issuer: str
) -> str:
    """An authorization error response (RFC 6749 §4.1.2.1) with ``iss`` (RFC 9207)."""
    return add_query_params(
        redirect_uri,
        {"error": error, "error_description": description, "state": state or None, "iss": issuer},
    )
