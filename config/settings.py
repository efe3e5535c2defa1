"""One settings file, read from the environment (see README, "Configuration")."""

import base64
import hashlib
import importlib.util
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean, got {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def envfloat(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    try:
        return float(value) if value else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from exc


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000")
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "knox",
    "axes",
    "waste",
    "logistics",
    "recycling",
    "emergency",
    "django_htmx",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "web.limits.RequestSizeLimitMiddleware",  # before anything reads the body (CSRF reads forms)
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "web.acting.ActingOrgMiddleware",
    "web.errors.FramedErrorsMiddleware",
    "axes.middleware.AxesMiddleware",
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
                "django.template.context_processors.i18n",
                "web.context_processors.frame",
            ]
        },
    }
]

# --- Database: SpatiaLite file by default (embedded), PostGIS in production and tests.
DATABASE_URL = os.environ.get("DATABASE_URL") or f"spatialite:///{VAR_DIR / 'zerowaste.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 0))}
DB_IS_POSTGIS = DATABASES["default"]["ENGINE"] == "django.contrib.gis.db.backends.postgis"
if not DB_IS_POSTGIS:
    # SQLite, shared by the web and worker processes: write-ahead logging, so that readers never wait
    # for the writer nor the writer for readers; every transaction takes the write lock when it
    # begins (IMMEDIATE), so that two writers queue on the busy timeout instead of one failing with
    # "database is locked" when its read lock cannot be upgraded (which no timeout helps).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=envint("SQLITE_BUSY_TIMEOUT_SECONDS", 30),
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    )
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-spatialite.sqlite3")}
# PostgreSQL runs with two roles (README, "Database roles and limits"): DATABASE_URL names the
# application role the web, worker and beat processes use; DATABASE_OWNER_URL names the role that
# owns the tables and runs `migrate` (and `flush`, `import_roads`). Same server and database, other role.
DATABASE_OWNER_URL = os.environ.get("DATABASE_OWNER_URL", "")
DATABASE_OWNER: dict[str, str] | None = None
DATABASE_APP_ROLE = DATABASES["default"].get("USER", "")
if DATABASE_OWNER_URL:
    _owner = dj_database_url.parse(DATABASE_OWNER_URL)
    if not DB_IS_POSTGIS:
        raise ImproperlyConfigured("DATABASE_OWNER_URL is for PostgreSQL; DATABASE_URL names another database engine")
    _where = ("ENGINE", "HOST", "PORT", "NAME")
    if any(_owner.get(k) != DATABASES["default"].get(k) for k in _where):
        raise ImproperlyConfigured(
            "DATABASE_OWNER_URL must name the same server and database as DATABASE_URL (only the role differs)"
        )
    if not _owner.get("USER") or _owner["USER"] == DATABASE_APP_ROLE:
        raise ImproperlyConfigured(
            "DATABASE_OWNER_URL must name the owner role, a different role from DATABASE_URL's application role"
        )
    DATABASE_OWNER = {"USER": _owner["USER"], "PASSWORD": _owner.get("PASSWORD", "")}
