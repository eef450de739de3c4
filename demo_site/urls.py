from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("demo/start/", views.start, name="demo-start"),
    path("demo/callback/", views.callback, name="demo-callback"),
    path("demo/transfer/", views.transfer, name="demo-transfer"),
    path("", include("demo_site.payments.urls")),
    path("demo/step-up/", views.step_up, name="demo-step-up"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("rar_provider.urls")),
    path("", include("rar_provider.ops_urls")),
]
