"""Settings for every environment, read from the environment.

The defaults are embedded so that `make run` works with nothing else running: a SQLite file, Celery's
filesystem broker, email written to an outbox folder and media on the local disk. Each default is replaced by
an environment variable (see `.env.example`).
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Where the embedded defaults keep their files (SQLite, broker folders, outbox, media).
VAR_DIR = Path(env("CARTOGRAPH_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-development-key-change-me")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "access",
    "catalog",
    "lineage",
    "alerts",
    "ingestion",
    "recommender",
    "promotions",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Lets django-simple-history name the signed-in user on changes made in the admin.
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'cartograph.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Single sign-on with OpenID Connect, off unless OIDC_RP_CLIENT_ID is set; local accounts keep working beside it.
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", default="openid email profile groups")
OIDC_USERNAME_CLAIM = env("OIDC_USERNAME_CLAIM", default="preferred_username")
OIDC_GROUPS_CLAIM = env("OIDC_GROUPS_CLAIM", default="groups")
# {"idp-group": "cartograph-group"}: only mapped groups are managed; empty: claim groups by name, the claim is the truth
OIDC_GROUP_MAP = env.json("OIDC_GROUP_MAP", default={})
LOGIN_REDIRECT_URL_FAILURE = "/sign-in/?sso=failed"
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)  # seconds for each call to the identity provider
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
if OIDC_RP_CLIENT_ID:
    AUTHENTICATION_BACKENDS.insert(0, "access.oidc.GroupSyncOIDCBackend")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "frontend" / "build"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Request size caps: an oversized body is answered with a 400, never read into memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# Email: files in var/outbox by default; EMAIL_URL=smtp://host:port for a real server.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default=f"filemail://{VAR_DIR / 'outbox'}")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Cartograph <cartograph@localhost>")

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: the filesystem broker needs no server; CELERY_BROKER_URL=redis://... in production.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
if CELERY_BROKER_TRANSPORT_OPTIONS:  # the filesystem broker needs its folders before a worker starts
    for folder in ("data_folder_in", "processed_folder", "control_folder"):
        Path(CELERY_BROKER_TRANSPORT_OPTIONS[folder]).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Change events are applied by a Celery task; set to apply them within the receiving request instead (tests).
INGESTION_APPLY_INLINE = env.bool("INGESTION_APPLY_INLINE", default=False)
# A run of the apply task starts this long after the first event that queued it, so that under load one run takes
# a batch of events rather than one each (what an event waits before it is applied, at most).
INGESTION_APPLY_DELAY_SECONDS = env.float("INGESTION_APPLY_DELAY_SECONDS", default=0.25)
# How often the fixed sweeps run (seconds). Each sweep claims its work in the database, so running them more often,
# or from two beat processes at once, never does the same work twice.
CARTOGRAPH_REFRESH_SWEEP_SECONDS = env.float("CARTOGRAPH_REFRESH_SWEEP_SECONDS", default=60.0)
CARTOGRAPH_ALERT_SWEEP_SECONDS = env.float("CARTOGRAPH_ALERT_SWEEP_SECONDS", default=60.0)
CARTOGRAPH_OUTBOX_SWEEP_SECONDS = env.float("CARTOGRAPH_OUTBOX_SWEEP_SECONDS", default=30.0)
CELERY_BEAT_SCHEDULE: dict = {
    # per-dataset schedules live on the dataset (next_refresh_at); this sweep queues the due ones
    "queue-due-dataset-refreshes": {
        "task": "catalog.tasks.datasets_refresh_due_task",
        "schedule": CARTOGRAPH_REFRESH_SWEEP_SECONDS,
    },
    "evaluate-due-direct-alerts": {
        "task": "alerts.tasks.alert_schedules_due_task",
        "schedule": CARTOGRAPH_ALERT_SWEEP_SECONDS,
    },
    "send-alert-emails": {"task": "alerts.tasks.notifications_send_task", "schedule": CARTOGRAPH_OUTBOX_SWEEP_SECONDS},
    # approved access requests that have run out end (their grants go); requesters are reminded before
    "sweep-access-requests": {"task": "access.tasks.access_requests_sweep_task", "schedule": 300.0},
    # received change events are applied by a task queued when they arrive; this sweep catches any left pending
    "apply-pending-change-events": {
        "task": "ingestion.tasks.events_apply_task",
        "schedule": env.float("CARTOGRAPH_EVENTS_SWEEP_SECONDS", default=1.0),
    },
    # every active QuickSight connector is listed, described and reconciled (events keep it current in between)
    "sync-quicksight-connectors": {
        "task": "ingestion.tasks.quicksight_sync_all_task",
        "schedule": env.float("CARTOGRAPH_QUICKSIGHT_SYNC_SECONDS", default=6 * 3600.0),
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first so that a missing or bad token is a 401 with a WWW-Authenticate header.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # ?format= is ours (reports take format=csv); content negotiation uses the Accept header only.
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Cartograph API",
    "DESCRIPTION": "Catalog, lineage and governance of data products and BI assets.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from the installed sidecar package: nothing loads from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # the event-receiving endpoints are plain Django views (ingestion/receive.py): a hook describes them
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "ingestion.schema.receiving_endpoints",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AssetKindEnum": "catalog.choices.AssetKind",
        "AssetStatusEnum": "catalog.choices.AssetStatus",
        "EnvironmentEnum": "catalog.choices.Environment",
        "AccessRequestStatusEnum": "access.choices.RequestStatus",
        "AuditActionEnum": "access.choices.AuditAction",
        "AuditSourceEnum": "access.choices.AuditSource",
        "ChangeEventStatusEnum": "ingestion.choices.EventStatus",
        "EventAnswerEnum": "ingestion.choices.EventAnswer",
        "ChangeEventFormatEnum": "ingestion.choices.EventFormat",
        "ImportJobStatusEnum": "ingestion.choices.ImportStatus",
        "EventSourceKindEnum": "ingestion.choices.SourceKind",
        "PromotionStatusEnum": "promotions.choices.PromotionStatus",
        "PromotionKindEnum": "promotions.choices.PromotionKind",
    },
}

# Views are recorded by a Celery task so the read does not wait for the write.
CARTOGRAPH_RECORD_VIEWS_ASYNC = env.bool("CARTOGRAPH_RECORD_VIEWS_ASYNC", default=True)
# Data: the key that encrypts source passwords at rest (a Fernet key, or any secret it is derived from), upload
# and refresh limits.
CARTOGRAPH_ENCRYPTION_KEY = env("CARTOGRAPH_ENCRYPTION_KEY", default=SECRET_KEY)
CARTOGRAPH_UPLOAD_MAX_BYTES = env.int("CARTOGRAPH_UPLOAD_MAX_BYTES", default=200 * 1024 * 1024)
CARTOGRAPH_REFRESH_TIMEOUT_MS = env.int("CARTOGRAPH_REFRESH_TIMEOUT_MS", default=30 * 60 * 1000)
CARTOGRAPH_VISUAL_TIMEOUT_MS = env.int("CARTOGRAPH_VISUAL_TIMEOUT_MS", default=30_000)
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Alerts: absolute links in emails, and whether creating alerts needs the alerts.create_alerts permission.
CARTOGRAPH_SITE_URL = env("CARTOGRAPH_SITE_URL", default="http://127.0.0.1:8000")
CARTOGRAPH_ALERTS_REQUIRE_PERMISSION = env.bool("CARTOGRAPH_ALERTS_REQUIRE_PERMISSION", default=False)
# How long a worker may hold an outbox email it claimed before another worker may send it (it died mid-send).
CARTOGRAPH_OUTBOX_LEASE_SECONDS = env.int("CARTOGRAPH_OUTBOX_LEASE_SECONDS", default=300)
# Emails one outbox sweep claims (and sends over one SMTP connection); more workers share a larger outbox.
CARTOGRAPH_OUTBOX_BATCH = env.int("CARTOGRAPH_OUTBOX_BATCH", default=50)
CARTOGRAPH_STALE_DAYS_DEFAULT = env.int("CARTOGRAPH_STALE_DAYS_DEFAULT", default=90)
# Promotions: the callable that builds the boto3 QuickSight client (tests name a Stubber-backed one), and how long
# to wait for QuickSight to finish creating an asset.
CARTOGRAPH_PROMOTIONS_CLIENT_FACTORY = env(
    "CARTOGRAPH_PROMOTIONS_CLIENT_FACTORY", default="promotions.aws.quicksight_client"
)
CARTOGRAPH_PROMOTIONS_WAIT_SECONDS = env.float("CARTOGRAPH_PROMOTIONS_WAIT_SECONDS", default=600.0)
CARTOGRAPH_PROMOTIONS_POLL_SECONDS = env.float("CARTOGRAPH_PROMOTIONS_POLL_SECONDS", default=2.0)
# Recommender: rows in each product's stored random sample, relationships the enriched view follows, the share of a
# candidate's rows that must join for it to be recommended, and whether products a user could request are listed.
CARTOGRAPH_RECOMMENDER_SAMPLE_ROWS = env.int("CARTOGRAPH_RECOMMENDER_SAMPLE_ROWS", default=100_000)
CARTOGRAPH_RECOMMENDER_HOPS = env.int("CARTOGRAPH_RECOMMENDER_HOPS", default=1)
CARTOGRAPH_RECOMMENDER_MIN_COVERAGE = env.float("CARTOGRAPH_RECOMMENDER_MIN_COVERAGE", default=0.65)
CARTOGRAPH_RECOMMENDER_SHOW_REQUESTABLE = env.bool("CARTOGRAPH_RECOMMENDER_SHOW_REQUESTABLE", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