SPATIALITE_LIBRARY_PATH = os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# People read Chinese first: zh-hans unless the browser (Accept-Language) or the user asks for English.
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
LOCALE_PATHS = [BASE_DIR / "web" / "locale"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
WHITENOISE_USE_FINDERS = DEBUG

# --- Web pages (web/): session login, CSP, maps
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 3600)
CSRF_FAILURE_VIEW = "web.errors.csrf_failure"
# A city's own tile server (public maps in China need an approved basemap); empty: plain background.
MAP_STYLE_URL = os.environ.get("MAP_STYLE_URL", "")
# Only the product's own origin. MapLibre's CSP build loads its worker from a URL under 'self'
# (maplibregl.setWorkerUrl), so no blob: worker-src is needed; images may be data:/blob: (QR codes,
# map sprites). ECharts and MapLibre style elements through the CSSOM, which CSP allows.
_map_origin = os.environ.get("MAP_TILE_ORIGIN", "")  # e.g. https://tiles.city.example for MAP_STYLE_URL
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *([_map_origin] if _map_origin else [])],
        "connect-src": ["'self'", *([_map_origin] if _map_origin else [])],
        "font-src": ["'self'"],
        "worker-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "waste.api.authentication.DeviceTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "waste.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["waste.api.filters.StrictFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "waste.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "waste.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["waste.api.throttles.WriteRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"login": os.environ.get("LOGIN_THROTTLE_RATE", "30/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Named so that waste.Device can point at the token model through the swappable setting knox declares.
KNOX_TOKEN_MODEL = "knox.AuthToken"
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": timedelta(hours=envint("TOKEN_TTL_HOURS", 24 * 30)),
    "AUTO_REFRESH": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Zero-waste city: solid-waste lifecycle tracking API",
    "DESCRIPTION": "Batches, scans, manifests, routes and ledgers. Errors share one shape: "
    '{"error": {"code", "message", "fields": {"path": ["..."]}}}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name get names of their own (else drf-spectacular hashes them).
    "ENUM_NAME_OVERRIDES": {
        "SiteKindEnum": "waste.models.sites.SiteKind",
        "MemberRoleEnum": "waste.models.parties.MemberRole",
        "BatchStatusEnum": "waste.models.batches.BatchStatus",
        "WasteClassEnum": "logistics.models.WasteClass",
        # Several models have a "kind" or "status" field with its own choices: name each set.
        "IncidentKindEnum": "emergency.models.IncidentKind",
        "IncidentStatusEnum": "emergency.models.IncidentStatus",
        "EntryKindEnum": "emergency.models.EntryKind",
        "DeviceKindEnum": "logistics.models.DeviceKind",
        "StopKindEnum": "logistics.models.StopKind",
        "StopStatusEnum": "logistics.models.StopStatus",
        "TripStatusEnum": "logistics.models.TripStatus",
        "PickupStatusEnum": "logistics.models.PickupStatus",
        "PlanStatusEnum": "logistics.models.PlanStatus",  # the same choices as JobStatus
        "OutputKindEnum": "recycling.models.OutputKind",
        "OfferStatusEnum": "recycling.models.OfferStatus",
        "ExportKindEnum": "waste.models.compliance.ExportKind",
        "AlertStatusEnum": "waste.models.compliance.AlertStatus",
        "ManifestStatusEnum": "waste.models.manifests.ManifestStatus",
    },
}

# --- Failed-login lockout (django-axes): per username and address.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = envbool("AXES_ENABLED", True)
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "web.errors.lockout"

# --- Celery: Redis in production; kombu's SQLAlchemy transport over SQLite when embedded.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
CELERY_TASK_IGNORE_RESULT = True
# Jobs survive their workers: a task is acknowledged when it ends, and given back to the broker when
# its worker is lost; the visibility timeout (after which Redis re-delivers an unacknowledged task) is
# longer than the longest job (a three-year export). Every task is idempotent, so a re-delivery is harmless.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# (Redis only: kombu's SQLAlchemy transport of the embedded default refuses the option.)
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 4 * 3600)}
    if CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
    else {}
)
# The web process sends a job once after commit, without waiting for a broker that does not answer.
CELERY_BROKER_CONNECTION_TIMEOUT = envfloat("CELERY_BROKER_CONNECTION_TIMEOUT", 2.0)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE

