"""Coordo settings, read from environment variables.

Local use needs nothing: SQLite in the project folder, DEBUG on, a development key.
Production: COORDO_ENV=production with SECRET_KEY, AUDIT_CHAIN_KEYS, ALLOWED_HOSTS and
DATABASE_URL set; ``python manage.py check --deploy`` then reports no warning. Every setting:
docs/deploy.md.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PRODUCTION = os.environ.get("COORDO_ENV", "development") == "production"

if PRODUCTION:
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "COORDO_ENV=production needs a SECRET_KEY of at least 50 random characters."
        )
else:
    SECRET_KEY = os.environ.get("SECRET_KEY", "coordo-local-development-key-not-for-production-use")

DEBUG = env_bool("DEBUG", default=not PRODUCTION)

# The audit chain's keys, "id:secret,id:secret" (the first seals new events, the others still
# verify older ones: docs/deploy.md, key rotation). Held outside the database, so that whoever
# holds only the database cannot rewrite the chain. Events up to AUDIT_UNKEYED_UNTIL (an event
# id) may predate the keys.
AUDIT_CHAIN_KEYS = {
    key_id.strip(): secret.strip().encode()
    for key_id, _, secret in (
        item.partition(":") for item in os.environ.get("AUDIT_CHAIN_KEYS", "").split(",")
    )
    if key_id.strip() and secret.strip()
}
AUDIT_CHAIN_KEY_ID = next(iter(AUDIT_CHAIN_KEYS), "")
AUDIT_UNKEYED_UNTIL = int(os.environ.get("AUDIT_UNKEYED_UNTIL", "0"))
if PRODUCTION and min(map(len, AUDIT_CHAIN_KEYS.values()), default=0) < 32:
    raise ImproperlyConfigured(
        "COORDO_ENV=production needs AUDIT_CHAIN_KEYS (id:secret, 32+ random characters)."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "viewflow",
    "viewflow.workflow",
    "projects",
    "directory",
    "diagnostic",
    "funding",
    "evaluation",
    "clsm",
    "contracts",
    "documents",
    "audit",
    "notifications",
    "workflows",
    "web",
    "api",
    "demo",
    "config",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.IdleSessionMiddleware",
    "config.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "config.security.SecondFactorMiddleware",
    "viewflow.middleware.SiteMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.security.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.SendNotificationsMiddleware",
    "axes.middleware.AxesMiddleware",
    "config.page_cache.PageCacheMiddleware",
]
if PRODUCTION:  # the collected static files, served by the application server itself
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "web.frontend.menu",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite by default. WAL lets readers work while one writer writes; IMMEDIATE transactions take
# the write lock when they begin, so concurrent writers queue (busy timeout) instead of failing
# with "database is locked" when a read lock would have to be upgraded.
SQLITE_PATH = Path(os.environ.get("SQLITE_PATH", BASE_DIR / "coordo.sqlite3"))
# Connections are closed at the end of each request (CONN_MAX_AGE=0) unless told otherwise: a
# server that starts a thread per request (runserver, or any threaded worker) would otherwise
# leave each finished thread's connection open until PostgreSQL refuses new clients. Keep
# connections (CONN_MAX_AGE=60) only behind a server with a fixed pool of workers, such as
# gunicorn's sync workers, and size PostgreSQL's max_connections to workers × instances.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
    }
    # A file, not memory, for the test database: threads of the concurrency tests then share
    # it through WAL exactly as the server's threads do.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("SQLITE_TEST_PATH", str(BASE_DIR / ".test-coordo.sqlite3"))
    }

# A read replica of PostgreSQL for reports and exports (reporting/replica.py), if any.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["reporting.replica.Router"]

# PostgreSQL's JIT compiler costs seconds on the task queue's query at a region's size (its
# estimated cost passes jit_above_cost) for microseconds saved: Coordo's queries are short.
for database in DATABASES.values():
    if database["ENGINE"] == "django.db.backends.postgresql":
        database.setdefault("OPTIONS", {})["options"] = "-c jit=off"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses while an account or address is locked out
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: after AXES_FAILURE_LIMIT failures for one account, or from one address,
# logins are refused for AXES_COOLOFF_MINUTES — then they work again (never locked for good).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "8"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.security.locked_out"
AXES_CLIENT_IP_CALLABLE = "config.security.axes_client_ip"
AXES_VERBOSE = False
OTP_TOTP_ISSUER = "Coordo"
# A session ends after SESSION_IDLE_MINUTES without a request.
SESSION_COOKIE_AGE = 60 * int(os.environ.get("SESSION_IDLE_MINUTES", "120"))
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "coordo:home"
LOGOUT_REDIRECT_URL = "login"

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True  # stored in UTC
TIME_ZONE = "Europe/Paris"  # shown in Paris time

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production serves collected files through WhiteNoise: compressed, names hashed by content
# (cached for ever by browsers). Development and tests read them where they are.


def uploads_storage(env) -> dict:
    """Where uploaded documents go: this server's disk under MEDIA_ROOT (a volume shared by
    every app server when there are several), or S3-compatible object storage when S3_BUCKET
    is set (django-storages; credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the
    machine's role). Objects stay private: Coordo serves every download itself, to members."""
    if not env.get("S3_BUCKET"):
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env["S3_BUCKET"],
            "endpoint_url": env.get("S3_ENDPOINT_URL") or None,
            "region_name": env.get("S3_REGION") or None,
            "location": env.get("S3_PREFIX", ""),
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }


STORAGES = {
    "default": uploads_storage(os.environ),
    "staticfiles": {
        "BACKEND": "config.static.StaticStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"

# The reverse proxies in front of Coordo (nginx…): with 1, the client's address is the last
# one of X-Forwarded-For, which the proxy sets (audit trail, limit of the public page).
TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # The members' pages already rendered (config/page_cache.py): shared by every worker in
    # Redis with REDIS_URL, else kept by each process (right either way, rendered more often).
    "pages": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],
    }
    if os.environ.get("REDIS_URL")
    else {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pages",
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
}
# The cache counts the public page's submissions per address: in production it must be shared
# by every worker, hence the database (``manage.py createcachetable`` once, after migrate).
if PRODUCTION:
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "coordo_cache",
    }
# How long a stored page may be served while nothing it shows has changed; 0: never stored.
PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "600"))

# Mail (invitations to séances): printed on the console in development, SMTP in production.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "mails"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "coordo@localhost")
# The address of the site, for the links in e-mails.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# Development: the outbox is sent after each request (printed on the console), no cron needed.
NOTIFICATIONS_AFTER_REQUEST = env_bool("NOTIFICATIONS_AFTER_REQUEST", default=DEBUG)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "api.authentication.TokenScope",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerTokenThrottle"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.handle",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Page",
}
# Requests per API token (or per person on the browser session).
API_RATE = os.environ.get("API_RATE", "3600/hour")
SPECTACULAR_SETTINGS = {
    "TITLE": "Coordo API",
    "DESCRIPTION": "Les dispositifs, fiches actions, financements, séances, tâches et le "
    "journal d'audit de Coordo, avec les mêmes droits que les pages.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "FicheStateEnum": "projects.models.action.ActionState",
        "RequestStateEnum": "funding.models.FundingRequest.State",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_errors",
    ],
}

# --- Headers ---------------------------------------------------------------------------------
# Content-Security-Policy: scripts and styles from Coordo's own origin only (no inline script;
# the Material frontend's inline style attributes need 'unsafe-inline' for styles), nothing
# framed, forms posted to Coordo only.
_SELF, _NONE = "'self'", "'none'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        "script-src": [_SELF],
        "style-src": [_SELF, "'unsafe-inline'"],
        "img-src": [_SELF, "data:"],
        "font-src": [_SELF],
        "connect-src": [_SELF],
        "object-src": [_NONE],
        "base-uri": [_SELF],
        "form-action": [_SELF],
        "frame-ancestors": [_NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
ADMIN_PATH = os.environ.get("ADMIN_PATH", "admin/").strip("/") + "/"

# --- Production hardening -------------------------------------------------------------------
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Logs on the standard error, one JSON object a line with LOG_FORMAT=json. The security log
# ("coordo.security": failed logins, lockouts, refusals, permission changes) names people by
# their user id only.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            **({"formatter": "json"} if os.environ.get("LOG_FORMAT") == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        "coordo.security": {"level": os.environ.get("SECURITY_LOG_LEVEL", "INFO")},
        "axes": {"level": "WARNING"},
    },
}
