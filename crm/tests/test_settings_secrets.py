"""Production settings: every secret can come from a file (NAME_FILE, as Docker and Kubernetes secrets are
mounted), the admin's path from the environment, and `check --deploy` stays clean."""

import json
import os
import secrets
import subprocess
import sys

from django.conf import settings

PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
from django.urls import reverse
print(json.dumps({
    "SECRET_KEY": s.SECRET_KEY,
    "DATABASE": [s.DATABASES["default"][k] for k in ("USER", "PASSWORD", "HOST", "NAME")],
    "REDIS_URL": s.REDIS_URL,
    "CELERY_BROKER_URL": s.CELERY_BROKER_URL,
    "EMAIL": [s.EMAIL_HOST, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD],
    "ANYMAIL": s.ANYMAIL,
    "CRM_SMS_GATEWAY_TOKEN": s.CRM_SMS_GATEWAY_TOKEN,
    "CRM_SMS_INBOUND_SECRET": s.CRM_SMS_INBOUND_SECRET,
    "FIELD_ENCRYPTION_KEYS": s.FIELD_ENCRYPTION_KEYS,
    "admin": reverse("admin:index"),
    "hardening": {name: getattr(s, name) for name in (
        "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY",
        "X_FRAME_OPTIONS", "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT", "SECURE_REFERRER_POLICY",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    )},
}))
"""

NEW_KEY, OLD_KEY = "bmV3LWZpZWxkLWtleS1mb3ItdGhlLXRlc3RzLTAwMDA=", "b2xkLWZpZWxkLWtleS1mb3ItdGhlLXRlc3RzLTAwMDA="

# Every setting that holds a secret, and what its file holds.
SECRET_FILES = {
    "SECRET_KEY": "k" * 60,
    "DATABASE_URL": "postgres://crm:db-pass@db.internal:5432/crm",
    "REDIS_URL": "redis://:redis-pass@redis.internal:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:mail-pass@smtp.internal:587",
    "ANYMAIL_WEBHOOK_SECRET": "hook:hook-pass",
    "ANYMAIL_MAILGUN_API_KEY": "mailgun-key",
    "CRM_SMS_GATEWAY_TOKEN": "sms-token",
    "CRM_SMS_INBOUND_SECRET": "sms-inbound",
    # Newest first: the second still opens what it encrypted until `rotate_encryption_key` has run.
    "FIELD_ENCRYPTION_KEYS": f"{NEW_KEY},{OLD_KEY}",
}


def _production_settings(env: dict[str, str]) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.endswith("_FILE") and k not in SECRET_FILES}
    base |= {"DJANGO_SETTINGS_MODULE": "crm.settings.production", "ALLOWED_HOSTS": "crm.example.com"}
    base |= {"FIELD_ENCRYPTION_KEYS": NEW_KEY}
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        env=base | env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_secret_is_read_from_its_file(tmp_path):
    env = {}
    for name, value in SECRET_FILES.items():
        path = tmp_path / name.lower()
        path.write_text(value + "\n")  # a trailing newline, as `echo` writes one
        env[f"{name}_FILE"] = str(path)
    found = _production_settings(env)
    assert found["SECRET_KEY"] == "k" * 60
    assert found["DATABASE"] == ["crm", "db-pass", "db.internal", "crm"]
    assert found["REDIS_URL"] == found["CELERY_BROKER_URL"] == SECRET_FILES["REDIS_URL"]
    assert found["EMAIL"] == ["smtp.internal", "mailer", "mail-pass"]
    assert found["ANYMAIL"] == {"WEBHOOK_SECRET": "hook:hook-pass", "MAILGUN_API_KEY": "mailgun-key"}
    assert found["CRM_SMS_GATEWAY_TOKEN"] == "sms-token"
    assert found["CRM_SMS_INBOUND_SECRET"] == "sms-inbound"
    assert found["FIELD_ENCRYPTION_KEYS"] == [NEW_KEY, OLD_KEY]


def test_production_refuses_to_start_without_a_secret_key():
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        env={k: v for k, v in os.environ.items() if not k.startswith("SECRET_KEY")}
        | {"DJANGO_SETTINGS_MODULE": "crm.settings.production", "ALLOWED_HOSTS": "crm.example.com"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_the_admin_is_where_admin_url_says():
    found = _production_settings({"SECRET_KEY": "k" * 60, "ADMIN_URL": "/back-office-7f3a/"})
    assert found["admin"] == "/back-office-7f3a/"
    assert _production_settings({"SECRET_KEY": "k" * 60})["admin"] == "/admin/"


def test_production_cookies_and_headers_are_hardened():
    found = _production_settings({"SECRET_KEY": "k" * 60})["hardening"]
    assert found == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_HSTS_SECONDS": 60 * 60 * 24 * 30,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin",
    }


def test_the_deploy_check_is_clean():
    # Without what the test run itself sets (the browser tests allow async-unsafe calls): a deployment would not.
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "crm.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "crm.example.com",
        "FIELD_ENCRYPTION_KEYS": NEW_KEY,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
