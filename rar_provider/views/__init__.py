from .authorize import AuthorizationView
from .metadata import ServerMetadataView
from .par import PushedAuthorizationRequestView

__all__ = ["AuthorizationView", "PushedAuthorizationRequestView", "ServerMetadataView"]
