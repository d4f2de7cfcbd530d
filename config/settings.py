"""tongcang settings. Everything that differs between machines comes from the environment.

Local use needs no variable at all: an embedded PostgreSQL under var/ serves when DATABASE_URL
is unset. Production sets DJANGO_ENV=production and the variables the README lists.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DJANGO_ENV = os.environ.get("DJANGO_ENV", "development")
if DJANGO_ENV not in ("production", "development"):
    # "prod" once ran with DEBUG on and the public development key.
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be 'production' or 'development', not {DJANGO_ENV!r}"
    )
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
else:
    SECRET_KEY = os.environ.get(
        "DJANGO_SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production"
    )

# The keys that encrypt the secrets kept in the database (ERP clients' secrets, shops' API
# credentials): comma-separated, the first encrypts, all decrypt (core/crypto.py).
SECRET_KEYS = env_list("TONGCANG_ERP_SECRET_KEYS") or env_list("TONGCANG_ERP_SECRET_KEY")
if PRODUCTION:
    if not SECRET_KEYS:
        raise ImproperlyConfigured(
            "TONGCANG_ERP_SECRET_KEYS is required in production: the key(s) that encrypt the ERP "
            "clients' secrets and the shops' API credentials (not DJANGO_SECRET_KEY)"
        )
    if SECRET_KEY in SECRET_KEYS:
        raise ImproperlyConfigured(
            "TONGCANG_ERP_SECRET_KEYS must differ from DJANGO_SECRET_KEY: a leaked session key "
            "must not open the stored secrets"
        )
elif not SECRET_KEYS:
    SECRET_KEYS = [SECRET_KEY]

DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver"
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "import_export",
    "simple_history",
    "inventory",
    "channels",
    "promotions",
    "orders",
    "returns",
    "stores",
    "erpbridge",
    "platformsync",
    "demo",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.ChineseUnlessChosenMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

if PRODUCTION:
    # WhiteNoise serves the collected static files; locally runserver and the tests serve them.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "config.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# --- Database: DATABASE_URL, or the embedded PostgreSQL under var/ -------------------------
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"],
            conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
            conn_health_checks=True,
        )
    }
elif PRODUCTION:
    raise RuntimeError("DATABASE_URL must be set when DJANGO_ENV=production")
else:
    from config.embedded_db import embedded_database

    DATABASES = {"default": embedded_database(BASE_DIR)}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time: Simplified Chinese by default, UTC stored, Asia/Shanghai shown -------
LANGUAGE_CODE = "zh-hans"
# Each language is named in its own tongue in the language switcher.
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
MEDIA_ROOT = Path(os.environ.get("TONGCANG_MEDIA_ROOT", BASE_DIR / "var" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# ModelBackend with a user's permissions read in one query instead of two (core/auth.py).
AUTHENTICATION_BACKENDS = ["core.auth.PermissionBackend"]

LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "/"

# Uploads (imports) larger than this are refused before they are parsed.
IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("TONGCANG_IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_UPLOAD_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000
FILE_UPLOAD_HANDLERS = [
    "config.uploads.LimitedUploadHandler",  # refuses an upload over the limit while it streams
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# An XLSX import: at most this many rows, and at most this much once unzipped.
IMPORT_MAX_ROWS = int(os.environ.get("TONGCANG_IMPORT_MAX_ROWS", "100000"))
IMPORT_MAX_UNZIPPED_BYTES = int(
    os.environ.get("TONGCANG_IMPORT_MAX_UNZIPPED_BYTES", str(200 * 1024 * 1024))
)

# django-import-export: only users with the model's add/change permission may import.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# --- Experience stores (stores/) --------------------------------------------------------------
# An unpaid kiosk order is cancelled (its stock released) after this many minutes.
STORE_UNPAID_MINUTES = int(os.environ.get("TONGCANG_STORE_UNPAID_MINUTES", "30"))
# A pick-up order not collected this many days after it was ready: the store is told; after
# STORE_PICKUP_GRACE_DAYS more, it is cancelled and its stock released.
STORE_PICKUP_DAYS = int(os.environ.get("TONGCANG_STORE_PICKUP_DAYS", "7"))
STORE_PICKUP_GRACE_DAYS = int(os.environ.get("TONGCANG_STORE_PICKUP_GRACE_DAYS", "3"))
# Wrong pick-up codes allowed within the window before the order is locked.
STORE_PICKUP_MAX_WRONG = 5
STORE_PICKUP_WRONG_WINDOW_MINUTES = 15

# Who sends the parcels, printed on the waybills: "name;phone;address" (orders/pdf/common.py).
TONGCANG_SENDER = dict(
    zip(
        ("name", "phone", "address"),
        (part.strip() for part in os.environ.get("TONGCANG_SENDER", "").split(";", 2)),
        strict=False,
    )
)
TONGCANG_SENDER = {k: v for k, v in TONGCANG_SENDER.items() if v}

# The ERP message log: rows kept this many days; full-snapshot bodies dropped sooner.
ERP_LOG_RETENTION_DAYS = int(os.environ.get("TONGCANG_ERP_LOG_RETENTION_DAYS", "90"))
ERP_LOG_SNAPSHOT_BODY_DAYS = int(os.environ.get("TONGCANG_ERP_LOG_SNAPSHOT_BODY_DAYS", "7"))
# --- Members, promotions and red packets (promotions/) ---------------------------------------
# Days after hand-over/delivery before a red packet earned on an order is issued (after-sales).
PROMOTIONS_RED_PACKET_WINDOW_DAYS = int(os.environ.get("TONGCANG_RED_PACKET_WINDOW_DAYS", "7"))
# The most a guide may take off an order by hand (元), with a reason.
PROMOTIONS_MANUAL_ADJUSTMENT_LIMIT = os.environ.get("TONGCANG_MANUAL_ADJUSTMENT_LIMIT", "50.00")
# Who sends the enrolment one-time code: "promotions.sms.ConsoleSms" logs it (development).
PROMOTIONS_SMS_PROVIDER = os.environ.get("TONGCANG_SMS_PROVIDER", "promotions.sms.ConsoleSms")
# Minutes a one-time code stays valid.
PROMOTIONS_CODE_MINUTES = int(os.environ.get("TONGCANG_SMS_CODE_MINUTES", "10"))
# Dotted path of the callable giving, per order ref, what issuing red packets needs (the store
# app provides it: promotions.tasks.issue_red_packets calls it; see promotions/redpackets.py).
PROMOTIONS_ORDER_FACTS = os.environ.get(
    "TONGCANG_RED_PACKET_ORDER_FACTS", "stores.selectors.red_packet_order_facts"
)

# --- Tasks: django-q2, ORM broker unless REDIS_URL is set ------------------------------------
Q_CLUSTER = {
    "name": "tongcang",
    "workers": int(os.environ.get("TONGCANG_Q_WORKERS", "2")),
    "timeout": 600,
    "retry": 900,
    "max_attempts": 3,
    "queue_limit": 50,
    "catch_up": False,
    "label": _("background tasks"),
}
if os.environ.get("REDIS_URL"):
    Q_CLUSTER["redis"] = os.environ["REDIS_URL"]
else:
    Q_CLUSTER["orm"] = "default"

# Seconds a stock change waits for others to join its push to the platforms (platformsync/
# push.py); 0 turns the event-driven push off (the every-minute outbox drain alone).
STOCK_PUSH_WINDOW = float(os.environ.get("TONGCANG_STOCK_PUSH_WINDOW", "2"))

# --- Production hardening (manage.py check --deploy passes with DJANGO_ENV=production) -------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("TONGCANG_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
    },
}
