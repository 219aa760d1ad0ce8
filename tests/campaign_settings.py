"""Settings for a worker (or a bare process) that sends campaigns to the test's own SMTP server (aiosmtpd on
loopback, its port in CRM_TEST_SMTP_PORT): the test settings, with real SMTP instead of the in-memory outbox."""

import os

from crm.settings.test import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ.get("CRM_TEST_SMTP_PORT", "25"))
EMAIL_USE_TLS = EMAIL_USE_SSL = False
