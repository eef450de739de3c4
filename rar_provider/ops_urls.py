"""Operations endpoints (rar_provider.views.health). Include at the site root::

    path("", include("rar_provider.ops_urls")),

``/healthz`` (liveness), ``/readyz`` (readiness: database and cache), ``/metrics``
(Prometheus; loopback only unless ``RAR_PROVIDER["METRICS_TOKEN"]`` is set).
"""

from django.urls import path

from .views import health

app_name = "rar_provider_ops"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
]
