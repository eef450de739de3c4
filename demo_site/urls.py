from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import fapi_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("demo/start/", views.start, name="demo-start"),
    path("demo/callback/", views.callback, name="demo-callback"),
    path("demo/transfer/", views.transfer, name="demo-transfer"),
    path("demo/fapi/start/", fapi_views.start, name="demo-fapi-start"),
    path("demo/fapi/token/", fapi_views.token, name="demo-fapi-token"),
    path("demo/fapi/transfer/", fapi_views.transfer, name="demo-fapi-transfer"),
    path("demo/fapi/refresh/", fapi_views.refresh, name="demo-fapi-refresh"),
    path("", include("demo_site.payments.urls")),
    path("demo/step-up/", views.step_up, name="demo-step-up"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("rar_provider.urls")),
    path("", include("rar_provider.ops_urls")),
]
