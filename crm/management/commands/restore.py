"""Restore a backup made by `manage.py backup`: `manage.py restore PATH [--database-url URL] [--force]`.

The target (the URL's database, else the configured one) must be empty: create it first (`createdb NAME`).
--force replaces what a non-empty one holds. The restore is one transaction: a failure changes nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.backup import BackupError, Target, restore


class Command(BaseCommand):
    help = "Restore a pg_dump archive into an empty database (the configured one, or --database-url)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--database-url", help="postgres://user:pass@host:5432/name; default: the configured one")
        parser.add_argument("--force", action="store_true", help="replace what a non-empty target holds")

    def handle(self, *args, path: Path, database_url: str | None, force: bool, **options):
        try:
            target = Target.from_url(database_url) if database_url else Target.from_alias()
            restore(path=path, target=target, force=force, say=self.stdout.write)
        except BackupError as e:
            raise CommandError(str(e)) from e
