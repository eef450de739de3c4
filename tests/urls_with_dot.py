"""The demo's URLs plus DOT's own ``oauth2_provider.urls`` at ``/o/``, as most DOT sites have them."""

from django.urls import include, path

from demo_site.urls import urlpatterns as demo_urlpatterns

urlpatterns = [*demo_urlpatterns, path("o/", include("oauth2_provider.urls"))]