# --- Domain settings
GEOFENCE_RADIUS_M = envfloat("GEOFENCE_RADIUS_M", 300.0)  # farther: the scan is flagged off_site
# The map a driver's phone opens for a stop ({lat}, {lon}, WGS84; {name}); nothing is fetched by us.
NAVIGATION_MAP_URL = os.environ.get(
    "NAVIGATION_MAP_URL", "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"
)
# How long the roadside-control page behind a load's QR stays valid.
ROADSIDE_LINK_SECONDS = envint("ROADSIDE_LINK_SECONDS", 30 * 60)
# Farther than this from every site a batch can be at, a scan is refused: the batch cannot be there.
SCAN_REFUSAL_RADIUS_M = envfloat("SCAN_REFUSAL_RADIUS_M", 5000.0)
WEIGHT_TOLERANCE_PCT = envfloat("WEIGHT_TOLERANCE_PCT", 2.0)
MASS_BALANCE_TOLERANCE_PCT = envfloat("MASS_BALANCE_TOLERANCE_PCT", 2.0)
CLOCK_SKEW_SECONDS = envint("CLOCK_SKEW_SECONDS", 300)
MANIFEST_RECEIPT_WORKING_DAYS = envint("MANIFEST_RECEIPT_WORKING_DAYS", 5)
PIN_FAILURE_LIMIT = envint("PIN_FAILURE_LIMIT", 5)
LEDGER_SHARDS = envint("LEDGER_SHARDS", 64)
LEDGER_CHECKPOINT_SECONDS = envint("LEDGER_CHECKPOINT_SECONDS", 300)
# --- Early warning and webhooks
HAZARDOUS_STORAGE_LIMIT_DAYS = envint("HAZARDOUS_STORAGE_LIMIT_DAYS", 365)
VANISHED_AFTER_HOURS = envint("VANISHED_AFTER_HOURS", 48)
ALERT_LOOKBACK_DAYS = envint("ALERT_LOOKBACK_DAYS", 30)  # flagged ledger events scanned per run
ALERT_SCAN_SECONDS = envint("ALERT_SCAN_SECONDS", 600)
WEBHOOK_MAX_FAILURES = envint("WEBHOOK_MAX_FAILURES", 5)
WEBHOOK_RETRY_BASE_SECONDS = envint("WEBHOOK_RETRY_BASE_SECONDS", 30)
WEBHOOK_TIMEOUT_SECONDS = envfloat("WEBHOOK_TIMEOUT_SECONDS", 10.0)
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "alerts@zerowaste.invalid")
# Leases on running jobs (exports, route plans): renewed every third of a lease while the job works;
# a job past its lease has lost its worker and is queued again by the sweep, at most JOB_MAX_ATTEMPTS times.
JOB_LEASE_SECONDS = envint("JOB_LEASE_SECONDS", 120)
JOB_SWEEP_SECONDS = envint("JOB_SWEEP_SECONDS", 60)
JOB_MAX_ATTEMPTS = envint("JOB_MAX_ATTEMPTS", 3)
# A job still queued this long after its message was sent lost that message (a broker restarted without
# persistence, a worker that died holding it): the sweep sends it again (the claim makes a duplicate harmless).
JOB_QUEUED_RESEND_SECONDS = envint("JOB_QUEUED_RESEND_SECONDS", 300)
OUTBOX_SEND_SECONDS = envint("OUTBOX_SEND_SECONDS", 15)  # the periodic sender of the outbox
# --- Ground control: vehicle positions, site telemetry and their warnings
POSITION_RETENTION_DAYS = envint("POSITION_RETENTION_DAYS", 180)  # older day partitions are dropped
if POSITION_RETENTION_DAYS < 30:  # the partition-dropping function keeps the last 30 days anyway
    raise ImproperlyConfigured("POSITION_RETENTION_DAYS must be at least 30")
POSITION_PARTITIONS_AHEAD_DAYS = envint("POSITION_PARTITIONS_AHEAD_DAYS", 7)
# The driver's phone (/m/) uploads the positions it kept while a trip is open this often (seconds).
PHONE_POSITIONS_UPLOAD_SECONDS = envint("PHONE_POSITIONS_UPLOAD_SECONDS", 30)
POSITION_MAX_SPEED_KMH = envfloat("POSITION_MAX_SPEED_KMH", 160.0)  # faster between two points: flagged
# The live fleet is answered from the cache for this long per scope (every dispatcher of a hauler asks
# the same question every few seconds); 0 reads the database every time.
FLEET_LIVE_CACHE_SECONDS = envint("FLEET_LIVE_CACHE_SECONDS", 3)
GROUND_STOP_RADIUS_M = envfloat("GROUND_STOP_RADIUS_M", 60.0)  # moving less than this: standing still
GROUND_STOP_MINUTES = envint("GROUND_STOP_MINUTES", 15)  # loaded, stopped this long away from sites: warned
GROUND_OFF_ROUTE_M = envfloat("GROUND_OFF_ROUTE_M", 500.0)
# Off route means this many points in a row farther than GROUND_OFF_ROUTE_M (one is a GPS glitch),
# looked for in the last GROUND_OFF_ROUTE_WINDOW_MINUTES of the track (so an excursion between two
# scans is found too; keep the window longer than ALERT_SCAN_SECONDS).
GROUND_OFF_ROUTE_POINTS = envint("GROUND_OFF_ROUTE_POINTS", 3)
GROUND_OFF_ROUTE_WINDOW_MINUTES = envint("GROUND_OFF_ROUTE_WINDOW_MINUTES", 30)
GROUND_SILENT_MINUTES = envint("GROUND_SILENT_MINUTES", 20)
FILL_PICKUP_PCT = envint("FILL_PICKUP_PCT", 80)  # a container at or above this requests a pickup
# Emergency command: the public report page's photo limit and how many reports one address may send.
INCIDENT_PHOTO_MAX_BYTES = envint("INCIDENT_PHOTO_MAX_BYTES", 5 * 1024 * 1024)
INCIDENT_REPORTS_PER_HOUR = envint("INCIDENT_REPORTS_PER_HOUR", 5)
INCIDENT_RESOURCES_LIMIT = envint("INCIDENT_RESOURCES_LIMIT", 10)  # candidates of each kind ranked
CELERY_BEAT_SCHEDULE = {
    "positions-partitions": {"task": "logistics.tasks.positions_partitions_task", "schedule": 3600.0},
    "ledger-seal": {"task": "waste.tasks.ledger_seal_task", "schedule": float(LEDGER_CHECKPOINT_SECONDS)},
    "alerts-scan": {"task": "waste.tasks.alerts_scan_task", "schedule": float(ALERT_SCAN_SECONDS)},
    "outbox-send": {"task": "waste.tasks.outbox_send_task", "schedule": float(OUTBOX_SEND_SECONDS)},
    "jobs-sweep": {"task": "waste.tasks.jobs_sweep_task", "schedule": float(JOB_SWEEP_SECONDS)},
    "plans-sweep": {"task": "logistics.tasks.plans_sweep_task", "schedule": float(JOB_SWEEP_SECONDS)},
}
_ledger_key = os.environ.get("LEDGER_SIGNING_KEY", "")
if not _ledger_key:
    if not DEBUG:
        raise ImproperlyConfigured("LEDGER_SIGNING_KEY must be set when DEBUG is off")
    # Development only: a key derived from SECRET_KEY so checkpoints verify across restarts.
    _ledger_key = base64.b64encode(hashlib.sha256(b"ledger:" + SECRET_KEY.encode()).digest()).decode()
