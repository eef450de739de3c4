"""Settings of the stock DOT baseline: Django's startproject defaults plus django-oauth-toolkit.

Environment: DATABASE_URL (django-environ), SECRET_KEY, ALLOWED_HOSTS. DEBUG is off.
"""

from pathlib import Path

import environ
from django.conf import global_settings

env = environ.Env()
DEBUG = False
SECRET_KEY = env("SECRET_KEY", default="stock-dot-bench-only-secret-key-0123456789abcdef")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "benchmarks.stock_dot.urls"
WSGI_APPLICATION = "benchmarks.stock_dot.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {"default": env.db("DATABASE_URL")}
# The same SQLite options as the demo (docs/database.md), so the engine is configured alike.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The demo's client secrets are stored with a salted SHA-256; rar_provider's hasher (a plain module:
# rar_provider is not an installed app here) verifies them. With DOT's default (PBKDF2) every client
# authentication would cost a large fraction of a second and the comparison would say nothing.
PASSWORD_HASHERS = [
    *global_settings.PASSWORD_HASHERS,
    "rar_provider.hashers.ClientSecretSHA256Hasher",
]
USE_TZ = True
TIME_ZONE = "UTC"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/accounts/login/"
OAUTH2_PROVIDER = {
    "CLIENT_SECRET_HASHER": "client_secret_sha256",
    "SCOPES": {"profile": "See your name and username", "introspection": "Introspect tokens"},
    "DEFAULT_SCOPES": ["profile"],
    "PKCE_REQUIRED": True,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
