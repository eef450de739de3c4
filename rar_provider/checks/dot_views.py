"""DOT's own authorization view is not routed beside ours (issue 8).

- rar_provider.E011  DOT's own AuthorizationView (oauth2_provider.urls) is routed beside ours
"""

from __future__ import annotations

from django.core import checks


def _routed_views(patterns, prefix=""):
    """Yield ``(route, view class)`` for every class-based view reachable from ``patterns``."""
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if hasattr(entry, "url_patterns"):
            yield from _routed_views(entry.url_patterns, route)
        else:
            view_class = getattr(entry.callback, "view_class", None)
            if view_class is not None:
                yield route, view_class


@checks.register(checks.Tags.security, checks.Tags.urls)
def check_dot_authorization_view(app_configs=None, **kwargs):
    """DOT's ``AuthorizationView`` shows scopes only: routed beside ours, it is a second way in.

    Requests carrying ``authorization_details`` are refused there anyway
    (:func:`rar_provider.oauth.pipeline.check_endpoint`); this check says the route should go.
    """
    from django.urls import get_resolver
    from oauth2_provider.views import AuthorizationView as DOTAuthorizationView

    try:
        routed = list(_routed_views(get_resolver().url_patterns))
    except Exception:  # noqa: BLE001 - a broken URLconf is reported by Django's own URL checks
        return []
    return [
        checks.Error(
            f"DOT's AuthorizationView is routed at {route!r} (oauth2_provider.urls?): it shows scopes but "
            "not authorization_details, so it is a second authorization endpoint that bypasses "
            "rar_provider's consent page.",
            hint='Remove path(..., include("oauth2_provider.urls")) and route only rar_provider.urls; '
            "include DOT's other views one by one if you need them.",
            obj=view_class,
            id="rar_provider.E011",
        )
        for route, view_class in routed
        if issubclass(view_class, DOTAuthorizationView)
    ]
