"""Settings read from the environment (12-factor). See README for the variables."""

from pathlib import Path

import environ
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def secret(name: str, default=environ.Env.NOTSET):
    """Read NAME, or the contents of the file named by NAME_FILE."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


def secret_list(name: str, default=environ.Env.NOTSET) -> list[str]:
    """A comma-separated secret (keys, newest first), from NAME or NAME_FILE."""
    return [item.strip() for item in secret(name, default=default).split(",") if item.strip()]


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = secret("SECRET_KEY", default="dev-only-insecure-key-change-me")
# Fernet keys for the encrypted fields (crm/lib/crypto.py), newest first; production has no default.
# A new one: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
FIELD_ENCRYPTION_KEYS = secret_list("FIELD_ENCRYPTION_KEYS", default="ZGV2LW9ubHktZmllbGQta2V5LW5vdC1mb3ItcHJvZCE=")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Where Django admin is mounted (crm/web/urls.py): a path of one's own keeps it out of every scanner's list.
ADMIN_URL = env.str("ADMIN_URL", default="admin/").strip("/") + "/"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_celery_beat",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "anymail",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "crm",
    "crm.web.api",
    "customers",
    "interactions",
    "marketing",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "crm.audit.AuditContextMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "crm.middleware.SessionIdleMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "crm.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "crm.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "crm.middleware.InputEdgeMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.web.urls"
WSGI_APPLICATION = "crm.wsgi.application"

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
            ],
        },
    },
]

# Database: DATABASE_URL, or the embedded Postgres from pgserver, started by the first connection
# (crm/lib/embedded_db), so a command that needs no database (compile_catalogs, check) starts nothing.
if DATABASE_URL := secret("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
else:
    EMBEDDED_PGDATA = str(env.path("EMBEDDED_PGDATA", default=BASE_DIR / ".pgdata"))
    DATABASES = {
        "default": {
            "ENGINE": "crm.lib.embedded_db",
            "NAME": "postgres",
            "USER": "postgres",
            "HOST": EMBEDDED_PGDATA,  # where pgserver puts the socket unless the path is too long for one
            "PGDATA": EMBEDDED_PGDATA,
        }
    }
# Connections per server (README, "Database connections"): the dev server runs each request in a
# thread of its own that never comes back, so a kept connection is never reused, only left open
# until Postgres runs out ("too many clients"): here it is closed after each request. Production
# (gunicorn sync workers, Celery prefork children: one connection each, reused) keeps them.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind pgbouncer in transaction mode a server-side cursor (QuerySet.iterator()) can't outlive its
# transaction: set DATABASE_POOLER=true there.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DATABASE_POOLER", default=False)
# An optional read replica (README, "Running on several machines"): dashboards, reports and scoring's reads go
# there (crm/db_router.py), every write to the primary. Without it everything uses the primary.
if replica_url := secret("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db_url_config(replica_url) | {
        key: DATABASES["default"][key] for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "DISABLE_SERVER_SIDE_CURSORS")
    }
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # a test run on these settings has one database
CRM_READ_REPLICA = "replica" if replica_url else ""
DATABASE_ROUTERS = ["crm.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: broker, results and cache. Without it tasks run inline.
REDIS_URL = secret("REDIS_URL", default="")
if REDIS_URL:
    # Redis away is a cache miss (crm/lib/cache.py), found out within a second rather than hanging the page
    # (the rate limits then fail open: crm/lib/ratelimit.py).
    CACHES = {
        "default": {
            "BACKEND": "crm.lib.cache.SoftRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
CELERY_TIMEZONE = TIME_ZONE  # "after midnight" in crm/schedule.py is the business's midnight
CELERY_TASK_ACKS_LATE = True
# A publish while Redis is away gives up within about a second; the task then waits in the outbox (crm/queue.py)
# instead of holding the page. A broker that drops packets is given up on after 2 s as well.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Background jobs (crm/jobs.py). A running job's progress reports are its heartbeat; one silent for
# longer than the lease has lost its worker and is started again, at most CRM_JOB_MAX_ATTEMPTS times
# in all, then failed. The lease must exceed the longest gap between two reports (a few seconds today).
CRM_JOB_LEASE_SECONDS = env.int("CRM_JOB_LEASE_SECONDS", default=10 * 60)
CRM_JOB_MAX_ATTEMPTS = env.int("CRM_JOB_MAX_ATTEMPTS", default=3)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username + address before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Lock-out (django-axes): AXES_FAILURE_LIMIT failed logins for one username from one address lock that pair
# out for AXES_COOLOFF_MINUTES; a success in between starts the count again. `manage.py axes_reset_username
# NAME` lifts it early. The address is REMOTE_ADDR (behind a proxy, the proxy's:
# then the lock-out is in effect per username).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_MINUTES", default=30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The caller's address as the rate limits and the audit read it (behind CRM_TRUSTED_PROXIES proxies), not the
# proxy's: else one user's failures would lock that name for everyone behind the load balancer.
AXES_CLIENT_IP_CALLABLE = "crm.lib.addresses.client_address"
AXES_RESET_ON_SUCCESS = True
# Its admin pages have no Chinese labels; a lock-out is lifted with the command above.
AXES_ENABLE_ADMIN = False
AXES_LOCKOUT_CALLABLE = "crm.views.accounts.locked_out"
AXES_USERNAME_CALLABLE = "crm.views.accounts.axes_username"
# Sessions end after SESSION_IDLE_MINUTES without a request: the expiry is pushed forward at most once a
# minute (crm.middleware.SessionIdleMiddleware) rather than on every request (SESSION_SAVE_EVERY_REQUEST),
# since a dashboard fires a dozen chart requests at once and each would write the session row.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Two-factor authentication (django-otp, crm/two_factor.py): required of managers, admins and anyone who may
# enter the Django admin. The issuer names the CRM in the authenticator app.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Member CRM")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # the panels fitted to the role (crm/home.py)
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["crm.formats"]
USE_I18N = True
USE_TZ = True
CRM_CURRENCY = env.str("CRM_CURRENCY", default="CNY")
# Membership rules: earned points lapse after this many days; tiers are judged on spend in a rolling window.
CRM_POINTS_EXPIRY_DAYS = env.int("CRM_POINTS_EXPIRY_DAYS", default=365)
CRM_TIER_WINDOW_DAYS = env.int("CRM_TIER_WINDOW_DAYS", default=365)
# Shop behaviour (views, favourites, cart additions) is kept for this many calendar months, the current one
# included: older months' partitions are dropped whole, and older events are refused.
CRM_BEHAVIOUR_RETENTION_MONTHS = env.int("CRM_BEHAVIOUR_RETENTION_MONTHS", default=13)
# Retention (customers.services.retention, crm.audit): members with no purchase, contact, shop visit or
# consent given for this many years have their personal data erased by the nightly job (0: never); audit
# entries older than RETENTION_AUDIT_YEARS move into archive files (0: never), they are never dropped.
RETENTION_INACTIVE_YEARS = env.int("RETENTION_INACTIVE_YEARS", default=0)
RETENTION_AUDIT_YEARS = env.int("RETENTION_AUDIT_YEARS", default=2)
# A customer import of at least this many rows, into a table holding no more, sets the search indexes aside
# and builds them after (crm/indexes.py).
CRM_IMPORT_SET_ASIDE_ROWS = env.int("CRM_IMPORT_SET_ASIDE_ROWS", default=100_000)
# Scoring (analytics/services/scoring.py): the models are fitted on every n-th member, at most CRM_SCORING_FIT_SAMPLE
# of them; members are scored in chunks of CRM_SCORING_CHUNK consecutive ids, each claimed for
# CRM_SCORING_LEASE_SECONDS (a chunk not done by then is taken up again: its worker is taken for dead).
CRM_SCORING_FIT_SAMPLE = env.int("CRM_SCORING_FIT_SAMPLE", default=200_000)
CRM_SCORING_CHUNK = env.int("CRM_SCORING_CHUNK", default=20_000)
CRM_SCORING_LEASE_SECONDS = env.int("CRM_SCORING_LEASE_SECONDS", default=15 * 60)
# Issuing an offer to a segment: chunks of this many members in id order, each taken by any worker (crm/jobs.py).
CRM_COUPON_ISSUE_CHUNK = env.int("CRM_COUPON_ISSUE_CHUNK", default=2_000)
# A follow-up date becomes a reminder due at this hour of that day (local time).
CRM_FOLLOW_UP_HOUR = env.int("CRM_FOLLOW_UP_HOUR", default=9)
# Where the app is reached, for links in e-mails sent by background jobs (no request to build them from).
CRM_BASE_URL = env.str("CRM_BASE_URL", default="http://localhost:8000")
# Campaign sending (marketing/services/sending): at most CRM_FREQUENCY_CAP marketing messages per member in
# CRM_FREQUENCY_DAYS days across campaigns; no SMS in CRM_SMS_QUIET_HOURS (TIME_ZONE; held until it ends);
# CRM_SEND_RATE messages a second per campaign (0: as fast as the workers go), in batches of CRM_SEND_BATCH
# claimed rows taken by CRM_SEND_LANES tasks at once, handed over and recorded CRM_SEND_GROUP at a time (a worker
# that dies leaves at most that many "unknown"); a claim not settled within CRM_SEND_LEASE_SECONDS is settled by
# the sweep; a campaign pauses itself when CRM_AUTOPAUSE_FAILURES of its last CRM_AUTOPAUSE_WINDOW sends failed.
CRM_FREQUENCY_CAP = env.int("CRM_FREQUENCY_CAP", default=3)
CRM_FREQUENCY_DAYS = env.int("CRM_FREQUENCY_DAYS", default=7)
CRM_SMS_QUIET_HOURS = env.str("CRM_SMS_QUIET_HOURS", default="21:00-08:00")
CRM_SEND_RATE = env.float("CRM_SEND_RATE", default=50)
CRM_SEND_BATCH = env.int("CRM_SEND_BATCH", default=200)
CRM_SEND_LANES = env.int("CRM_SEND_LANES", default=2)
CRM_SEND_GROUP = env.int("CRM_SEND_GROUP", default=100)
CRM_SEND_LEASE_SECONDS = env.int("CRM_SEND_LEASE_SECONDS", default=15 * 60)
CRM_AUTOPAUSE_WINDOW = env.int("CRM_AUTOPAUSE_WINDOW", default=100)
CRM_AUTOPAUSE_FAILURES = env.int("CRM_AUTOPAUSE_FAILURES", default=20)

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Serve straight from the finders until collectstatic has run (dev, tests, make run).
WHITENOISE_USE_FINDERS = True
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
    # Province boundaries for the geography map (GeoJSON, names in Chinese).
    ("vendor/china-geojson", NODE_MODULES / "china-geojson" / "src" / "geojson"),
]
# Uploads (crm/lib/uploads.py): a request over FILE_UPLOAD_MAX_MEMORY_SIZE streams its files to disk, so no big file
# sits in a web worker's memory; a file over IMPORT_MAX_UPLOAD_MB is refused, and not kept past that size.
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "crm.lib.uploads.LimitedTemporaryFileUploadHandler",
]
IMPORT_MAX_UPLOAD_MB = env.int("IMPORT_MAX_UPLOAD_MB", default=200)
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The integration API (crm/web/api): token per integration, JSON only, one error shape, a body size cap.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["crm.web.api.auth.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["crm.web.api.auth.HasScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["crm.web.api.parsers.LimitedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "crm.web.api.errors.exception_handler",
    # Per token, after the scope check; requests without a valid token are counted per address before
    # authentication answers (crm.web.api.auth), since DRF would check throttles only after refusing them.
    "DEFAULT_THROTTLE_CLASSES": ["crm.web.api.throttling.TokenRateThrottle"],
    "URL_FORMAT_OVERRIDE": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Member CRM API",
    "DESCRIPTION": "For outside systems: sign-ups, look-ups, purchases, interactions, social mentions, segments.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI and Redoc from the installed drf-spectacular-sidecar package: no CDN (intranet installs).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Rewards and segments both have a "kind": each its own enum in the schema, named after its model's.
    "ENUM_NAME_OVERRIDES": {"SegmentKindEnum": "marketing.models.SegmentKind"},
}
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=64 * 1024)
# Rate limits (crm/lib/ratelimit.py), as requests per period ("600/min", "10/s", "5000/hour"; empty: none),
# counted on the cache: API_RATE per token (an API client may have its own), API_RATE_ANONYMOUS per address for
# requests without a valid token (guessing tokens), WEBHOOK_RATE per source for the webhooks (the mention
# webhook per token, the SMS and e-mail providers' per address). WEBHOOK_MAX_BODY_BYTES: their body size cap
# (the e-mail providers post events in batches, so more than the API's; below Django's own 2.5 MB).
API_RATE = env.str("API_RATE", default="600/min")
API_RATE_ANONYMOUS = env.str("API_RATE_ANONYMOUS", default="60/min")
WEBHOOK_RATE = env.str("WEBHOOK_RATE", default="1200/min")
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=2 * 1024 * 1024)
# How many proxies of ours (load balancer, nginx) stand in front of the app, each appending to X-Forwarded-For:
# the caller's address is read from there (crm/lib/addresses.py). 0: REMOTE_ADDR is the caller.
CRM_TRUSTED_PROXIES = env.int("CRM_TRUSTED_PROXIES", default=0)
# Who is reminded to answer a social mention on a customer with no owner (a username; empty: no one).
CRM_MENTION_ASSIGNEE = env.str("CRM_MENTION_ASSIGNEE", default="")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST_PASSWORD = secret("EMAIL_HOST_PASSWORD", default="")
# A mail server that stops answering must not hold a campaign batch past its lease (marketing/services/sending).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="crm@localhost")
if EMAIL_URL := secret("EMAIL_URL", default=""):
    vars().update(env.email_url_config(EMAIL_URL))

# Tracking webhooks from e-mail providers (django-anymail, mounted at /webhooks/anymail/): the "user:password"
# the provider is given for HTTP basic auth. Without it, events from providers that do not sign their posts are
# ignored (marketing/receivers.py): anyone could post them.
ANYMAIL = {"WEBHOOK_SECRET": secret("ANYMAIL_WEBHOOK_SECRET", default="")}
# An e-mail provider's own settings, its credentials included: ANYMAIL_<NAME> (or ANYMAIL_<NAME>_FILE) becomes
# ANYMAIL["<NAME>"], e.g. ANYMAIL_MAILGUN_API_KEY_FILE=/run/secrets/mailgun -> ANYMAIL["MAILGUN_API_KEY"].
for _name in {key.removesuffix("_FILE") for key in env.ENVIRON if key.startswith("ANYMAIL_")}:
    ANYMAIL.setdefault(_name.removeprefix("ANYMAIL_"), secret(_name))

# SMS (marketing/channels/sms.py): the backend, and for the HTTP gateway its URL, bearer token, JSON body with
# {to} {text} {key} placeholders, and where the message id is in its JSON answer (dots: "data.0.id").
CRM_SMS_BACKEND = env.str("CRM_SMS_BACKEND", default="marketing.channels.sms.ConsoleBackend")
CRM_SMS_FILE_PATH = env.path("CRM_SMS_FILE_PATH", default=BASE_DIR / "sms-outbox")
CRM_SMS_GATEWAY_URL = env.str("CRM_SMS_GATEWAY_URL", default="")
CRM_SMS_GATEWAY_TOKEN = secret("CRM_SMS_GATEWAY_TOKEN", default="")
CRM_SMS_GATEWAY_BODY = env.str("CRM_SMS_GATEWAY_BODY", default='{"to": "{to}", "text": "{text}", "reference": "{key}"}')
CRM_SMS_GATEWAY_ID_PATH = env.str("CRM_SMS_GATEWAY_ID_PATH", default="id")
CRM_SMS_GATEWAY_TIMEOUT = env.float("CRM_SMS_GATEWAY_TIMEOUT", default=10.0)
# Replies to our SMS (marketing/views/sms.py): the gateway sends this secret in the X-Webhook-Secret header;
# empty turns the inbound webhook off. The reply's fields in its JSON or form body.
CRM_SMS_INBOUND_SECRET = secret("CRM_SMS_INBOUND_SECRET", default="")
CRM_SMS_INBOUND_FROM_FIELD = env.str("CRM_SMS_INBOUND_FROM_FIELD", default="from")
CRM_SMS_INBOUND_TEXT_FIELD = env.str("CRM_SMS_INBOUND_TEXT_FIELD", default="text")

# Headers every environment sends, the dev server and tests included, so a page that breaks them fails a test.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content security policy: Django's own (django.middleware.csp, new in 6.0) rather than the django-csp package
# the issue names: the same header from the same kind of settings, with nothing more to install and keep in
# step with Django. No inline script, handler or style attribute anywhere (tests/test_csp.py): scripts are
# files under static/js/, data reaches them through data- attributes or json_script, and a width set from
# the server is applied by static/js/crm.js from a data- attribute (CSSOM changes are not governed by CSP).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    # data: for Bootstrap's inline SVG icons (form validation, select arrows) and the 2FA QR code.
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
}

# A refused or missing page (4xx) is one line in the log; a server error (5xx) keeps its traceback.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_error_one_line": {"()": "crm.lib.logging.ClientErrorOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.request": {"filters": ["client_error_one_line"]},
        # Failed logins and lock-outs are warnings; each successful login's "reset 0 attempts" is not news.
        "axes": {"level": "WARNING"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
