"""Apply the retention periods now (the nightly jobs do the same): erase members inactive for
RETENTION_INACTIVE_YEARS, then move audit entries older than RETENTION_AUDIT_YEARS into archive files.

Prints a progress line per chunk. Safe to stop and run again: erased members are not picked again, and audit
entries leave the trail only with their archive file written and checked.
"""

from django.core.management.base import BaseCommand

from crm.audit import audit_archive_cutoff, audit_archive_old
from customers.services.retention import RetentionProgress, members_retention_apply, retention_cutoff


class Command(BaseCommand):
    help = "Erase members inactive past RETENTION_INACTIVE_YEARS; archive audit entries past RETENTION_AUDIT_YEARS."

    def add_arguments(self, parser):
        parser.add_argument("--members-only", action="store_true", help="Do not archive the audit trail.")
        parser.add_argument("--audit-only", action="store_true", help="Do not erase inactive members.")

    def handle(self, *args, members_only: bool = False, audit_only: bool = False, **options):
        if not audit_only:
            cutoff = retention_cutoff()
            if cutoff is None:
                self.stdout.write("Members: retention is off (RETENTION_INACTIVE_YEARS=0).")
            else:
                self.stdout.write(f"Members: erasing those inactive since {cutoff:%Y-%m-%d}.")

                def members_progress(p: RetentionProgress) -> None:
                    self.stdout.write(f"  members up to id {p.upto_id - 1} of {p.last_id}: {p.erased} erased")

                erased = members_retention_apply(progress=members_progress)
                self.stdout.write(self.style.SUCCESS(f"Members: {erased} erased."))
        if not members_only:
            cutoff = audit_archive_cutoff()
            if cutoff is None:
                self.stdout.write("Audit: archiving is off (RETENTION_AUDIT_YEARS=0).")
            else:
                self.stdout.write(f"Audit: archiving entries older than {cutoff:%Y-%m-%d}.")
                moved = audit_archive_old(
                    before=cutoff, progress=lambda n: self.stdout.write(f"  {n} entries archived")
                )
                self.stdout.write(self.style.SUCCESS(f"Audit: {moved} entries archived."))
