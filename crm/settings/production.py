"""Production: no defaults for secrets, TLS assumed at the proxy, hashed static files."""

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES, env, secret, secret_list

DEBUG = False
SECRET_KEY = secret("SECRET_KEY")
FIELD_ENCRYPTION_KEYS = secret_list("FIELD_ENCRYPTION_KEYS")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# No script reads the CSRF cookie: htmx sends the token from the page (base.html's hx-headers).
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# gunicorn's sync workers and Celery's prefork children serve one request or task at a time, so each
# holds one connection and reuses it; see README, "Database connections", for how many that makes.
for _alias in DATABASES:  # the replica's connections are held the same way
    DATABASES[_alias]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)

# Uploads waiting for their import job, and job results (exports, error reports), are written on one
# machine and read on another (web <-> worker): MEDIA_ROOT must be one directory that every web and
# worker machine mounts (NFS, a shared volume). For object storage instead, see README, "Background jobs".
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": MEDIA_ROOT}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Preloading is a one-way commitment for the whole domain: an operator's call.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
WHITENOISE_USE_FINDERS = False
