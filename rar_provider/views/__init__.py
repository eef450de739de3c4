from .authorizations import AuthorizationsView, RevokeAuthorizationView
from .authorize import AuthorizationView
from .metadata import ServerMetadataView
from .par import PushedAuthorizationRequestView

__all__ = [
    "AuthorizationView",
    "AuthorizationsView",
    "PushedAuthorizationRequestView",
    "RevokeAuthorizationView",
    "ServerMetadataView",
]
