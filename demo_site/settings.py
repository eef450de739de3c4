"""Settings of the reference site. Everything can be set from the environment
or an optional ``.env`` file beside manage.py (django-environ)."""

from datetime import timedelta
from pathlib import Path

import environ
from django.conf import global_settings

from rar_provider.pkce import required_for_public_clients

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, True),
    SECRET_KEY=(str, "demo-only-insecure-secret-key-change-me-0123456789abcdef"),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost", "testserver"]),
    RAR_PROVIDER_ISSUER=(str, "http://127.0.0.1:8000"),
    DEMO_AS_URL=(str, ""),
    RAR_SIGNING_KEYS_FILE=(str, ""),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env("DEBUG")
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "oauth2_provider",
    "rest_framework",
    "rar_provider",
    "demo_site",
    "demo_site.payments",
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

ROOT_URLCONF = "demo_site.urls"
WSGI_APPLICATION = "demo_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The project's overrides (branding, login) come before the apps' templates.
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# SQLite under a threaded or multi-process server (docs/database.md): WAL lets readers run beside the
# writer; IMMEDIATE transactions take the write lock when they begin (a deferred one that reads, then
# writes, fails at once with "database is locked"); writers wait up to `timeout` seconds for the lock.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        **DATABASES["default"].get("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Users keep Django's default (slow, stretched) hasher; client secrets get a fast
# one made for long random strings (see rar_provider.hashers).
PASSWORD_HASHERS = [*global_settings.PASSWORD_HASHERS, "rar_provider.hashers.ClientSecretSHA256Hasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

ISSUER = env("RAR_PROVIDER_ISSUER").rstrip("/")

OAUTH2_PROVIDER = {
    "OAUTH2_SERVER_CLASS": "rar_provider.oauth.server.RARServer",
    "OIDC_SERVER_CLASS": "rar_provider.oauth.server.RAROIDCServer",
    "OAUTH2_VALIDATOR_CLASS": "rar_provider.oauth.validator.RARValidator",
    "CLIENT_SECRET_HASHER": "client_secret_sha256",
    "SCOPES": {
        "profile": "See your name and username",
        "accounts": "See your account list",
        "introspection": "Introspect tokens (resource servers only)",
    },
    "DEFAULT_SCOPES": ["profile"],
    # PKCE for public clients; confidential clients may use it and the demo client does.
    "PKCE_REQUIRED": required_for_public_clients,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    # JWT access tokens are verified locally by the API until they expire: keep them short
    # (rar_provider.drf refuses tokens living longer than its MAX_LIFETIME, 3600 s by default).
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    "OIDC_ISS_ENDPOINT": ISSUER,
}

RAR_PROVIDER = {
    "ISSUER": ISSUER,
    "DEFAULT_RESOURCE_SERVER": "urn:demo:payments",
    # A JWK Set file; `make demo` creates it with `manage.py rar_generate_key`.
    "SIGNING_KEYS": env("RAR_SIGNING_KEYS_FILE") or str(BASE_DIR / "var" / "signing-keys.json"),
    # A money transfer above 1,000 asks for the password again before the consent page.
    "CONSENT_HOOKS": ["demo_site.hooks.large_transfers_need_password"],
}

# The demo client (the /demo/ pages) talks to the authorization server over HTTP,
# as a real client would. Default: the issuer.
DEMO_AS_URL = env("DEMO_AS_URL") or ISSUER
DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret"
DEMO_REDIRECT_URI = f"{ISSUER}/demo/callback/"
# The demo's FAPI 2.0 client (the "Try the FAPI 2.0 flow" pages): private_key_jwt with the private key
# `manage.py rar_demo_fapi_client` writes here (`make demo` runs it), DPoP, PAR, PKCE; same redirect URI.
DEMO_FAPI_CLIENT_ID = "demo-fapi"
DEMO_FAPI_KEY_FILE = env("DEMO_FAPI_KEY_FILE", default=str(BASE_DIR / "var" / "demo-fapi-key.json"))

# DOT's swappable models, spelled out so Django's migration autodetector can resolve them.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"

# --- Production serving, limits and observability (issue 11; docs/deploy.md) ----------------------
# `make serve` runs gunicorn with DEBUG=False. The cache is shared by rate limits and lockouts:
# CACHE_URL=redis://host:6379/0 makes them count across workers and nodes (default: per process).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# Static files are collected into STATIC_ROOT (`manage.py collectstatic`) and served by WhiteNoise;
# with DEBUG off their names carry a content hash and they are cached for a year.
# (With DEBUG on, `make demo`, WhiteNoise serves them from the apps' folders: no STATIC_ROOT needed.)
STATIC_ROOT = env("STATIC_ROOT", default=None if DEBUG else str(BASE_DIR / "var" / "static"))
STORAGES = {
    **global_settings.STORAGES,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
INSTALLED_APPS += ["axes", "django_prometheus"]
_security = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware")
MIDDLEWARE.insert(_security + 1, "whitenoise.middleware.WhiteNoiseMiddleware")
MIDDLEWARE = [
    # First: a request whose Content-Length cannot be read is a 400, before any middleware reads it.
    "rar_provider.middleware.MalformedRequestMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    *MIDDLEWARE,
    "axes.middleware.AxesMiddleware",
    "rar_provider.metrics.OAuthErrorMetricsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (docs/deploy.md): SECURE_PROXY_SSL_HEADER.
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
# Login and step-up password guessing: django-axes, counted in the cache (cluster-wide with Redis).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", *global_settings.AUTHENTICATION_BACKENDS]
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "demo/lockout.html"
if DEBUG and CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # `make demo` is one process: its memory cache is right there. `make serve` keeps the warning.
    SILENCED_SYSTEM_CHECKS = ["axes.W001"]
# Per-client rate limits on PAR and token (rar_provider.ratelimit; "" switches one off).
RAR_PROVIDER["RATE_LIMITS"] = {
    "par": env("RAR_RATE_LIMIT_PAR", default="3000/m") or None,
    "token": env("RAR_RATE_LIMIT_TOKEN", default="6000/m") or None,
}
# /metrics answers loopback callers that came through no proxy, or a bearer token (docs/deploy.md).
RAR_PROVIDER["METRICS_TOKEN"] = env("RAR_METRICS_TOKEN", default="") or None
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"events": {"()": "rar_provider.events.JSONFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "events": {"class": "logging.StreamHandler", "formatter": "events"},
    },
    "loggers": {
        # oauthlib's DEBUG records carry authorization codes and tokens: never below INFO.
        "oauthlib": {"level": "INFO"},
        "rar_provider.events": {
            "handlers": ["events"],
            "level": env("RAR_EVENTS_LOG_LEVEL", default="INFO"),
            "propagate": False,
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
}
