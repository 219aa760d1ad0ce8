"""Back the database up: `manage.py backup PATH` writes a pg_dump archive (custom format) of the configured
database (DATABASE_URL, or the embedded server), with the pg_dump of the server's own major version.

Restore it with `manage.py restore PATH [--database-url URL]` (README, "Backups")."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.backup import BackupError, Target, backup


class Command(BaseCommand):
    help = "Write a pg_dump archive (custom format) of the configured database to PATH."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--force", action="store_true", help="overwrite PATH if it exists")

    def handle(self, *args, path: Path, force: bool, **options):
        try:
            backup(path=path, target=Target.from_alias(), force=force, say=self.stdout.write)
        except BackupError as e:
            raise CommandError(str(e)) from e
