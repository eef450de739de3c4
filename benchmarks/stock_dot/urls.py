"""DOT's own views on the demo's paths, and Django's login."""

from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import path
from oauth2_provider import views as oauth2_views

urlpatterns = [
    path("oauth/authorize", oauth2_views.AuthorizationView.as_view(), name="authorize"),
    path("oauth/token", oauth2_views.TokenView.as_view(), name="token"),
    path("oauth/introspect", oauth2_views.IntrospectTokenView.as_view(), name="introspect"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("healthz", lambda request: HttpResponse("ok")),
]
