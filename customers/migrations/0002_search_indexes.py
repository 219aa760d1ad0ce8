"""Trigram indexes for partial name/phone/e-mail search, where pg_trgm exists.

The embedded pgserver has no contrib extensions: there the search still works,
by sequential scan, and this migration does nothing.
"""

from django.db import migrations

INDEXES = {
    "customer_name_trgm_idx": 'UPPER("name"::text) gin_trgm_ops',
    "customer_mobile_trgm_idx": '"mobile" gin_trgm_ops',
    "customer_email_trgm_idx": 'UPPER("email"::text) gin_trgm_ops',
}


def create(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, expression in INDEXES.items():
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON customers_customer USING gin ({expression})"
            )


def drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for name in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
