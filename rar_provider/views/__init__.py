from .authorizations import AuthorizationsView, RevokeAuthorizationView
from .authorize import AuthorizationView
from .introspect import IntrospectionView
from .jwks import JWKSView
from .metadata import ServerMetadataView
from .par import PushedAuthorizationRequestView
from .revoke import RevokeTokenView
from .token import TokenView

__all__ = [
    "AuthorizationView",
    "AuthorizationsView",
    "IntrospectionView",
    "JWKSView",
    "PushedAuthorizationRequestView",
    "RevokeAuthorizationView",
    "RevokeTokenView",
    "ServerMetadataView",
    "TokenView",
]
