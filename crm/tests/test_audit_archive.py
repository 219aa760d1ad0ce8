"""Old audit entries move into checked archive files, never silently dropped."""

import datetime
import gzip
import hashlib

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import DatabaseError, transaction

from crm import audit
from crm.audit import ArchiveError, audit_archive_entries, audit_archive_old, audit_archives
from crm.models import AuditAction, AuditArchive, AuditEvent

pytestmark = pytest.mark.django_db


def trail():
    """The tests' entries: the test database also holds those migrate wrote (the roles' permissions)."""
    return AuditEvent.objects.exclude(action=AuditAction.ROLES)


NOW = datetime.datetime(2027, 6, 1, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _clean_archive_files():
    yield
    for archive in AuditArchive.objects.all():
        default_storage.delete(archive.file.name)


def entries_at(*years_ago: float) -> list[AuditEvent]:
    made = []
    for n, years in enumerate(years_ago):
        at = NOW - datetime.timedelta(days=365.25 * years)
        with time_machine.travel(at, tick=False):
            made.append(
                audit.audit_record(
                    action=AuditAction.UPDATE, customer_id=100 + n, changes={"name": ["王*", "王**"]}, target=f"#{n}"
                )
            )
    return made


def test_entries_past_the_retention_move_into_a_checked_file_and_the_rest_stay(settings):
    settings.RETENTION_AUDIT_YEARS = 2
    old, older, recent = entries_at(2.5, 3, 1)
    with time_machine.travel(NOW, tick=False):
        assert audit_archive_old() == 2
    assert list(trail().values_list("pk", flat=True)) == [recent.pk]
    archive = audit_archives().get()
    assert (archive.entries, archive.first_id, archive.last_id) == (2, old.pk, older.pk)
    with default_storage.open(archive.file.name, "rb") as stored:
        payload = stored.read()
    assert hashlib.sha256(payload).hexdigest() == archive.sha256
    assert len(gzip.decompress(payload).splitlines()) == 2
    moved = audit_archive_entries(archive)
    assert [(e["id"], e["customer_id"], e["target"], e["changes"]) for e in moved] == [
        (old.pk, old.customer_id, "#0", {"name": ["王*", "王**"]}),
        (older.pk, older.customer_id, "#1", {"name": ["王*", "王**"]}),
    ]
    assert trail().count() + sum(a.entries for a in audit_archives()) == 3


def test_a_run_goes_a_file_per_chunk_and_a_second_run_moves_nothing(settings):
    settings.RETENTION_AUDIT_YEARS = 2
    entries_at(3, 3, 4, 5, 6)
    with time_machine.travel(NOW, tick=False):
        seen = []
        assert audit_archive_old(chunk=2, progress=seen.append) == 5
        assert seen == [2, 4, 5]
        assert audit_archive_old(chunk=2) == 0
    assert [a.entries for a in AuditArchive.objects.order_by("first_id")] == [2, 2, 1]
    assert not trail().exists()


def test_a_file_that_does_not_check_out_deletes_nothing(settings, monkeypatch):
    settings.RETENTION_AUDIT_YEARS = 2
    entries_at(3, 4)

    written = []

    def corrupted(name: str, **kwargs):
        written.append(name)
        raise ArchiveError("not what was written")

    monkeypatch.setattr(audit, "_check_file", corrupted)
    with time_machine.travel(NOW, tick=False), pytest.raises(ArchiveError):
        audit_archive_old()
    assert trail().count() == 2 and not AuditArchive.objects.exists()
    assert written and not any(default_storage.exists(name) for name in written)  # the file written was removed


def test_an_archive_altered_afterwards_is_refused_when_read(settings):
    settings.RETENTION_AUDIT_YEARS = 2
    entries_at(3)
    with time_machine.travel(NOW, tick=False):
        audit_archive_old()
    archive = AuditArchive.objects.get()
    with open(default_storage.path(archive.file.name), "wb") as stored:  # someone edits the file on disk
        stored.write(gzip.compress(b'{"id": 1}\n', mtime=0))
    with pytest.raises(ArchiveError):
        audit_archive_entries(archive)


def test_the_trail_and_the_manifests_stay_append_only(settings):
    settings.RETENTION_AUDIT_YEARS = 2
    entries_at(3, 1)
    with time_machine.travel(NOW, tick=False):
        audit_archive_old()
    for refused in (
        AuditEvent.objects.all().delete,
        AuditArchive.objects.all().delete,
        lambda: AuditEvent.objects.update(target="changed"),
        lambda: AuditArchive.objects.update(entries=0),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            refused()
    assert trail().count() == 1 and AuditArchive.objects.count() == 1


def test_archiving_off_moves_nothing(settings):
    settings.RETENTION_AUDIT_YEARS = 0
    entries_at(10)
    assert audit_archive_old() == 0 and trail().count() == 1


def test_the_command_archives_with_progress_lines(settings, capsys):
    settings.RETENTION_AUDIT_YEARS = 2
    settings.RETENTION_INACTIVE_YEARS = 0
    entries_at(3, 3)
    with time_machine.travel(NOW, tick=False):
        call_command("apply_retention")
    out = capsys.readouterr().out
    assert "2 entries archived" in out and "retention is off" in out
    assert not trail().exists() and AuditArchive.objects.get().entries == 2
