"""The authorization endpoint's steps (RFC 6749 §4.1.1–§4.1.2, RFC 9126 §4, RFC 9396 §3).

* :mod:`.request`: reading the authorization request — from the query, or from the pushed
  request a ``request_uri`` names (RFC 9126 §4);
* :mod:`.outcome`: deciding what happens once the request is valid and the user known — consent
  hooks (step up, refuse), no consent needed, a stored grant reused, or ask;
* :mod:`.consent_form`: the consent page's signed ``transaction`` and the user's (partial)
  approval (RFC 9396 §3);
* :mod:`.responses`: redirects to the client with ``iss`` (RFC 9207) and error pages
  (RFC 6749 §4.1.2.1).

The view, :class:`rar_provider.views.authorize.AuthorizationView`, ties them together; the grant
they produce is :mod:`rar_provider.grants`.
"""
