"""
URL configuration for hostsite project.

The `urlpatterns` list routes URLs to views. For more information please see:
    https://docs.djangoproject.com/en/5.2/topics/http/urls/
Examples:
Function views
    1. Add an import:  from my_app import views
    2. Add a URL to urlpatterns:  path('', views.home, name='home')
Class-based views
    1. Add an import:  from other_app.views import Home
    2. Add a URL to urlpatterns:  path('', Home.as_view(), name='home')
Including another URLconf
    1. Import the include() function: from django.urls import include, path
    2. Add a URL to urlpatterns:  path('blog/', include('blog.urls'))
"""
from django.contrib import admin
from django.urls import path

urlpatterns = [
    path('admin/', admin.site.urls),
]

# ---- Added as docs/install.md says (tests/test_host_project.py keeps them equal) ----

from django.contrib.auth import views as auth_views
from django.urls import include

urlpatterns += [
    # End users log in before they see the consent page. Keep your own login view if you have one
    # (LOGIN_URL must point to it); else this one, with the minimal page rar_provider ships.
    path("accounts/login/", auth_views.LoginView.as_view(template_name="rar_provider/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # /oauth/authorize, /oauth/par, /oauth/token, /oauth/revoke, /oauth/introspect, /oauth/jwks,
    # /oauth/authorizations/ ("Your authorizations") and the metadata under /.well-known/.
    path("", include("rar_provider.urls")),
]
