"""Shequ settings. Everything that differs between a laptop and production comes from the
environment (see docs/operations.md); the defaults are the safe embedded demo set-up."""

import contextlib
import json
import os
import sys
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(os.environ.get("SHEQU_HOME", Path.cwd()))
VAR_DIR = Path(os.environ.get("SHEQU_VAR_DIR", PROJECT_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_json(name: str, default):
    """A JSON value from the environment; malformed JSON stops the start with its position."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {exc}") from exc


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and os.environ.get("SHEQU_PRODUCTION"):
        raise RuntimeError("SECRET_KEY must be set in production (see docs/operations.md)")
    # Embedded demo only: a fixed development key. Production sets SECRET_KEY.
    SECRET_KEY = "shequ-insecure-demo-key-change-me-in-production-0123456789abcdef"

# Encryption at rest of ID numbers and phones (core/crypto.py): "<id>:<base64 32 bytes>[,...]",
# the first key encrypts, all decrypt; and the HMAC key of the lookup hashes. Production refuses
# to start without them; the demo uses fixed, public keys.
SHEQU_DATA_KEY = os.environ.get("SHEQU_DATA_KEY", "")
SHEQU_HASH_KEY = os.environ.get("SHEQU_HASH_KEY", "")
if not (SHEQU_DATA_KEY and SHEQU_HASH_KEY):
    if os.environ.get("SHEQU_PRODUCTION"):
        raise RuntimeError(
            "SHEQU_DATA_KEY and SHEQU_HASH_KEY must be set in production (see docs/operations.md)"
        )
    from shequ.core.crypto_demo import DEMO_DATA_KEY, DEMO_HASH_KEY

    SHEQU_DATA_KEY = SHEQU_DATA_KEY or DEMO_DATA_KEY
    SHEQU_HASH_KEY = SHEQU_HASH_KEY or DEMO_HASH_KEY

ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "huey.contrib.djhuey",
    "shequ.core",
    "shequ.areas",
    "shequ.people",
    "shequ.cases",
    "shequ.cases.open311",
    "shequ.campaigns",
    "shequ.dashboards",
    "shequ.governance",
    "shequ.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # user.is_verified(): the session signed in with a TOTP code (core/twofactor.py).
    "django_otp.middleware.OTPMiddleware",
    # Who is acting, for the audit trail (governance/context.py).
    "shequ.governance.context.AuditContextMiddleware",
    "shequ.core.middleware.SessionTimeoutMiddleware",
    # django-csp's, with the settings' policy built once (core/middleware.py).
    "shequ.core.middleware.CSPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "shequ.core.middleware.NoStorePersonalDataMiddleware",
    # Last, as django-axes asks: it turns a lock-out into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "shequ.urls"
WSGI_APPLICATION = "shequ.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shequ.core.context_processors.shequ",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
# Embedded SQLite by default; DATABASE_URL (postgres://...) in production and in CI's second run.
DEFAULT_SQLITE = VAR_DIR / "shequ.sqlite3"
if not os.environ.get("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA case_sensitive_like=ON; PRAGMA foreign_keys=ON;"
            ),
        }
    )
elif int(os.environ.get("DB_PREPARE_THRESHOLD", "2")) > 0:
    # PostgreSQL: parameters travel apart from the SQL (server-side binding), and a statement
    # run twice on a connection is prepared, so the server parses and plans it once, not on
    # every request (the hot paths, such as a visit sync, halve their database CPU). Set
    # DB_PREPARE_THRESHOLD=0 behind a transaction-mode pooler such as PgBouncer < 1.21, which
    # cannot keep prepared statements.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "server_side_binding": True,
            "prepare_threshold": int(os.environ.get("DB_PREPARE_THRESHOLD", "2")),
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache ----------------------------------------------------------------------------------
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- background jobs (Huey) ------------------------------------------------------------------
# SQLite storage under VAR_DIR by default, Redis when REDIS_URL is set; run the consumer with
# `shequ run_huey`. Tests run jobs immediately, in process (HUEY_IMMEDIATE=1 does it anywhere).
if os.environ.get("REDIS_URL"):
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "shequ",
        "url": os.environ["REDIS_URL"],
        "immediate": env_bool("HUEY_IMMEDIATE", "pytest" in sys.modules),
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "shequ",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": env_bool("HUEY_IMMEDIATE", "pytest" in sys.modules),
    }

# --- accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out user before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lock-out after repeated failures (django-axes): per user name and address.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.5"))  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLE_ACCESS_FAILURE_LOG = True

# Two-factor sign-in (django-otp TOTP, core/twofactor.py): roles that may reveal enrol an
# authenticator app; a reveal needs a session signed in with the code (or, through the API, the
# code in the X-OTP-Code header). The issuer is the name authenticator apps show.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Shequ")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a device's secret key
SHEQU_2FA_PENDING_SECONDS = 300  # between a right password and the code

# Sessions end after SESSION_IDLE_SECONDS without a request and, whatever the activity,
# SESSION_ABSOLUTE_SECONDS after sign-in (core/middleware.py: SessionTimeoutMiddleware keeps
# both stamps and renews the session, its row and cookie, once a minute of activity at most).
SESSION_IDLE_SECONDS = int(os.environ.get("SESSION_IDLE_SECONDS", str(30 * 60)))
SESSION_ABSOLUTE_SECONDS = int(os.environ.get("SESSION_ABSOLUTE_SECONDS", str(10 * 3600)))
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
SESSION_SAVE_EVERY_REQUEST = False  # written when changed (see above)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)

# --- data use (governance) ------------------------------------------------------------------
# Audit events are kept AUDIT_RETENTION_DAYS (never under 180: `shequ purge_audit` refuses);
# an approved export must be produced within EXPORT_APPROVAL_DAYS. Rate limits per user
# (core/ratelimit.py, {purpose: (uses, window in seconds)}) add to its defaults; producing an
# export counts as "export" (10 an hour by default).
AUDIT_RETENTION_DAYS = int(os.environ.get("AUDIT_RETENTION_DAYS", "365"))
EXPORT_APPROVAL_DAYS = int(os.environ.get("EXPORT_APPROVAL_DAYS", "7"))
SHEQU_RATE_LIMITS = {"export_request": (20, 3600)}

# --- resident requests (cases) --------------------------------------------------------------
# The trained classifier's file (default VAR_DIR/models/classifier.npz), a city's own extra
# keywords for the fallback rules as JSON ({"transport": ["共享单车"]}), and what Open311
# discovery announces. See docs/operations.md.
SHEQU_CLASSIFIER_MODEL = os.environ.get("SHEQU_CLASSIFIER_MODEL", "")
SHEQU_CLASSIFIER_KEYWORDS = env_json("SHEQU_CLASSIFIER_KEYWORDS", {})
OPEN311_JURISDICTION = os.environ.get("OPEN311_JURISDICTION", "510100")
OPEN311_CONTACT = os.environ.get("OPEN311_CONTACT", "")

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- static ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
# WhiteNoise serves from here after collectstatic; it warns on every request if it is missing.
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's, with the user's role assignments read in the same query (core/api/...).
        "shequ.core.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # django-filter's backend, refusing empty or mistyped values of typed filters (400).
    "DEFAULT_FILTER_BACKENDS": ["shequ.core.api.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "shequ.core.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shequ API",
    "DESCRIPTION": (
        "Community governance platform: the governance tree, places, people and households. "
        "Every list and object is scoped to the caller's areas; personal fields are masked."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the vendored drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RevealFieldEnum": "shequ.people.api.serializers.REVEAL_FIELD_CHOICES",
        "VisitOutcomeEnum": "shequ.campaigns.models.Outcome.choices",
    },
}

# --- security -------------------------------------------------------------------------------
# Content Security Policy (django-csp): scripts and styles only from our own origin. Pages pass
# data to scripts with json_script; there is no inline script or event handler anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("SHEQU_HTTPS", False):
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
