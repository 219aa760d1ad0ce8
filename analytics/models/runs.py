"""A scoring run, and the id-range chunks its workers take.

A run fits the models once (on everyone's aggregates, or a sample of them where it says so), then splits the
members into chunks of consecutive ids that any worker may take. A chunk is claimed with a lease, its scores
are written in the same transaction that marks it done, and only while the chunk still carries the claim's
token; so a chunk whose worker died is taken up again once its lease lapses, and no member is scored twice or
left out. The last chunk to finish closes the run.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    FITTING = "fitting", _("Fitting the models")
    SCORING = "scoring", _("Scoring members")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


UNFINISHED_RUN = [RunStatus.QUEUED, RunStatus.FITTING, RunStatus.SCORING]


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("The nightly schedule")
    PAGE = "page", _("The scoring page")
    COMMAND = "command", _("The run_scoring command")


class ScoringRunManager(models.Manager):
    def get_queryset(self):
        # The fitted models run to tens of megabytes: read only where asked for (services.scoring.run_fitted).
        return super().get_queryset().defer("fitted")


class ScoringRun(models.Model):
    status = models.CharField(_("status"), max_length=10, choices=RunStatus, default=RunStatus.QUEUED)
    as_of = models.DateTimeField(_("scored as of"))
    # The run's settings (windows, horizon, discount rate, churn period, chunk size): what its figures mean.
    params = models.JSONField(_("settings"), default=dict)
    trigger = models.CharField(_("started from"), max_length=10, choices=RunTrigger, default=RunTrigger.SCHEDULE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("fit attempts"), default=0)
    chunks_total = models.PositiveIntegerField(_("chunks"), default=0)
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)
    members = models.PositiveIntegerField(_("members scored"), default=0)
    # What the fit found and how well it did: RFM edges, model parameters, the holdout check, churn AUC and
    # baselines, recommendation hit rate, segment counts and movement since the previous run.
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    # The fitted churn and recommendation models the chunks apply (pickled by analytics.churn/recommend;
    # written and read only by this project's own workers).
    fitted = models.BinaryField(_("fitted models"), null=True, blank=True, editable=False)
    message = models.TextField(_("message"), blank=True)

    objects = ScoringRunManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("scoring run")
        verbose_name_plural = _("scoring runs")
        constraints = [
            # At most one run at a time: two would write the same members' current scores.
            models.UniqueConstraint(
                models.Value(True),
                condition=models.Q(status__in=["queued", "fitting", "scoring"]),
                name="scoring_run_one_unfinished",
                violation_error_message=_("A scoring run is already under way."),
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.as_of:%Y-%m-%d} {self.status}"

    @property
    def progress(self) -> int:
        """Per cent of chunks done."""
        return 100 * self.chunks_done // self.chunks_total if self.chunks_total else 0

    @property
    def duration(self):
        return self.finished_at - self.started_at if self.finished_at and self.started_at else None


class ChunkStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class ScoringChunk(models.Model):
    """Members with lo <= id < hi, scored together by one worker."""

    run = models.ForeignKey(ScoringRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField(_("number"))
    lo = models.BigIntegerField(_("from id"))
    hi = models.BigIntegerField(_("to id (excluded)"))
    status = models.CharField(_("status"), max_length=10, choices=ChunkStatus, default=ChunkStatus.PENDING)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)  # the claim's token and lease start
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    members = models.PositiveIntegerField(_("members scored"), default=0)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["run", "number"]
        verbose_name = _("scoring chunk")
        verbose_name_plural = _("scoring chunks")
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="scoring_chunk_unique")]

    def __str__(self):
        return f"{self.run_id}/{self.number} [{self.lo}, {self.hi}) {self.status}"
