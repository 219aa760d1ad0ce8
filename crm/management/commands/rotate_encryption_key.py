"""Re-encrypt every encrypted field with the newest of FIELD_ENCRYPTION_KEYS, and re-key its blind index.

Put the new key first in FIELD_ENCRYPTION_KEYS (keeping the old ones after it), deploy, run this, then drop the
old keys. It goes a chunk of rows at a time, each chunk its own transaction, and skips rows the newest key
already opens: stopped halfway, it is run again and carries on; run twice, the second run changes nothing.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from crm.lib import crypto
from crm.lib.crypto import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt encrypted fields with the newest FIELD_ENCRYPTION_KEYS key (resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=1000, help="rows per transaction (default 1000)")

    def handle(self, *args, chunk: int, **options):
        for model in apps.get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, EncryptedTextField):
                    self._rotate(model, field, chunk=max(1, chunk))

    def _rotate(self, model, field: EncryptedTextField, *, chunk: int) -> None:
        quote = connection.ops.quote_name
        table, column, pk = quote(model._meta.db_table), quote(field.column), quote(model._meta.pk.column)
        index = quote(model._meta.get_field(field.blind_index).column) if field.blind_index else None
        label = f"{model._meta.label}.{field.name}"
        # Names from the model, values as parameters.
        select = f"SELECT {pk}, {column} FROM {table} WHERE {pk} > %s AND {column} <> '' ORDER BY {pk} LIMIT %s"  # noqa: S608
        update = f"UPDATE {table} SET {column} = %s" + (f", {index} = %s" if index else "") + f" WHERE {pk} = %s"  # noqa: S608
        last, seen, rotated = 0, 0, 0
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(select + " FOR UPDATE", [last, chunk])
                rows = cursor.fetchall()
                if not rows:
                    break
                changes = []
                for row_pk, token in rows:
                    if crypto.is_current(token):
                        continue
                    plaintext = crypto.decrypt(token)
                    values = [crypto.encrypt(plaintext)]
                    if index:
                        values.append(crypto.blind_index(plaintext))
                    changes.append([*values, row_pk])
                if changes:
                    cursor.executemany(update, changes)
            last = rows[-1][0]
            seen += len(rows)
            rotated += len(changes)
            self.stdout.write(f"{label}: {seen} rows checked, {rotated} re-encrypted (up to id {last})")
        self.stdout.write(self.style.SUCCESS(f"{label}: done, {seen} rows checked, {rotated} re-encrypted"))