try:
    LEDGER_SIGNING_KEY = base64.b64decode(_ledger_key, validate=True)
except ValueError as exc:
    raise ImproperlyConfigured("LEDGER_SIGNING_KEY must be base64") from exc
if len(LEDGER_SIGNING_KEY) != 32:
    raise ImproperlyConfigured("LEDGER_SIGNING_KEY must decode to a 32-byte Ed25519 seed")

# Route planning: solver, its time budget, the planning area around the depots, and what to do
# with pairs of points the road network cannot join ("straight_line": estimate; "unreachable").
ROUTING_SOLVER = os.environ.get("ROUTING_SOLVER", "pyvrp")
if ROUTING_SOLVER not in ("pyvrp", "ortools"):
    raise ImproperlyConfigured(f"ROUTING_SOLVER must be pyvrp or ortools, got {ROUTING_SOLVER!r}")
if ROUTING_SOLVER == "ortools" and importlib.util.find_spec("ortools") is None:
    # OR-Tools is an optional extra (a large wheel): fail at start, not at the first route plan.
    raise ImproperlyConfigured("ROUTING_SOLVER=ortools needs OR-Tools: pip install 'zerowaste[ortools]'")
ROUTING_SOLVER_SECONDS = envfloat("ROUTING_SOLVER_SECONDS", 5.0)
ROUTING_AREA_KM = envfloat("ROUTING_AREA_KM", 60.0)
ROUTING_ROAD_FALLBACK = os.environ.get("ROUTING_ROAD_FALLBACK", "straight_line")

# --- Limits (README, "Database roles and limits"): request bodies are refused with 413 before they
# are read (web.limits): a form or JSON body above DATA_UPLOAD_MAX_MEMORY_SIZE, a file upload above
# UPLOAD_MAX_BYTES. Writes through the API are rate-limited per token (waste.api.throttles, the
# cache backend: Redis in production); empty WRITE_THROTTLE_RATE turns that off.
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)
UPLOAD_MAX_BYTES = envint("UPLOAD_MAX_BYTES", 51 * 1024 * 1024)  # a 50 MB export file and its form
WRITE_THROTTLE_RATE = os.environ.get("WRITE_THROTTLE_RATE", "1200/min")

# --- HTTPS (production). HTTPS defaults to on when DEBUG is off: HTTP is redirected, cookies are
# sent over HTTPS only, and browsers are told to keep to HTTPS (HSTS). Behind a reverse proxy that
# terminates TLS, set SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO, and only if that proxy always
# sets (overwrites) X-Forwarded-Proto: otherwise a client could claim HTTPS. HTTPS=false is for a
# trial over plain HTTP only.
HTTPS = envbool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 365 * 24 * 3600) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", True)
_proxy_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "")
if _proxy_header:
    if not _proxy_header.startswith("HTTP_"):
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must name a request header as Django sees it: HTTP_…")
    SECURE_PROXY_SSL_HEADER = (_proxy_header, "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Debian 12 ships GDAL 3.6. Geometry input arrives as GeoJSON (never as file or network paths),
# so the check for GDAL >= 3.9's blocking of file/network access in spatial references is silenced.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
