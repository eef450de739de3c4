"""Stock django-oauth-toolkit, no rar_provider: the baseline of benchmarks/load.py's comparison.

A `startproject`-style site with DOT's own AuthorizationView, TokenView and IntrospectTokenView,
the same Django, database engine, client, user, lifetimes and gunicorn configuration as the demo.
"""
