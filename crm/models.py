"""Project-wide tables. (The module also makes post_migrate reach CrmConfig, which syncs roles.)"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class JobKind(models.TextChoices):
    CUSTOMER_EXPORT = "customer_export", _("Customer export")
    CUSTOMERS_IMPORT = "customers_import", _("Customer import")
    TRANSACTIONS_IMPORT = "transactions_import", _("Purchase import")
    CUSTOMER_BULK = "customer_bulk", _("Bulk change of customers")
    SEGMENT_EXPORT = "segment_export", _("Segment export")
    COUPON_ISSUE = "coupon_issue", _("Coupons issued to a segment")


IMPORT_KINDS = frozenset({JobKind.CUSTOMERS_IMPORT, JobKind.TRANSACTIONS_IMPORT})


class Job(models.Model):
    """A long background job: its progress for the page's bar, its result, and its failure."""

    kind = models.CharField(_("kind"), max_length=40, choices=JobKind)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=JobStatus, default=JobStatus.QUEUED)
    total = models.PositiveIntegerField(_("total"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    message = models.TextField(_("message"), blank=True)
    result = models.FileField(_("result file"), upload_to="jobs/%Y/%m/", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Set when the job is queued and by every progress report while it runs: a job silent for
    # longer than CRM_JOB_LEASE_SECONDS has lost its worker (crm/jobs.py).
    heartbeat_at = models.DateTimeField(_("last heartbeat"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("times started"), default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        permissions = [("rerun_job", _("Can run another user's job again"))]
        indexes = [
            # The sweeper looks for unfinished jobs whose heartbeat is older than the lease.
            models.Index(
                fields=["heartbeat_at"],
                condition=models.Q(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]),
                name="job_unfinished_heartbeat_idx",
            ),
        ]

    def __str__(self):
        return f"{self.kind} #{self.pk} ({self.status})"

    def get_absolute_url(self):
        return reverse("job_detail", args=[self.pk])

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        return min(100, round(100 * self.done / self.total)) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def failed(self) -> bool:
        return self.status == JobStatus.FAILED

    @property
    def succeeded(self) -> bool:
        return self.status == JobStatus.DONE

    @property
    def is_import(self) -> bool:
        return self.kind in IMPORT_KINDS


class ChunkStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class JobChunk(models.Model):
    """A part of a job (the items with lo <= id < hi) that any worker on any machine may take (crm/jobs.py).

    Claimed with a lease like a scoring chunk: its claimed_at is the claim's token, and its work is written in
    the same transaction that marks it done, only while it still carries the token; so a chunk whose worker died
    is taken up again once the lease lapses, and nothing is done twice or left out.
    """

    job = models.ForeignKey(Job, verbose_name=_("job"), on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField(_("number"))
    lo = models.BigIntegerField(_("from id"))
    hi = models.BigIntegerField(_("to id (excluded)"))
    status = models.CharField(_("status"), max_length=10, choices=ChunkStatus, default=ChunkStatus.PENDING)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    processed = models.PositiveIntegerField(_("items gone through"), default=0)
    result = models.PositiveIntegerField(_("result"), default=0)  # what the job counts (coupons issued)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["job", "number"]
        verbose_name = _("job chunk")
        verbose_name_plural = _("job chunks")
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="job_chunk_unique")]

    def __str__(self):
        return f"{self.job_id}/{self.number} [{self.lo}, {self.hi}) {self.status}"


class Notification(models.Model):
    """A message for one user in the top bar (reminders falling due, and later other apps' news)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    text = models.CharField(_("text"), max_length=255)
    link = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_idx"),
            # The badge counts a user's unread ones on every page.
            models.Index(fields=["user"], condition=models.Q(read_at__isnull=True), name="notification_unread_idx"),
        ]

    def __str__(self):
        return self.text


class SetAsideIndex(models.Model):
    """An index dropped for a bulk load, with the statement that builds it again (crm.indexes).

    Kept until the index is built again, so a load killed midway leaves what the jobs sweep rebuilds from.
    """

    name = models.CharField(_("index"), max_length=63, unique=True)
    definition = models.TextField(_("definition"))
    set_aside_at = models.DateTimeField(_("set aside"), auto_now_add=True)

    class Meta:
        verbose_name = _("index set aside")
        verbose_name_plural = _("indexes set aside")

    def __str__(self):
        return self.name


class AuditAction(models.TextChoices):
    VIEW = "view", _("Viewed")
    REVEAL = "reveal", _("Revealed a masked field")
    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    CONSENT = "consent", _("Changed consent")
    EXPORT = "export", _("Exported")
    MERGE = "merge", _("Merged")
    ERASE = "erase", _("Erased")
    BULK = "bulk", _("Changed in bulk")
    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Failed to log in")
    LOGOUT = "logout", _("Logged out")
    ROLES = "roles", _("Changed roles or permissions")
    TOKEN_ISSUE = "token_issue", _("Issued an API token")
    TOKEN_REVOKE = "token_revoke", _("Revoked an API token")
    TWO_FACTOR = "two_factor", _("Set up or reset two-factor authentication")


class AuditEvent(models.Model):
    """One thing someone did with personal data or with access to it: append-only.

    A Postgres trigger (migration 0008) refuses every UPDATE and DELETE of these rows, so neither the admin
    nor a bug nor a shell can rewrite history; only the archiving job may move old rows out, and only into
    `AuditArchive`. The customer is kept as a plain id, not a foreign key: nothing that happens to the
    customer later (a merge, an erasure) may touch what was recorded about them.
    """

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    # The name at the time, so the entry reads the same after the user is renamed or deactivated.
    actor_name = models.CharField(_("staff member's name"), max_length=150, blank=True)
    api_client = models.CharField(_("API client"), max_length=100, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=AuditAction)
    customer_id = models.BigIntegerField(_("customer"), null=True, blank=True)
    # What else the entry is about when it is not a customer: a username, a group, a token's name.
    target = models.CharField(_("about"), max_length=150, blank=True)
    changes = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["customer_id", "-at"], name="crm_audit_customer_idx"),
            models.Index(fields=["actor", "-at"], name="crm_audit_actor_idx"),
            models.Index(fields=["action", "-at"], name="crm_audit_action_idx"),
        ]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or self.api_client or '-'} {self.action}"


class AuditArchive(models.Model):
    """One file of audit entries the archiving job moved out of AuditEvent (crm.audit.audit_archive_old): gzipped
    JSON lines in the default storage, one entry a line with every column. The row is the manifest: how many
    entries, which ids and times, and the file's SHA-256, checked against the stored file before the entries were
    deleted and whenever it is read back. Append-only like the trail (migration 0010)."""

    file = models.FileField(_("file"), upload_to="audit-archive/", max_length=255)
    entries = models.PositiveIntegerField(_("entries"))
    first_id = models.BigIntegerField(_("first entry"))
    last_id = models.BigIntegerField(_("last entry"))
    first_at = models.DateTimeField(_("oldest entry's time"))
    last_at = models.DateTimeField(_("newest entry's time"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("archived"), default=timezone.now)

    class Meta:
        ordering = ["-last_at", "-id"]
        verbose_name = _("audit archive")
        verbose_name_plural = _("audit archives")

    def __str__(self):
        return f"{self.first_at:%Y-%m-%d}..{self.last_at:%Y-%m-%d} ({self.entries})"


class PendingTask(models.Model):
    """A task that could not be handed to the queue (Redis away), kept until the outbox sweep hands it over
    (crm.queue). Tasks are idempotent (each claims its work), so one handed over twice does nothing twice."""

    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts to queue"), default=0)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("task waiting for the queue")
        verbose_name_plural = _("tasks waiting for the queue")

    def __str__(self):
        return f"{self.task}{tuple(self.args)}"
