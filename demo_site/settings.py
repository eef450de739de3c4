"""Settings of the reference site. Everything can be set from the environment
or an optional ``.env`` file beside manage.py (django-environ)."""

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

# DOT's swappable models, spelled out so Django's migration autodetector can resolve them.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
