"""rar_provider's endpoints. Include at the site root::

    path("", include("rar_provider.urls")),

DOT's own ``AuthorizationView`` must not be routed beside these: it would
issue codes for authorization_details without showing them.
"""

from django.urls import path

from . import views

app_name = "rar_provider"

urlpatterns = [
    path("oauth/authorize", views.AuthorizationView.as_view(), name="authorize"),
    path("oauth/par", views.PushedAuthorizationRequestView.as_view(), name="par"),
    path("oauth/token", views.TokenView.as_view(), name="token"),
    path("oauth/revoke", views.RevokeTokenView.as_view(), name="revoke"),
    path("oauth/introspect", views.IntrospectionView.as_view(), name="introspect"),
    path("oauth/jwks", views.JWKSView.as_view(), name="jwks"),
    path("oauth/authorizations/", views.AuthorizationsView.as_view(), name="authorizations"),
    path(
        "oauth/authorizations/<int:pk>/revoke",
        views.RevokeAuthorizationView.as_view(),
        name="revoke-authorization",
    ),
    path(
        ".well-known/oauth-authorization-server", views.ServerMetadataView.as_view(), name="server-metadata"
    ),
    path(".well-known/openid-configuration", views.ServerMetadataView.as_view(), name="openid-configuration"),
]
