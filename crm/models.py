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
