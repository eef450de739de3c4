"""PKCE policy helpers for DOT's ``PKCE_REQUIRED`` (which takes a callable of client_id).

Safe to import from a settings module: models are loaded on call.
"""

from __future__ import annotations


def required_for_public_clients(client_id: str) -> bool:
    """RFC 9700 §2.1.1: PKCE is required for public clients; confidential ones may use it.

    Unknown clients count as public (the request then fails on client_id anyway).
    """
    from oauth2_provider.models import get_application_model

    Application = get_application_model()
    client_type = (
        Application.objects.filter(client_id=client_id).values_list("client_type", flat=True).first()
    )
    return client_type != Application.CLIENT_CONFIDENTIAL
