"""Operations endpoints: liveness, readiness and Prometheus metrics (docs/deploy.md).

Routed by ``rar_provider.ops_urls``::

    path("", include("rar_provider.ops_urls")),   # /healthz, /readyz, /metrics
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from oauth2_provider.compat import login_not_required

from ..conf import rar_settings

logger = logging.getLogger("rar_provider.health")

#: Headers a reverse proxy adds: a request carrying one came from outside, whatever REMOTE_ADDR says.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


@never_cache
@login_not_required
@require_GET
def healthz(request):
    """Liveness: the process answers HTTP. Touches neither the database nor the cache."""
    return JsonResponse({"status": "ok"})


@never_cache
@login_not_required
@require_GET
def readyz(request):
    """Readiness: 200 when every database and cache answers, else 503 naming what failed."""
    checks: dict[str, str] = {}
    for alias in settings.DATABASES:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
            checks[f"database:{alias}"] = "ok"
        except Exception as exc:  # any driver error means "not ready"
            logger.warning("Readiness: database %r is unreachable: %s", alias, type(exc).__name__)
            checks[f"database:{alias}"] = "unreachable"
    for alias in settings.CACHES:
        try:
            caches[alias].get("rar_provider:readyz")
            checks[f"cache:{alias}"] = "ok"
        except Exception as exc:
            logger.warning("Readiness: cache %r is unreachable: %s", alias, type(exc).__name__)
            checks[f"cache:{alias}"] = "unreachable"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


def may_read_metrics(request) -> bool:
    """``Authorization: Bearer <METRICS_TOKEN>`` when a token is set; else a loopback caller
    whose request came through no proxy (a proxy on the same host also connects from loopback,
    so a request with a forwarding header is refused)."""
    token = rar_settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), str(token).encode()):
            return True
    if any(header in request.META for header in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@never_cache
@login_not_required
@require_GET
def metrics(request):
    """The Prometheus text exposition of this process (or of every gunicorn worker, when
    ``PROMETHEUS_MULTIPROC_DIR`` is set: prometheus-client's multiprocess mode)."""
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        generate_latest,
        multiprocess,
    )

    if not may_read_metrics(request):
        return JsonResponse(
            {"error": "forbidden", "error_description": "Metrics are not public."}, status=403
        )
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
