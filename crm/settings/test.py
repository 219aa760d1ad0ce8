"""Tests: English UI by default, fast hashing, Celery never eager unless a test asks."""

from .base import *  # noqa: F403

LANGUAGE_CODE = "en"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = False
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405 -- shared with the real worker a test starts
ANYMAIL = {"WEBHOOK_SECRET": "anymail-test:webhook-secret"}
CRM_SMS_INBOUND_SECRET = "sms-inbound-test-secret"  # noqa: S105 -- tests only
