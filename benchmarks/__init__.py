"""Figures, not tests: SQL queries per step (queries.py), server CPU per request over HTTP beside
node-oidc-provider and stock django-oauth-toolkit (load.py), and where the CPU goes (cpu_profile.py).
docs/performance.md says how to run them and what they measured."""
